package gossip

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/internal/hostile"
)

// maxSizeMessage is a message from origin i of n hints whose origin id and
// peers are all the longest allowed (64 bytes).
func maxSizeMessage(clk *fakeClock, i, n int) *Message {
	origin := fmt.Sprintf("o%05d-", i) + strings.Repeat("o", maxOriginLen-7)
	hs := make([]Hint, n)
	for j := range hs {
		host := fmt.Sprintf("h%05d-%05d-", i, j) + strings.Repeat("h", maxPeerLen-19)
		hs[j] = deg(host+":65535", 1)
	}
	return msg(clk, origin, 1, hs...)
}

// Filled with maximum-size origins and peers at counts far above what the
// budget holds (256 origins × 1024 hints of 64 bytes, ~67 MB charged), the
// book stays within MaxBookBytes, counted and on the heap (10% slack),
// keeps the origins it already had and rejects the rest as over the limit.
func TestBookByteBudget(t *testing.T) {
	const budget = 4 << 20
	before := hostile.LiveHeap()
	b, clk := newBook(t, func(c *Config) {
		c.MaxOrigins, c.MaxPeers, c.MaxBookBytes = 256, 1024, budget
	})
	first := maxSizeMessage(clk, 0, 1024)
	applied, limited := 0, 0
	for i := 0; i < 48; i++ {
		switch v := ingest(t, b, fmt.Sprintf("127.0.0.1:%d", 10000+i), maxSizeMessage(clk, i, 1024)); v {
		case Applied:
			applied++
		case RejectedLimit:
			limited++
		default:
			t.Fatalf("message %d: verdict %v", i, v)
		}
		if n := b.Bytes(); n > budget {
			t.Fatalf("after %d messages the book is charged %d bytes, budget %d", i+1, n, budget)
		}
	}
	if applied == 0 || limited == 0 {
		t.Fatalf("applied %d, rejected for the limit %d: the budget did not bind", applied, limited)
	}
	if deg, _ := b.Pressure(first.Hints[0].Peer); deg == 0 {
		t.Error("an established origin lost its hints to the flood")
	}
	held := hostile.LiveHeap() - before
	t.Logf("heap held %d", held)
	if held > budget*11/10 {
		t.Errorf("the book holds %d heap bytes, budget %d", held, budget)
	}
	runtime.KeepAlive(b)
	t.Logf("%d origins applied, %d rejected; %d bytes charged", applied, limited, b.Bytes())

	// Short peers at the default counts: the counts bind, and the heap
	// stays within what is charged.
	before = hostile.LiveHeap()
	b, clk = newBook(t)
	for i := 0; i < 64; i++ {
		hs := make([]Hint, 512)
		for j := range hs {
			hs[j] = ok(fmt.Sprintf("10.%d.%d.%d:1", i, j/256, j%256), 1)
		}
		wantVerdict(t, ingest(t, b, fmt.Sprintf("127.0.0.1:%d", 20000+i), msg(clk, fmt.Sprintf("origin-%d", i), 1, hs...)), Applied)
	}
	held, charged := hostile.LiveHeap()-before, b.Bytes()
	t.Logf("default counts: heap %d, charged %d", held, charged)
	if held > uint64(charged)*11/10 {
		t.Errorf("default counts: %d heap bytes held, %d charged", held, charged)
	}
	runtime.KeepAlive(b)
}

// An origin's charge follows its latest message and leaves with it.
func TestBookBytesFollowOrigins(t *testing.T) {
	b, clk := newBook(t)
	ingest(t, b, "127.0.0.1:1", msg(clk, "a", 1, deg(peerX, 1), ok("127.0.0.1:7002", 1)))
	two := b.Bytes()
	ingest(t, b, "127.0.0.1:1", msg(clk, "a", 2, deg(peerX, 1)))
	if one := b.Bytes(); one >= two || one <= 0 {
		t.Fatalf("charge %d after one hint, %d after two", one, two)
	}
	clk.Advance(b.cfg.HintTTL + 1)
	b.mu.Lock()
	b.expireLocked(clk.Now())
	b.mu.Unlock()
	if n := b.Bytes(); n != len("127.0.0.1:1")+bookBucketCost {
		t.Fatalf("after expiry the book is charged %d, want only the limiter bucket", n)
	}
}
