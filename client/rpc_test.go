package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// fault is the in-test behaviour of one server.
type fault struct {
	delay     atomic.Int64 // ns added to every call
	failEvery atomic.Int64 // fail every n-th call (0 = never)
	blackHole atomic.Bool  // never answer
	calls     atomic.Int64
}

type staticResolver struct {
	mu    sync.Mutex
	addrs []string
}

func (r *staticResolver) Lookup(context.Context, string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...), nil
}

// startServers starts n real Grenache HTTP RPC servers on loopback.
func startServers(t *testing.T, n int) ([]string, []*fault) {
	t.Helper()
	stop := make(chan struct{})
	var addrs []string
	var faults []*fault
	var srvs []*transport.HTTPServer
	var wg sync.WaitGroup
	for range n {
		f := &fault{}
		h := func(ctx context.Context, key string, payload json.RawMessage) (any, error) {
			k := f.calls.Add(1)
			if f.blackHole.Load() {
				select {
				case <-ctx.Done():
				case <-stop:
				}
				return nil, ctx.Err()
			}
			if d := f.delay.Load(); d > 0 {
				select {
				case <-time.After(time.Duration(d)):
				case <-stop:
				}
			}
			if e := f.failEvery.Load(); e > 0 && k%e == 0 {
				return nil, errors.New("ERR_INJECTED")
			}
			return payload, nil
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := transport.NewHTTPServer(h, transport.HTTPServerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ln) }()
		addrs = append(addrs, ln.Addr().String())
		faults = append(faults, f)
		srvs = append(srvs, srv)
	}
	t.Cleanup(func() {
		close(stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, s := range srvs {
			_ = s.Shutdown(ctx)
		}
		wg.Wait()
	})
	return addrs, faults
}

func newTestClient(t *testing.T, addrs []string, mod func(*Config)) *Client {
	t.Helper()
	cfg := DefaultConfig()
	cfg.RequestTimeout = 2 * time.Second
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(&staticResolver{addrs: addrs}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

type loadResult struct {
	ok, failed int
	lat        []time.Duration
	perPeer    map[string]int
	attempts   atomic.Int64
}

func (r *loadResult) p(q float64) time.Duration {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	return r.lat[int(q*float64(len(r.lat)-1))]
}

func (r *loadResult) over(d time.Duration) float64 {
	n := 0
	for _, l := range r.lat {
		if l >= d {
			n++
		}
	}
	return float64(n) / float64(len(r.lat))
}

// drive sends n requests with the given concurrency and records latency.
func drive(t *testing.T, addrs []string, strategy string, n, conc int, mod func(*Config)) *loadResult {
	t.Helper()
	res := &loadResult{perPeer: map[string]int{}}
	var mu sync.Mutex
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.Strategy = strategy
		cfg.Hooks.OnAttempt = func(e AttemptEvent) {
			res.attempts.Add(1)
			mu.Lock()
			res.perPeer[e.Addr]++
			mu.Unlock()
		}
		if mod != nil {
			mod(cfg)
		}
	})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				start := time.Now()
				_, err := c.Request(context.Background(), "svc", map[string]int{"x": 1})
				d := time.Since(start)
				mu.Lock()
				if err != nil {
					res.failed++
				} else {
					res.ok++
				}
				res.lat = append(res.lat, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res
}

func TestRequestRoutesAroundSlowPeer(t *testing.T) {
	addrs, faults := startServers(t, 4)
	faults[0].delay.Store(int64(50 * time.Millisecond))
	const n = 1000
	start := time.Now()
	ad := drive(t, addrs, StrategyAdaptive, n, 4, nil)
	mid := time.Now()
	rr := drive(t, addrs, StrategyRoundRobin, n, 4, nil)
	t.Logf("adaptive run %v, round-robin run %v", mid.Sub(start), time.Since(mid))
	adShare := float64(ad.perPeer[addrs[0]]) / float64(ad.attempts.Load())
	rrShare := float64(rr.perPeer[addrs[0]]) / float64(rr.attempts.Load())
	t.Logf("slow peer share: adaptive %.3f, round-robin %.3f; p99 adaptive %v, round-robin %v",
		adShare, rrShare, ad.p(0.99), rr.p(0.99))
	if ad.failed+rr.failed != 0 {
		t.Fatalf("failures: adaptive %d, rr %d", ad.failed, rr.failed)
	}
	if adShare > rrShare/5 {
		t.Fatalf("adaptive sent %.3f to the slow peer, round robin %.3f", adShare, rrShare)
	}
	// Tail: the share of requests at least as slow as the slow peer. Ratios,
	// not absolute times, so a loaded machine does not fail the test.
	if a, r := ad.over(50*time.Millisecond), rr.over(50*time.Millisecond); a > r/3 {
		t.Fatalf("requests >= 50ms: adaptive %.3f, round robin %.3f", a, r)
	}
}

func TestRequestRetriesAroundFailingPeer(t *testing.T) {
	addrs, faults := startServers(t, 4)
	faults[1].failEvery.Store(2)
	const n = 1000
	ad := drive(t, addrs, StrategyAdaptive, n, 8, nil)
	rr := drive(t, addrs, StrategyRoundRobin, n, 8, nil)
	perReqAd := float64(ad.attempts.Load()) / n
	perReqRR := float64(rr.attempts.Load()) / n
	t.Logf("attempts/request adaptive %.3f, round-robin %.3f; failed %d/%d", perReqAd, perReqRR, ad.failed, rr.failed)
	if ad.failed != 0 {
		t.Fatalf("adaptive: %d of %d failed despite retries", ad.failed, n)
	}
	if perReqAd > 1.1 {
		t.Fatalf("adaptive used %.3f attempts per request", perReqAd)
	}
}

func TestRequestSurvivesBlackHole(t *testing.T) {
	addrs, faults := startServers(t, 4)
	faults[2].blackHole.Store(true)
	const n = 1000
	// A request whose attempt meets the black hole waits the attempt
	// timeout, so a p99 at or over it says ≥ 1% of requests did (the
	// defect). At 200 ms the machine alone came near it: a loaded -race
	// host stalling 8 concurrent requests gave p99 190 ms with 4 hits. At
	// 1 s a stall would have to hold 10 requests for a second; the 2-4
	// hits a correct client makes cost under a second of test time.
	const attemptTimeout = time.Second
	ad := drive(t, addrs, StrategyAdaptive, n, 8, func(c *Config) {
		c.AttemptTimeout = attemptTimeout
		c.BreakerProbeTimeout = attemptTimeout
	})
	t.Logf("black hole: failed %d, attempts to it %d, p50 %v p99 %v", ad.failed, ad.perPeer[addrs[2]], ad.p(0.5), ad.p(0.99))
	if ad.failed != 0 {
		t.Fatalf("%d requests failed", ad.failed)
	}
	if hits := ad.perPeer[addrs[2]]; hits > n/100 {
		t.Fatalf("black hole got %d attempts of %d requests", hits, n)
	}
	if ad.p(0.99) >= attemptTimeout {
		t.Fatalf("p99 %v reached the attempt timeout", ad.p(0.99))
	}
}

func TestMapAndErrors(t *testing.T) {
	addrs, faults := startServers(t, 3)
	c := newTestClient(t, addrs, nil)
	ctx := context.Background()
	res, err := c.Map(ctx, "svc", json.RawMessage(`{"a":1}`))
	if err != nil || len(res) != 3 {
		t.Fatalf("map: %v %v", res, err)
	}
	for _, r := range res {
		if string(r) != `{"a":1}` {
			t.Fatalf("map result %s", r)
		}
	}
	faults[1].failEvery.Store(1)
	_, err = c.Map(ctx, "svc", 1)
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_INJECTED" {
		t.Fatalf("map with a failing peer: %v", err)
	}
	// Every peer failing: the request fails after MaxRetries+1 attempts on distinct peers.
	for _, f := range faults {
		f.failEvery.Store(1)
	}
	_, err = c.Request(ctx, "svc", 1)
	var reqErr *RequestError
	if !errors.As(err, &reqErr) || !errors.As(err, &re) || reqErr.Attempts < 3 {
		t.Fatalf("all failing: %v", err)
	}
	st := c.Stats("svc")
	if len(st) != 3 || st[1].Errors == 0 {
		t.Fatalf("stats %+v", st)
	}
	if got := c.Services(); len(got) != 1 || got[0] != "svc" {
		t.Fatalf("services %v", got)
	}
	// Unknown service: no peers.
	empty, err := New(&staticResolver{}, DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := empty.Request(ctx, "none", 1); !errors.Is(err, transport.ErrNoPeers) {
		t.Fatalf("no peers: %v", err)
	}
	_ = empty.Close()
	if _, err := empty.Request(ctx, "none", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func TestBackgroundRefreshDrainsAndAdmits(t *testing.T) {
	addrs, _ := startServers(t, 3)
	r := &staticResolver{addrs: addrs[:2]}
	cfg := DefaultConfig()
	cfg.RefreshInterval = 20 * time.Millisecond
	c, err := New(r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Request(context.Background(), "svc", 1); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.addrs = addrs[1:]
	r.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := c.Stats("svc")
		active := map[string]bool{}
		for _, s := range st {
			active[s.Addr] = s.Active
		}
		if active[addrs[2]] && !active[addrs[0]] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("refresh did not swap peers: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCallerCancelIsNotThePeersFault(t *testing.T) {
	addrs, faults := startServers(t, 2)
	// The peers would answer after 10 s (the delay ends early at cleanup)
	// and an attempt times out after 5 s (RequestTimeout/4): a request that
	// ignores its caller's cancel at 50 ms takes at least 5 s. The 2 s
	// bound is 40× the cancel delay, room for a loaded -race host.
	for _, f := range faults {
		f.delay.Store(int64(10 * time.Second))
	}
	c := newTestClient(t, addrs, func(cfg *Config) { cfg.RequestTimeout = 20 * time.Second })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Request(ctx, "svc", 1)
	if err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("canceled request: %v after %v", err, time.Since(start))
	}
	for _, st := range c.Stats("svc") {
		if st.Errors+st.Timeouts != 0 || st.ErrorRate != 0 || st.InFlight != 0 {
			t.Fatalf("caller's cancel counted against %s: %+v", st.Addr, st)
		}
	}
}

func TestNoBudgetNoRetry(t *testing.T) {
	addrs, faults := startServers(t, 3)
	for _, f := range faults {
		f.failEvery.Store(1)
	}
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.RetryBudgetRatio, cfg.RetryBudgetMinPerSec = 0, 0
	})
	// The bucket starts with MinPerSec tokens (0 here): no request may retry.
	for range 5 {
		_, err := c.Request(context.Background(), "svc", 1)
		var re *RequestError
		if !errors.As(err, &re) || re.Attempts != 1 {
			t.Fatalf("retry without budget: %v", err)
		}
	}
}

func TestHedgeCutsTheSlowPeersTail(t *testing.T) {
	addrs, faults := startServers(t, 2)
	// Without a hedge a request on the slow peer waits for its attempt
	// timeout, 2 s; with it, the 20 ms hedge delay plus a fast answer. The
	// 1 s bound is 50× that, room for a loaded -race host.
	faults[0].delay.Store(int64(10 * time.Second))
	var timeouts, others atomic.Int64
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.Strategy = StrategyRoundRobin // every other request starts on the slow peer
		cfg.RequestTimeout = 20 * time.Second
		cfg.AttemptTimeout = 2 * time.Second
		cfg.HedgeAfter = 20 * time.Millisecond
		cfg.RetryBudgetRatio = 1
		cfg.BreakerOff = true // keep the slow peer in the rotation
		cfg.Hooks.OnAttempt = func(e AttemptEvent) {
			if e.Addr == addrs[0] {
				switch e.Outcome {
				case Timeout:
					timeouts.Add(1)
				case Success:
				default:
					others.Add(1)
				}
			}
		}
	})
	for i := range 10 {
		start := time.Now()
		res, err := c.Request(context.Background(), "svc", i)
		if err != nil || string(res) != fmt.Sprint(i) {
			t.Fatalf("request %d: %s %v", i, res, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("request %d took %v despite the hedge", i, d)
		}
	}
	// The losers ran on, detached, to their attempt timeout: the slow
	// peer's real outcome is recorded although no request waited for it.
	deadline := time.Now().Add(10 * time.Second)
	for timeouts.Load() < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if timeouts.Load() != 5 || others.Load() != 0 {
		t.Fatalf("slow peer: %d timeouts recorded (want the 5 detached losers), %d other outcomes", timeouts.Load(), others.Load())
	}
}

// Retries only go to peers this request has not tried: with every peer
// failing, each is asked once, and a one-peer service is asked once.
func TestRetriesNeverRepeatAPeer(t *testing.T) {
	for _, n := range []int{1, 3} {
		addrs, faults := startServers(t, n)
		c := newTestClient(t, addrs, nil)
		for _, f := range faults {
			f.failEvery.Store(1)
		}
		_, err := c.Request(context.Background(), "svc", 1)
		var reqErr *RequestError
		if !errors.As(err, &reqErr) || reqErr.Attempts != n {
			t.Fatalf("%d peers all failing: want %d attempts, got %v", n, n, err)
		}
		for i, f := range faults {
			if got := f.calls.Load(); got != 1 {
				t.Errorf("%d peers: peer %d was called %d times, want 1", n, i, got)
			}
		}
	}
}

// The default client hedges without a HedgeAfter: once the service has
// enough samples (200 for p99), an attempt slower than the service's p99
// gets a copy on another peer. A non-idempotent service
// (RetryRemoteErrors off) is never sent a second copy.
func TestAdaptiveHedgeIsOnByDefaultWhereSafe(t *testing.T) {
	for _, idempotent := range []bool{true, false} {
		addrs, faults := startServers(t, 2)
		c := newTestClient(t, addrs, func(cfg *Config) {
			cfg.Strategy = StrategyRoundRobin // every other request starts on peer 0
			cfg.RetryRemoteErrors = idempotent
			cfg.RetryBudgetRatio = 1
		})
		for i := range 250 { // evidence: ~1 ms answers
			if _, err := c.Request(context.Background(), "svc", i); err != nil {
				t.Fatal(err)
			}
		}
		// Peer 0 now takes 400 ms. With the hedge a request waits for the
		// p99 of the warm-up (a few ms on loopback, tens under -race)
		// plus a fast answer; without it, 400 ms. 200 ms splits the two
		// with room on either side.
		faults[0].delay.Store(int64(400 * time.Millisecond))
		var slowest time.Duration
		for i := range 4 {
			start := time.Now()
			if _, err := c.Request(context.Background(), "svc", i); err != nil {
				t.Fatal(err)
			}
			slowest = max(slowest, time.Since(start))
		}
		if idempotent && slowest > 200*time.Millisecond {
			t.Errorf("idempotent: slowest request %v, want the hedge to answer well before 400 ms", slowest)
		}
		if !idempotent && slowest < 400*time.Millisecond {
			t.Errorf("not idempotent: slowest request %v: a second copy was sent", slowest)
		}
	}
}

// Close ends the hedge losers still running after their requests
// returned, and records them as canceled, not as the peer's failures.
func TestCloseEndsDetachedHedgeLosers(t *testing.T) {
	addrs, faults := startServers(t, 2)
	faults[0].delay.Store(int64(10 * time.Second))
	var canceled, others atomic.Int64
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.Strategy = StrategyRoundRobin
		cfg.RequestTimeout = 20 * time.Second
		cfg.AttemptTimeout = 10 * time.Second
		cfg.HedgeAfter = 20 * time.Millisecond
		cfg.Hooks.OnAttempt = func(e AttemptEvent) {
			if e.Addr == addrs[0] {
				if e.Outcome == Canceled {
					canceled.Add(1)
				} else {
					others.Add(1)
				}
			}
		}
	})
	for i := range 2 { // one of the two starts on the slow peer
		if _, err := c.Request(context.Background(), "svc", i); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	// Close must not wait for the loser's 10 s attempt timeout.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if canceled.Load() != 1 || others.Load() != 0 {
		t.Fatalf("slow peer: %d canceled (want the loser), %d other outcomes", canceled.Load(), others.Load())
	}
}

// A hedge that meets a failing peer is replaced at once by a copy on
// another untried peer: the request does not fall back to waiting for the
// slow copy it hedged.
func TestFailedHedgeIsReplaced(t *testing.T) {
	addrs, faults := startServers(t, 3)
	faults[0].delay.Store(int64(10 * time.Second))
	faults[1].failEvery.Store(1)
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.Strategy = StrategyRoundRobin
		cfg.RequestTimeout = 20 * time.Second
		cfg.AttemptTimeout = 5 * time.Second
		cfg.HedgeAfter = 20 * time.Millisecond
		cfg.RetryBudgetRatio = 2
		cfg.BreakerOff = true
	})
	// Every third request starts on the slow peer, and its hedge goes to
	// the failing one whenever round robin is there next. The 1 s bound
	// is far below the 5 s the slow copy would take.
	for i := range 9 {
		start := time.Now()
		if _, err := c.Request(context.Background(), "svc", i); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("request %d took %v", i, d)
		}
	}
}

// A hedged request that runs out of time records its copies as timeouts:
// the attempt context no longer inherits the request's cancellation, so it
// carries the request's deadline itself.
func TestHedgedRequestDeadlineIsATimeout(t *testing.T) {
	addrs, faults := startServers(t, 2)
	for _, f := range faults {
		f.delay.Store(int64(10 * time.Second))
	}
	var outcomes sync.Map
	c := newTestClient(t, addrs, func(cfg *Config) {
		cfg.RequestTimeout = 300 * time.Millisecond
		cfg.AttemptTimeout = 300 * time.Millisecond
		cfg.HedgeAfter = 20 * time.Millisecond
		cfg.Hooks.OnAttempt = func(e AttemptEvent) {
			n, _ := outcomes.LoadOrStore(e.Outcome, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
		}
	})
	if _, err := c.Request(context.Background(), "svc", 1); err == nil {
		t.Fatal("request succeeded")
	}
	outcomes.Range(func(k, v any) bool {
		if k.(Outcome) != Timeout {
			t.Errorf("%d attempts recorded as %v, want timeouts", v.(*atomic.Int64).Load(), k)
		}
		return true
	})
	if n, ok := outcomes.Load(Timeout); !ok || n.(*atomic.Int64).Load() != 2 {
		t.Fatalf("want both copies recorded as timeouts")
	}
}
