package client

import (
	"testing"
	"time"
)

func TestTailBucketEdges(t *testing.T) {
	// Every value lies in its bucket: lower edge ≤ v < upper edge, and the
	// upper edge is at most 25% above the value (4 buckets per octave).
	for us := int64(4); us < 1<<27; us = us*9/8 + 1 {
		i := tailBucket(us)
		up := tailUpper(i)
		if us >= up || (i > 0 && us < tailUpper(i-1)) {
			t.Fatalf("%d µs in bucket %d with upper edge %d (previous %d)", us, i, up, tailUpper(i-1))
		}
		if float64(up) > 1.25*float64(us)+1 {
			t.Fatalf("%d µs reads as %d: more than 25%% above", us, up)
		}
	}
	if tailBucket(0) != 0 || tailBucket(1<<40) != tailBuckets-1 {
		t.Fatal("out-of-range values are not clamped")
	}
}

// feed observes n samples of latency d spread over [from, from+span).
func feed(e *tailEstimator, n int, d time.Duration, from, span int64) {
	for i := range n {
		e.observe(int64(d), from+span*int64(i)/int64(n))
	}
}

func TestTailQuantileFollowsTheService(t *testing.T) {
	var e tailEstimator
	now := int64(time.Second)
	minN := tailMinSamples(0.99)
	if minN != 200 {
		t.Fatalf("p99 needs %d samples, want 200", minN)
	}
	// Too little evidence: no reading, so no hedge.
	feed(&e, 100, 2*time.Millisecond, now, 1e9)
	if v := e.quantile(0.99, minN, now+1e9); v != 0 {
		t.Fatalf("reading %v from 100 samples", time.Duration(v))
	}
	// The reading appears as soon as the samples do, cache or not.
	feed(&e, 100, 2*time.Millisecond, now+1e9+1, 1)
	if v := e.quantile(0.99, minN, now+1e9+2); v == 0 {
		t.Fatal("no reading from 200 samples within the cache's lifetime")
	}
	// 990 fast (2 ms) and 10 slow (60 ms): p99 is the fast mode's edge,
	// p99.5 the slow one.
	feed(&e, 790, 2*time.Millisecond, now+1e9, 1e9)
	feed(&e, 10, 60*time.Millisecond, now+2e9, 1e8)
	at := now + 3e9
	if v := time.Duration(e.quantile(0.99, minN, at)); v < 2*time.Millisecond || v > 2500*time.Microsecond {
		t.Fatalf("p99 %v, want 2-2.5 ms", v)
	}
	// Cached for tailRefresh: a burst of slow samples does not show at once...
	feed(&e, 1000, 60*time.Millisecond, at, 1e6)
	if v := time.Duration(e.quantile(0.99, minN, at+tailRefresh-1)); v > 2500*time.Microsecond {
		t.Fatalf("reading changed within its refresh: %v", v)
	}
	// ...but does after it.
	if v := time.Duration(e.quantile(0.99, minN, at+tailRefresh)); v < 60*time.Millisecond || v > 75*time.Millisecond {
		t.Fatalf("p99 %v after half the samples turned slow, want 60-75 ms", v)
	}
	// Two windows later the slow spell is forgotten: the service is fast again.
	later := at + 2*tailWindow
	feed(&e, 500, 3*time.Millisecond, later, 1e9)
	if v := time.Duration(e.quantile(0.99, minN, later+1e9)); v < 3*time.Millisecond || v > 3750*time.Microsecond {
		t.Fatalf("p99 %v after the slow spell aged out, want 3-3.75 ms", v)
	}
	// A quiet spell longer than two windows leaves no evidence at all.
	if v := e.quantile(0.99, minN, later+1e9+3*tailWindow); v != 0 {
		t.Fatalf("reading %v after a quiet spell", time.Duration(v))
	}
}

func TestHedgeRule(t *testing.T) {
	warm := func() *tailEstimator {
		var e tailEstimator
		feed(&e, 1000, 4*time.Millisecond, 1, 1e9)
		return &e
	}
	to := 100 * time.Millisecond
	cfg := DefaultConfig()
	if d, ok := newHedgeRule(cfg).delay(warm(), 1e9, to); !ok || d < 4*time.Millisecond || d > 5*time.Millisecond {
		t.Fatalf("default: hedge %v %v, want on at the p99 (4-5 ms)", d, ok)
	}
	if _, ok := newHedgeRule(cfg).delay(&tailEstimator{}, 1e9, to); ok {
		t.Fatal("hedged without evidence")
	}
	if _, ok := newHedgeRule(cfg).delay(warm(), 1e9, 4*time.Millisecond); ok {
		t.Fatal("hedged at or past the attempt timeout")
	}
	floor := cfg
	floor.HedgeMin = 20 * time.Millisecond
	if d, _ := newHedgeRule(floor).delay(warm(), 1e9, to); d != 20*time.Millisecond {
		t.Fatalf("floor: %v", d)
	}
	for name, mod := range map[string]func(*Config){
		"not idempotent": func(c *Config) { c.RetryRemoteErrors = false },
		"no retries":     func(c *Config) { c.MaxRetries = 0 },
		"quantile 0":     func(c *Config) { c.HedgeQuantile = 0 },
		"plain":          func(c *Config) { *c = PlainConfig() },
	} {
		c := DefaultConfig()
		mod(&c)
		if _, ok := newHedgeRule(c).delay(warm(), 1e9, to); ok {
			t.Errorf("%s: hedged", name)
		}
	}
	// A fixed HedgeAfter is the caller's explicit choice: it applies
	// without evidence.
	fixed := DefaultConfig()
	fixed.HedgeAfter = 7 * time.Millisecond
	if d, ok := newHedgeRule(fixed).delay(&tailEstimator{}, 1e9, to); !ok || d != 7*time.Millisecond {
		t.Fatalf("fixed: %v %v", d, ok)
	}
}

func TestHedgeQuantileValidate(t *testing.T) {
	for _, q := range []float64{-0.1, 0.3, 0.99999, 1} {
		c := DefaultConfig()
		c.HedgeQuantile = q
		if err := c.Validate(); err == nil {
			t.Errorf("HedgeQuantile %g accepted", q)
		}
	}
	for _, q := range []float64{0, 0.5, 0.95, 0.9999} {
		c := DefaultConfig()
		c.HedgeQuantile = q
		if err := c.Validate(); err != nil {
			t.Errorf("HedgeQuantile %g: %v", q, err)
		}
	}
}

// A hedge loser canceled when it could not be detached is censored
// evidence: its latency is at least its elapsed time. It raises the peer's
// estimate, never lowers it, and is no failure.
func TestOutpacedLoserIsCensoredLatency(t *testing.T) {
	b, s, clk := newTestCore(t, 2, nil)
	p := s.snapshot()[0]
	for range 20 { // the peer answers in 2 ms
		tk, _ := b.claim(p, clk.now())
		clk.advance(2 * time.Millisecond)
		b.record(tk, Success)
	}
	before := p.latency(&b.m, clk.now())
	tk, _ := b.claim(p, clk.now())
	clk.advance(50 * time.Millisecond)
	tk.outpaced = true
	b.record(tk, Canceled)
	// The peak counts at most twice the baseline (peakCap), and the
	// baseline took the sample with its time weight: well above 2 ms.
	if after := p.latency(&b.m, clk.now()); after < 2*before {
		t.Fatalf("latency %v -> %v after a loser outpaced at 50 ms", time.Duration(before), time.Duration(after))
	}
	if p.errRate.Load() != 0 || p.toRate.Load() != 0 {
		t.Fatal("an outpaced loser counted as a failure")
	}
	// A loser quicker than the estimate says nothing new.
	lat := p.latency(&b.m, clk.now())
	tk, _ = b.claim(p, clk.now())
	clk.advance(time.Millisecond)
	tk.outpaced = true
	b.record(tk, Canceled)
	if got := p.latency(&b.m, clk.now()); got < lat*0.9 {
		t.Fatalf("a 1 ms loser lowered the latency from %v to %v", time.Duration(lat), time.Duration(got))
	}
	// A plain cancel (the caller's) is no evidence.
	q := s.snapshot()[1]
	tk, _ = b.claim(q, clk.now())
	clk.advance(50 * time.Millisecond)
	b.record(tk, Canceled)
	if q.latency(&b.m, clk.now()) != -1 {
		t.Fatal("a caller's cancel fed the latency")
	}
}

// The first retry leaves no later than a hedge would have: one hedge
// delay after the failed attempt started. Later retries, and clients that
// do not hedge, back off in full.
func TestFirstRetryCap(t *testing.T) {
	clk := &testClock{t: int64(time.Hour)}
	for _, idempotent := range []bool{true, false} {
		cfg := DefaultConfig()
		cfg.now = clk.now
		cfg.RetryRemoteErrors = idempotent
		c, err := New(&staticResolver{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		s := newService("svc")
		feed(&s.tail, 1000, 4*time.Millisecond, clk.now()-1e9, 1e9)
		to := time.Second
		started := clk.now() - int64(time.Millisecond)
		got := c.firstRetryCap(s, 1, to, started)
		switch {
		case !idempotent && got != -1:
			t.Errorf("not idempotent: cap %v, want none", got)
		case idempotent && (got < 3*time.Millisecond || got > 4*time.Millisecond):
			t.Errorf("cap %v, want the 4-5 ms hedge delay less the 1 ms elapsed", got)
		}
		if idempotent {
			if got := c.firstRetryCap(s, 1, to, clk.now()-int64(time.Second)); got != 0 {
				t.Errorf("attempt older than the hedge delay: cap %v, want 0 (no wait)", got)
			}
			if got := c.firstRetryCap(s, 2, to, started); got != -1 {
				t.Errorf("second retry: cap %v, want none", got)
			}
		}
		_ = c.Close()
	}
}
