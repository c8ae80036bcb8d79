package client

import (
	"errors"
	"strings"
	"testing"
)

// firstEligible is a policy registered by a test, as a program would.
type firstEligible struct{}

func (firstEligible) Pick(ps Peers) int {
	for i := range ps.Len() {
		if ps.Eligible(i) {
			return i
		}
	}
	return -1
}

func init() {
	RegisterPolicy("test-first", func() Policy { return firstEligible{} }, "the first eligible peer (test)")
	RegisterPolicy("test-bad", func() Policy { return badPolicy{} }, "returns an invalid index (test)")
}

func TestRegisteredPolicyIsUsableAndListed(t *testing.T) {
	found := false
	for _, p := range Policies() {
		found = found || (p.Name == "test-first" && p.Help != "")
	}
	if !found || !strings.Contains(PolicyNames(), "test-first") {
		t.Fatalf("registered policy not listed: %v", Policies())
	}
	b, s, clk := newTestCore(t, 3, func(c *Config) { c.Strategy = "test-first" })
	counts := simulate(b, s, clk, 20, 0, healthy(1e6))
	if counts[0] != 20 {
		t.Fatalf("picks %v, want all 20 on peer 0", counts)
	}
}

func TestUnknownPolicyNamesTheRegistry(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Strategy = "fastest"
	var ce *ConfigError
	if err := cfg.Validate(); !errors.As(err, &ce) || ce.Field != "Strategy" {
		t.Fatalf("Validate: %v, want a ConfigError for Strategy", err)
	}
	for _, p := range Policies() {
		if !strings.Contains(ce.Allowed, p.Name) {
			t.Errorf("allowed %q lacks registered policy %q", ce.Allowed, p.Name)
		}
	}
	for _, name := range []string{StrategyAdaptive, StrategyRoundRobin, StrategyRandom} {
		if !strings.Contains(ce.Allowed, name) {
			t.Errorf("allowed %q lacks %q", ce.Allowed, name)
		}
	}
}

func TestRegisterPolicyRejectsDuplicates(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("registering adaptive twice did not panic")
		}
	}()
	RegisterPolicy(StrategyAdaptive, func() Policy { return adaptive{} }, "again")
}

// A policy answering out of range does not crash the engine: it falls back
// to the least bad peer.
type badPolicy struct{}

func (badPolicy) Pick(ps Peers) int { return ps.Len() + 7 }

func TestOutOfRangePickFallsBack(t *testing.T) {
	b, s, _ := newTestCore(t, 3, func(c *Config) { c.Strategy = "test-bad" })
	if tk, ok := b.pick(s, nil); !ok || tk.p == nil {
		t.Fatal("no fallback pick")
	}
}

// PeerView reads what the engine recorded.
func TestPeerViewReadsMetrics(t *testing.T) {
	b, s, clk := newTestCore(t, 2, noBreaker)
	p := s.snapshot()[0]
	for range 5 {
		tk, _ := b.claim(p, clk.now())
		clk.advance(3e6)
		b.record(tk, RemoteError)
	}
	tk, _ := b.claim(p, clk.now())
	clk.advance(2e6)
	ps := Peers{b: b, list: s.snapshot(), now: clk.now()}
	v := ps.Peer(0)
	if v.Addr() != p.addr || v.InFlight() != 1 || v.InFlightAge() != 2e6 || v.ErrorRate() <= 0 || v.TimeoutRate() != 0 ||
		v.Breaker() != Closed || v.Freshness() != 2e6 || v.Latency() != -1 || v.Score() >= ps.Peer(1).Score() {
		t.Errorf("view: addr %s inflight %d age %v err %g to %g br %v fresh %v lat %v score %g (other %g)",
			v.Addr(), v.InFlight(), v.InFlightAge(), v.ErrorRate(), v.TimeoutRate(), v.Breaker(), v.Freshness(),
			v.Latency(), v.Score(), ps.Peer(1).Score())
	}
	b.record(tk, Success)
	if v := (Peers{b: b, list: s.snapshot(), now: clk.now()}).Peer(0); v.Latency() != 2e6 {
		t.Errorf("latency after one 2 ms success: %v", v.Latency())
	}
	if ps.Peer(1).Freshness() != -1 {
		t.Errorf("a peer without outcomes has freshness %v, want -1", ps.Peer(1).Freshness())
	}
}
