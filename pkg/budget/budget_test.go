package budget

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

func mustNew(t *testing.T, total int64, wait time.Duration) *Budget {
	t.Helper()
	b, err := New(total, wait)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewRejectsNonPositive(t *testing.T) {
	if _, err := New(0, time.Second); err == nil {
		t.Fatal("New(0) succeeded")
	}
}

func TestLeaseGrowAndRelease(t *testing.T) {
	b := mustNew(t, 1000, 0)
	l := b.NewLease()
	ctx := context.Background()
	if err := l.Grow(ctx, 600); err != nil {
		t.Fatal(err)
	}
	if err := l.Grow(ctx, 400); err != nil || l.Held() != 600 {
		t.Fatalf("shrinking Grow: err %v held %d", err, l.Held())
	}
	other := b.NewLease()
	if err := other.Add(ctx, 401); !errors.Is(err, ErrBusy) {
		t.Fatalf("over budget without wait: got %v, want ErrBusy", err)
	}
	if other.Held() != 0 {
		t.Fatalf("failed Add left %d held", other.Held())
	}
	if err := other.Add(ctx, 400); err != nil {
		t.Fatal(err)
	}
	if b.InUse() != 1000 {
		t.Fatalf("InUse %d, want 1000", b.InUse())
	}
	l.Release()
	l.Release() // idempotent
	other.Release()
	if b.InUse() != 0 {
		t.Fatalf("InUse %d after release, want 0", b.InUse())
	}
}

func TestMoreThanTotalFailsAtOnce(t *testing.T) {
	b := mustNew(t, 100, time.Hour)
	l := b.NewLease()
	start := time.Now()
	if err := l.Grow(context.Background(), 101); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("an impossible request waited")
	}
}

func TestWaitIsBoundedAndGetsReleasedBytes(t *testing.T) {
	b := mustNew(t, 100, 50*time.Millisecond)
	ctx := context.Background()
	hog := b.NewLease()
	if err := hog.Grow(ctx, 100); err != nil {
		t.Fatal(err)
	}
	l := b.NewLease()
	if err := l.Grow(ctx, 10); !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v, want ErrBusy after the wait", err)
	}
	// A release during the wait is handed to the waiter.
	b2 := mustNew(t, 100, 10*time.Second)
	hog2 := b2.NewLease()
	_ = hog2.Grow(ctx, 100)
	done := make(chan error, 1)
	go func() { l2 := b2.NewLease(); err := l2.Grow(ctx, 60); l2.Release(); done <- err }()
	time.Sleep(10 * time.Millisecond)
	hog2.Release()
	if err := <-done; err != nil {
		t.Fatalf("waiter after release: %v", err)
	}
}

func TestWaitEndsWithContext(t *testing.T) {
	b := mustNew(t, 10, time.Hour)
	hog := b.NewLease()
	_ = hog.Grow(context.Background(), 10)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	l := b.NewLease()
	if err := l.Grow(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the context's error", err)
	}
}

func TestNilBudgetIsUnlimited(t *testing.T) {
	var b *Budget
	l := b.NewLease()
	if err := l.Grow(context.Background(), 1<<40); err != nil {
		t.Fatal(err)
	}
	l.Release()
	if b.Total() != 0 || b.InUse() != 0 {
		t.Fatal("nil budget reports bytes")
	}
}

// oneByteThenBlock is a body that claims a lot and sends one byte.
type oneByteThenBlock struct{ sent bool }

func (r *oneByteThenBlock) Read(p []byte) (int, error) {
	if r.sent {
		return 0, errors.New("peer stalled")
	}
	r.sent = true
	p[0] = 'x'
	return 1, nil
}

func TestReadAllLeasesWhatArrives(t *testing.T) {
	b := mustNew(t, 1<<20, 0)
	l := b.NewLease()
	buf, err := ReadAll(context.Background(), &l, nil, &oneByteThenBlock{}, 8<<20)
	if err == nil || len(buf) != 1 {
		t.Fatalf("got %d bytes, err %v", len(buf), err)
	}
	if l.Held() != MinChunk {
		t.Fatalf("one byte received, %d bytes leased; want %d", l.Held(), MinChunk)
	}
	l.Release()
}

func TestReadAllGrowsToAtMostTwiceReceived(t *testing.T) {
	b := mustNew(t, 1<<20, 0)
	for _, n := range []int{0, 1, 511, 512, 513, 5000, 100000} {
		l := b.NewLease()
		src := bytes.Repeat([]byte{'a'}, n)
		buf, err := ReadAll(context.Background(), &l, nil, bytes.NewReader(src), 1<<19)
		if err != nil || !bytes.Equal(buf, src) {
			t.Fatalf("n=%d: err %v, got %d bytes", n, err, len(buf))
		}
		if l.Held() < int64(cap(buf)) || l.Held() > max(2*int64(n), MinChunk) {
			t.Fatalf("n=%d: held %d for cap %d", n, l.Held(), cap(buf))
		}
		l.Release()
	}
}

func TestReadAllStopsOneBytePastLimit(t *testing.T) {
	b := mustNew(t, 1<<20, 0)
	l := b.NewLease()
	defer l.Release()
	buf, err := ReadAll(context.Background(), &l, nil, strings.NewReader(strings.Repeat("z", 10000)), 1000)
	if err != nil || len(buf) != 1001 {
		t.Fatalf("got %d bytes, err %v; want 1001", len(buf), err)
	}
	if l.Held() != 1001 {
		t.Fatalf("held %d, want 1001 (never past limit+1)", l.Held())
	}
}

func TestReadAllReusesAndLeasesPooledCapacity(t *testing.T) {
	b := mustNew(t, 1<<20, 0)
	l := b.NewLease()
	defer l.Release()
	pooled := make([]byte, 0, 4096)
	buf, err := ReadAll(context.Background(), &l, pooled, strings.NewReader("hi"), 100)
	if err != nil || string(buf) != "hi" {
		t.Fatal(err)
	}
	if l.Held() != 101 || cap(buf) != 101 {
		t.Fatalf("held %d cap %d; want both 101", l.Held(), cap(buf))
	}
}

func TestReadAllBusyStopsReading(t *testing.T) {
	b := mustNew(t, 1000, 0)
	hog := b.NewLease()
	_ = hog.Grow(context.Background(), 800)
	l := b.NewLease()
	_, err := ReadAll(context.Background(), &l, nil, io.MultiReader(strings.NewReader(strings.Repeat("q", 5000))), 8000)
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("got %v, want ErrBusy", err)
	}
	l.Release()
	hog.Release()
	if b.InUse() != 0 {
		t.Fatalf("InUse %d", b.InUse())
	}
}

func TestReadAllAddsToWhatTheLeaseHolds(t *testing.T) {
	b := mustNew(t, 1<<20, 0)
	l := b.NewLease()
	defer l.Release()
	raw, err := ReadAll(context.Background(), &l, nil, strings.NewReader(strings.Repeat("r", 3000)), 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	first := l.Held()
	plain, err := ReadAll(context.Background(), &l, nil, strings.NewReader(strings.Repeat("p", 3000)), 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	if l.Held() != first+int64(cap(plain)) || first != int64(cap(raw)) {
		t.Fatalf("held %d; want %d + %d", l.Held(), first, cap(plain))
	}
}

// Moved from the grape's own body reader, which this replaced.
func TestReadAllOneByteReads(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 8192, 8193, 20000} {
		src := bytes.Repeat([]byte{'x'}, n)
		// One byte per Read, so the loop's growth and limit are exercised.
		var l Lease
		got, err := ReadAll(context.Background(), &l, make([]byte, 0, 4), iotest.OneByteReader(bytes.NewReader(src)), 8192)
		if err != nil {
			t.Fatal(err)
		}
		want := min(n, 8193)
		if len(got) != want || !bytes.Equal(got, src[:want]) {
			t.Errorf("%d-byte body: read %d bytes, want %d", n, len(got), want)
		}
	}
	var l Lease
	if _, err := ReadAll(context.Background(), &l, nil, iotest.ErrReader(iotest.ErrTimeout), 10); err == nil {
		t.Error("read error not returned")
	}
}
