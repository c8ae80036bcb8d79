package client

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestDecayApproximatesExp(t *testing.T) {
	tau := int64(time.Second)
	prev := 2.0
	for _, x := range []float64{0, 0.1, 0.5, 1, 2, 5, 20, 100} {
		d := decay(int64(x*float64(tau)), tau)
		if d > prev || d < 0 || d > 1 {
			t.Fatalf("decay(%g) = %g not monotone in [0,1]", x, d)
		}
		prev = d
		if x <= 1 && math.Abs(d-math.Exp(-x)) > 0.03 {
			t.Fatalf("decay(%g) = %g, exp = %g", x, d, math.Exp(-x))
		}
	}
}

func TestPeakEWMAJumpsUpAndFadesBack(t *testing.T) {
	b, s, clk := newTestCore(t, 1, nil)
	p := s.snapshot()[0]
	rec := func(lat time.Duration, o Outcome) {
		tk, _ := b.pick(s, nil)
		clk.advance(lat)
		b.record(tk, o)
	}
	if p.latency(&b.m, clk.now()) != -1 {
		t.Fatal("no sample should mean unknown latency")
	}
	for range 50 {
		rec(time.Millisecond, Success)
	}
	if l := p.latency(&b.m, clk.now()); math.Abs(l-1e6) > 1e3 {
		t.Fatalf("steady latency %v, want 1ms", time.Duration(l))
	}
	rec(20*time.Millisecond, Success)
	base := p.latBase.Load()
	if l := p.latency(&b.m, clk.now()); l < 0.95*peakCap*base || l > peakCap*base+1 {
		t.Fatalf("peak not taken at once (capped at %dx the baseline %v): %v", peakCap, time.Duration(base), time.Duration(l))
	}
	clk.advance(b.m.peakDuration())
	mid := p.latency(&b.m, clk.now())
	if want := base + (peakCap-1)*base*math.Exp(-1); math.Abs(mid-want) > 0.05*want {
		t.Fatalf("after one decay constant: %v, want %v", time.Duration(mid), time.Duration(want))
	}
	clk.advance(10 * b.m.peakDuration())
	if l := p.latency(&b.m, clk.now()); l > 1.01*base {
		t.Fatalf("peak did not fade back to the baseline: %v", time.Duration(l))
	}
	// The baseline is time-weighted: after a quiet spell one sample moves it most of the way.
	clk.advance(5 * time.Second)
	rec(10*time.Millisecond, Success)
	if b := p.latBase.Load(); b < 9.9e6 {
		t.Fatalf("baseline after a quiet spell and one 10ms sample: %v", time.Duration(b))
	}
}

func TestFastFailuresDoNotLookFast(t *testing.T) {
	b, s, clk := newTestCore(t, 2, noBreaker)
	good, bad := s.snapshot()[0], s.snapshot()[1]
	for range 20 {
		tk, _ := b.claim(good, clk.now())
		clk.advance(5 * time.Millisecond)
		b.record(tk, Success)
		tk, _ = b.claim(bad, clk.now())
		clk.advance(100 * time.Microsecond)
		b.record(tk, TransportError)
	}
	if bad.samples.Load() != 0 {
		t.Fatal("failures must not feed latency")
	}
	if h := bad.health(&b.m, clk.now()); h < 5 {
		t.Fatalf("failing peer health multiplier %g, want a large penalty", h)
	}
	// The stale evidence fades toward the neutral prior.
	clk.advance(10 * time.Duration(b.m.staleAfter))
	if h := bad.health(&b.m, clk.now()); h > 1.1 {
		t.Fatalf("stale errors still weigh %g", h)
	}
}

func TestInFlightAgeRaisesLatency(t *testing.T) {
	b, s, clk := newTestCore(t, 1, nil)
	p := s.snapshot()[0]
	tk, _ := b.pick(s, nil)
	clk.advance(time.Millisecond)
	b.record(tk, Success)
	hung, _ := b.pick(s, nil)
	clk.advance(300 * time.Millisecond)
	if l := p.effLatency(&b.m, clk.now()); l < 290e6 {
		t.Fatalf("a request stuck for 300ms should raise latency, got %v", time.Duration(l))
	}
	b.record(hung, Canceled)
	if l := p.effLatency(&b.m, clk.now()); l > 2e6 {
		t.Fatalf("canceled attempt should not count: %v", time.Duration(l))
	}
}

func TestRetryBudget(t *testing.T) {
	r := newRetryBudget(0.2, 0, false)
	now := int64(time.Hour)
	for range 100 {
		r.deposit(now)
	}
	n := 0
	for r.withdraw(now) {
		n++
	}
	if n != 20 {
		t.Fatalf("100 requests at 20%% allow %d retries, want 20", n)
	}
	r = newRetryBudget(0.2, 10, false)
	r.withdraw(now) // start the clock
	for r.withdraw(now) {
	}
	now += int64(time.Second)
	n = 0
	for r.withdraw(now) {
		n++
	}
	if n != 10 {
		t.Fatalf("one second at 10/s gave %d retries, want 10", n)
	}
	// A long quiet spell cannot bank a storm.
	now += int64(time.Hour)
	n = 0
	for r.withdraw(now) {
		n++
	}
	if n > 100 {
		t.Fatalf("budget banked %d retries over an idle hour", n)
	}
}

func TestConfigValidation(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig()
	c.LatencyWeight = 0.5
	err := c.Validate()
	ce, ok := err.(*ConfigError)
	if !ok || len(ce.Fields()) != 4 || ce.Allowed == "" {
		t.Fatalf("weights not summing to 1 accepted: %v", err)
	}
	c = DefaultConfig()
	c.BreakerHalfOpenMaxRequests = 0
	if ce, ok := c.Validate().(*ConfigError); !ok || ce.Field != "BreakerHalfOpenMaxRequests" || ce.Allowed != "1..1000" {
		t.Fatalf("got %v", c.Validate())
	}
	c = DefaultConfig()
	c.RequestTimeout = 0
	if err := c.Validate(); err == nil || err.Error() != "invalid client.Config.RequestTimeout 0s; allowed 1ms..1h0m0s" {
		t.Fatalf("zero timeout: %v", err)
	}
	c = DefaultConfig()
	c.BreakerMaxCooldown = c.BreakerCooldown / 2
	if ce, ok := c.Validate().(*ConfigError); !ok || ce.Field != "BreakerMaxCooldown" || !strings.Contains(ce.Allowed, "cooldown (10s)") {
		t.Fatalf("max cooldown below the cooldown: %v", c.Validate())
	}
}

// Stats and PeerView count the evidence behind the rates: recent outcomes
// and failures, decayed with StaleAfter, and the age of the last one; a
// breaker's recovery forgets the rates, not what happened.
func TestEvidenceCountsDecayWithStaleAfter(t *testing.T) {
	b, s, clk := newTestCore(t, 2, noBreaker)
	p := s.snapshot()[0]
	for _, o := range []Outcome{Success, Success, Success, RemoteError, Canceled} {
		tk, _ := b.claim(p, clk.now())
		b.record(tk, o)
	}
	clk.advance(10 * time.Second) // StaleAfter: one e-fold
	st := b.stats(s.snapshot(), nil, clk.now())
	if got := st[0]; math.Abs(got.Samples-4/math.E) > 1e-6 || math.Abs(got.Failures-1/math.E) > 1e-6 || got.Freshness != 10*time.Second {
		t.Fatalf("stats %+v: want 4/e samples (a cancel is no outcome), 1/e failures, freshness 10s", got)
	}
	if got := st[1]; got.Samples != 0 || got.Failures != 0 || got.Freshness != -1 {
		t.Fatalf("unused peer %+v: want no evidence and freshness -1", got)
	}
	v := Peers{b: b, list: s.snapshot(), now: clk.now()}.Peer(0)
	if math.Abs(v.Samples()-4/math.E) > 1e-6 || v.Freshness() != 10*time.Second {
		t.Fatalf("PeerView samples %v freshness %v", v.Samples(), v.Freshness())
	}
}
