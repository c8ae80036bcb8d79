package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// pickerServer is one real loopback Grenache HTTP server whose behaviour a
// test switches at run time.
type pickerServer struct {
	addr  string
	delay atomic.Int64 // ns added to every call
	fail  atomic.Bool  // every call returns a handler error
	calls atomic.Int64
}

// startPickerServers starts n servers and drains them at cleanup.
func startPickerServers(t *testing.T, n int) []*pickerServer {
	t.Helper()
	var out []*pickerServer
	for range n {
		s := &pickerServer{}
		h := func(ctx context.Context, _ string, payload json.RawMessage) (any, error) {
			s.calls.Add(1)
			if d := s.delay.Load(); d > 0 {
				select {
				case <-time.After(time.Duration(d)):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			if s.fail.Load() {
				return nil, errors.New("ERR_INJECTED")
			}
			return payload, nil
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := transport.NewHTTPServer(h)
		done := make(chan struct{})
		go func() { defer close(done); _ = srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			<-done
		})
		s.addr = ln.Addr().String()
		out = append(out, s)
	}
	return out
}

// pickerPeers is a resolver with a fixed answer.
type pickerPeers []string

func (p pickerPeers) Lookup(context.Context, string) ([]string, error) {
	return append([]string(nil), p...), nil
}

func addrsOf(srvs []*pickerServer) pickerPeers {
	var out pickerPeers
	for _, s := range srvs {
		out = append(out, s.addr)
	}
	return out
}

func newPickerRequester(t *testing.T, srvs []*pickerServer, p transport.Picker) *transport.Requester {
	t.Helper()
	hc := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 2 * time.Second})
	t.Cleanup(hc.Close)
	return transport.NewRequester(addrsOf(srvs), hc, p)
}

// drive sends n requests from 4 workers (single attempt each) and returns
// the share of calls the bad server took and the mean request latency.
func drive(t *testing.T, q *transport.Requester, srvs []*pickerServer, bad int, n int) (share float64, mean time.Duration) {
	t.Helper()
	before := make([]int64, len(srvs))
	for i, s := range srvs {
		before[i] = s.calls.Load()
	}
	var next atomic.Int64
	var total atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				start := time.Now()
				_, _ = q.Request(context.Background(), "svc", "x", transport.RequestOptions{Retry: 1})
				total.Add(int64(time.Since(start)))
			}
		})
	}
	wg.Wait()
	var all int64
	for i, s := range srvs {
		all += s.calls.Load() - before[i]
	}
	if all == 0 {
		t.Fatal("no calls reached the servers")
	}
	return float64(srvs[bad].calls.Load()-before[bad]) / float64(all), time.Duration(total.Load() / int64(n))
}

// compareWithRandom warms up and measures an adaptive Requester and a
// RandomPicker one over the same servers, server 0 being the bad one.
func compareWithRandom(t *testing.T, srvs []*pickerServer) (adaptive, random float64, adLat, rndLat time.Duration) {
	t.Helper()
	var attempts atomic.Int64
	cfg := client.DefaultConfig()
	cfg.Hooks.OnAttempt = func(client.AttemptEvent) { attempts.Add(1) }
	ap, err := client.NewPicker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	aq := newPickerRequester(t, srvs, ap)
	rq := newPickerRequester(t, srvs, transport.RandomPicker{})
	start := callsOf(srvs)
	drive(t, aq, srvs, 0, 60) // warm-up: the adaptive picker learns
	adaptive, adLat = drive(t, aq, srvs, 0, 240)
	adCalls := callsOf(srvs) - start
	drive(t, rq, srvs, 0, 40)
	random, rndLat = drive(t, rq, srvs, 0, 240)

	// Every done callback was recorded: one attempt per call, none in flight.
	if got := attempts.Load(); got != adCalls {
		t.Errorf("OnAttempt saw %d attempts for %d calls", got, adCalls)
	}
	var sum uint64
	for _, st := range ap.Stats("svc") {
		sum += st.Attempts
		if st.InFlight != 0 {
			t.Errorf("%s: %d still in flight", st.Addr, st.InFlight)
		}
	}
	if int64(sum) != adCalls {
		t.Errorf("Stats count %d attempts for %d calls", sum, adCalls)
	}
	return adaptive, random, adLat, rndLat
}

func callsOf(srvs []*pickerServer) int64 {
	var n int64
	for _, s := range srvs {
		n += s.calls.Load()
	}
	return n
}

func TestPickerAvoidsSlowPeer(t *testing.T) {
	srvs := startPickerServers(t, 3)
	srvs[0].delay.Store(int64(50 * time.Millisecond))
	ad, rnd, adLat, rndLat := compareWithRandom(t, srvs)
	t.Logf("slow peer share: adaptive %.3f random %.3f; mean latency adaptive %v random %v", ad, rnd, adLat, rndLat)
	// Random sends it about a third; adaptive almost nothing after warm-up.
	if rnd < 0.15 || ad > 0.05 || ad*5 > rnd {
		t.Errorf("slow peer share: adaptive %.3f vs random %.3f", ad, rnd)
	}
	if adLat*2 > rndLat {
		t.Errorf("mean latency: adaptive %v not under half of random %v", adLat, rndLat)
	}
}

func TestPickerAvoidsFailingPeer(t *testing.T) {
	srvs := startPickerServers(t, 3)
	srvs[0].fail.Store(true)
	ad, rnd, _, _ := compareWithRandom(t, srvs)
	t.Logf("failing peer share: adaptive %.3f random %.3f", ad, rnd)
	// The breaker opened during warm-up (cooldown 10 s > the test).
	if rnd < 0.15 || ad > 0.02 || ad*5 > rnd {
		t.Errorf("failing peer share: adaptive %.3f vs random %.3f", ad, rnd)
	}
}

func TestPickerExcludesTriedPeers(t *testing.T) {
	p, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	peers := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}
	for range 100 {
		addr, done, err := p.Pick("svc", peers, peers[:2])
		if err != nil || addr != peers[2] {
			t.Fatalf("picked %q (%v) with %v tried", addr, err, peers[:2])
		}
		done(transport.CallResult{})
	}
	// Everyone tried: it still answers with one of the peers.
	addr, done, err := p.Pick("svc", peers, peers)
	if err != nil || !slices.Contains(peers, addr) {
		t.Fatalf("exhausted pick %q %v", addr, err)
	}
	done(transport.CallResult{})
	if _, _, err := p.Pick("svc", nil, nil); !errors.Is(err, transport.ErrNoPeers) {
		t.Fatalf("no peers: %v", err)
	}
}

func TestPickerRetriesThroughRequesterOnUntriedPeers(t *testing.T) {
	srvs := startPickerServers(t, 3)
	srvs[0].fail.Store(true)
	srvs[1].fail.Store(true)
	p, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := newPickerRequester(t, srvs, p)
	for range 30 {
		before := []int64{srvs[0].calls.Load(), srvs[1].calls.Load(), srvs[2].calls.Load()}
		res, err := q.Request(context.Background(), "svc", "hi", transport.RequestOptions{Retry: 3})
		if err != nil || string(res) != `"hi"` {
			t.Fatalf("%s %v", res, err)
		}
		for i, s := range srvs {
			if d := s.calls.Load() - before[i]; d > 1 {
				t.Fatalf("server %d called %d times in one request", i, d)
			}
		}
	}
}

func TestPickerDoneOnceAndOutcomes(t *testing.T) {
	var mu sync.Mutex
	var outcomes []client.Outcome
	cfg := client.DefaultConfig()
	cfg.Hooks.OnAttempt = func(e client.AttemptEvent) {
		mu.Lock()
		outcomes = append(outcomes, e.Outcome)
		mu.Unlock()
	}
	p, err := client.NewPicker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	peers := []string{"127.0.0.1:1"}
	errs := []error{
		nil,
		&transport.RemoteError{Msg: "ERR_X"},
		&transport.CallError{Kind: transport.ErrTimeout, Err: context.DeadlineExceeded},
		&transport.CallError{Kind: transport.ErrTransport, Err: errors.New("refused")},
		&transport.CallError{Kind: transport.ErrTransport, Err: context.Canceled},
	}
	for _, e := range errs {
		_, done, err := p.Pick("svc", peers, nil)
		if err != nil {
			t.Fatal(err)
		}
		done(transport.CallResult{Err: e})
		done(transport.CallResult{Err: e}) // ignored
	}
	want := []client.Outcome{client.Success, client.RemoteError, client.Timeout, client.TransportError, client.Canceled}
	if !slices.Equal(outcomes, want) {
		t.Fatalf("outcomes %v, want %v", outcomes, want)
	}
	st := p.Stats("svc")[0]
	if st.Attempts != 5 || st.InFlight != 0 || st.Successes != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestClientPickerSharesStateAndCloses(t *testing.T) {
	srvs := startPickerServers(t, 2)
	c, err := client.New(addrsOf(srvs), client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := newPickerRequester(t, srvs, c.Picker())
	for range 10 {
		if _, err := q.Request(context.Background(), "svc", 1, transport.RequestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var n uint64
	for _, st := range c.Stats("svc") {
		n += st.Successes
	}
	if n != 10 {
		t.Fatalf("client stats saw %d successes, want 10", n)
	}
	_ = c.Close()
	if _, err := q.Request(context.Background(), "svc", 1, transport.RequestOptions{}); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestPickerFollowsMembership(t *testing.T) {
	p, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	pick := func(peers ...string) string {
		addr, done, err := p.Pick("svc", peers, nil)
		if err != nil {
			t.Fatal(err)
		}
		done(transport.CallResult{})
		return addr
	}
	pick("127.0.0.1:1", "127.0.0.1:2")
	pick("127.0.0.1:2", "127.0.0.1:1") // reordered: same members
	for range 20 {
		if a := pick("127.0.0.1:3"); a != "127.0.0.1:3" {
			t.Fatalf("picked vanished peer %s", a)
		}
	}
	active := 0
	for _, st := range p.Stats("svc") {
		if st.Active {
			active++
			if st.Addr != "127.0.0.1:3" {
				t.Fatalf("%s still active", st.Addr)
			}
		}
	}
	if active != 1 {
		t.Fatalf("%d active peers, want 1", active)
	}
}

// BenchmarkPickerPickDone measures one Pick plus its done over 8 peers, the
// per-attempt overhead the adapter adds to a Requester.
func BenchmarkPickerPickDone(b *testing.B) {
	p, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	peers := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3", "127.0.0.1:4",
		"127.0.0.1:5", "127.0.0.1:6", "127.0.0.1:7", "127.0.0.1:8"}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_, done, err := p.Pick("svc", peers, nil)
			if err != nil {
				b.Error(err)
				return
			}
			done(transport.CallResult{})
		}
	})
}
