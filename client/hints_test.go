package client

import (
	"math"
	"sync"
	"testing"
	"time"
)

// fakeHints returns fixed advice for one address and records what it saw.
type fakeHints struct {
	addr  string
	adv   HintAdvice
	mu    sync.Mutex
	asked int
}

func (f *fakeHints) Advise(service, addr string, _ time.Time) HintAdvice {
	f.mu.Lock()
	f.asked++
	f.mu.Unlock()
	if addr != f.addr || service != "svc" {
		return HintAdvice{}
	}
	return f.adv
}

// peerAt returns the peer of s with address addr.
func peerAt(s *service, addr string) *peer {
	for _, p := range s.snapshot() {
		if p.addr == addr {
			return p
		}
	}
	return nil
}

// recordN records n outcomes o on p at the clock's current time.
func recordN(b *balancer, clk *testClock, p *peer, n int, o Outcome) {
	for range n {
		t, _ := b.claim(p, clk.now())
		b.record(t, o)
	}
}

// A hint judges a pick with probability Weight/(Weight+n), n the client's
// own decayed outcome count on the peer: it decides everything for a client
// that never used the peer and fades continuously as evidence accumulates,
// and the same evidence counts for less as it ages.
func TestHintWeighsAsAPriorOfWeightOutcomes(t *testing.T) {
	const k = 10.0
	adv := HintAdvice{FailureRate: 0.4, Weight: k}
	for _, c := range []struct {
		own  int
		age  time.Duration
		want float64
	}{
		{0, 0, 1},
		{10, 0, 0.5},
		{90, 0, 0.1},
		{990, 0, 0.01},
		// Evidence decays with StaleAfter (10 s): 90 outcomes 10 s ago
		// weigh 90/e ≈ 33.
		{90, 10 * time.Second, k / (k + 90/math.E)},
	} {
		b, s, clk := newTestCore(t, 4, func(cfg *Config) { cfg.Hints = &fakeHints{addr: addrs(4)[0], adv: adv} })
		p := peerAt(s, addrs(4)[0])
		recordN(b, clk, p, c.own, Success)
		clk.advance(c.age)
		const draws = 20000
		judged := 0
		for range draws {
			if b.hint(p, clk.now()).judged {
				judged++
			}
		}
		got := float64(judged) / draws
		if math.Abs(got-c.want) > 0.02 {
			t.Errorf("%d own outcomes %v ago: hint judged %.3f of picks, want %.3f", c.own, c.age, got, c.want)
		}
	}
}

// What a hint adds is the failure share above the peer's own, weighed as
// the mean of an error and a timeout; a hint at or below the peer's own rate,
// or without weight, adds nothing (it never makes a peer look better).
func TestHintRaisesTheFailureCostOnlyAboveOwnRate(t *testing.T) {
	for _, c := range []struct {
		name      string
		adv       HintAdvice
		ownErrors int // of 10 outcomes
		wantExtra float64
	}{
		{"no own evidence", HintAdvice{FailureRate: 0.4, Weight: 1e9}, 0, 0.4},
		{"capped at 1", HintAdvice{FailureRate: 7, Weight: 1e9}, 0, 1},
		{"own rate higher", HintAdvice{FailureRate: 0.05, Weight: 1e9}, 10, 0},
		{"no weight", HintAdvice{FailureRate: 0.4}, 0, 0},
		{"NaN weight", HintAdvice{FailureRate: 0.4, Weight: math.NaN()}, 0, 0},
		{"NaN rate", HintAdvice{FailureRate: math.NaN(), Weight: 1e9}, 0, 0},
	} {
		b, s, clk := newTestCore(t, 4, func(cfg *Config) {
			noBreaker(cfg)
			cfg.Hints = &fakeHints{addr: addrs(4)[0], adv: c.adv}
		})
		p := peerAt(s, addrs(4)[0])
		recordN(b, clk, p, c.ownErrors, RemoteError)
		h := b.hint(p, clk.now())
		if math.Abs(h.extra-c.wantExtra) > 1e-9 {
			t.Errorf("%s: extra failure share %v, want %v", c.name, h.extra, c.wantExtra)
		}
		want := p.health(&b.m, clk.now()) + b.m.penalty*0.5*c.wantExtra
		if got := b.hintedHealth(p, h, clk.now()); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: hinted health %v, want %v", c.name, got, want)
		}
	}
}

// A hint is confirmed — the peer's freshness probe may wait, and it loses
// its ties — only by this client's own recent failures on the peer, and
// while the prior with its own outcomes, (Weight·FailureRate + f)/(Weight +
// n), is at least half the hint's rate: never by the hint alone, nor by a
// busy client's rare error on a peer a liar slanders.
func TestOnlyOwnFailuresConfirmAHint(t *testing.T) {
	adv := HintAdvice{FailureRate: 0.4, Weight: 10}
	for _, c := range []struct {
		name             string
		fails, successes int
		age              time.Duration
		want             bool
	}{
		{"no own outcome", 0, 0, 0, false},
		{"only successes", 0, 20, 0, false},
		{"one failure", 1, 0, 0, true},
		{"3 of 10 failed", 3, 7, 0, true},
		{"1 of 10 failed: with the prior 25%, above half the hint's 40%", 1, 9, 0, true},
		{"1 of 40 failed: with the prior 10%, own evidence outweighs it", 1, 39, 0, false},
		{"1 of 500 failed (a busy client)", 1, 499, 0, false},
		{"one failure 35 s ago", 1, 0, 35 * time.Second, true},
		{"one failure 45 s ago, past the floor", 1, 0, 45 * time.Second, false},
	} {
		b, s, clk := newTestCore(t, 4, func(cfg *Config) {
			noBreaker(cfg)
			cfg.Hints = &fakeHints{addr: addrs(4)[0], adv: adv}
		})
		p := peerAt(s, addrs(4)[0])
		recordN(b, clk, p, c.successes, Success)
		recordN(b, clk, p, c.fails, RemoteError)
		clk.advance(c.age)
		if got := b.hint(p, clk.now()).confirmed; got != c.want {
			t.Errorf("%s: confirmed %v, want %v", c.name, got, c.want)
		}
	}
	b, s, clk := newTestCore(t, 4, func(cfg *Config) { cfg.Hints = &fakeHints{addr: addrs(4)[0]} })
	p := peerAt(s, addrs(4)[0])
	recordN(b, clk, p, 1, RemoteError)
	if b.hint(p, clk.now()).confirmed {
		t.Error("own failures confirmed a hint that says nothing")
	}
}

// The case the prior exists for: a quiet client (2 req/s), a peer failing
// half its requests and a hint that says so. At loopback latencies its own
// metrics barely separate the peer, and what reaches it is mostly the
// freshness probe, which a hint may hold back only once this client saw the
// peer fail. A hint as strong as a busy client's cuts its share several
// times; one that stops counting after a few own outcomes would not.
func TestHintKeepsAQuietClientOffAFailingPeer(t *testing.T) {
	run := func(adv HintAdvice) int {
		b, s, clk := newTestCore(t, 4, func(c *Config) { c.Hints = &fakeHints{addr: addrs(4)[0], adv: adv} })
		k := 0
		counts := simulate(b, s, clk, 240, 500*time.Millisecond, func(i int) (time.Duration, Outcome) {
			if i == 0 {
				k++
				if k%2 == 0 {
					return time.Millisecond, RemoteError
				}
			}
			return time.Millisecond, Success
		})
		return counts[0]
	}
	plain := run(HintAdvice{})
	hinted := run(HintAdvice{FailureRate: 0.4, Weight: 10})
	t.Logf("failing peer of 240 requests: %d plain, %d with the hint", plain, hinted)
	if hinted*4 > plain {
		t.Fatalf("with the hint %d, plain %d: want at most a quarter", hinted, plain)
	}
}

// A wrong hint (a liar's) about a healthy peer: a quiet client keeps
// probing it (it saw nothing bad), and a busy one at latencies far above
// the balance slack, where a cost difference is never a tie, gathers the
// evidence that outweighs the hint instead of locking the peer out. Both
// give it at least half its fair share, and no breaker opens.
func TestAWrongHintCannotStarveAHealthyPeer(t *testing.T) {
	for _, c := range []struct {
		name    string
		gap     time.Duration
		latency time.Duration
		n       int
	}{
		{"quiet, loopback", 500 * time.Millisecond, time.Millisecond, 240},
		{"busy, loopback", 20 * time.Millisecond, time.Millisecond, 6000},
		{"busy, 20 ms", 0, 20 * time.Millisecond, 6000},
	} {
		b, s, clk := newTestCore(t, 4, func(cfg *Config) {
			cfg.Hints = &fakeHints{addr: addrs(4)[1], adv: HintAdvice{FailureRate: 1, Weight: 20}}
		})
		counts := simulate(b, s, clk, c.n, c.gap, func(int) (time.Duration, Outcome) { return c.latency, Success })
		fair := c.n / 4
		t.Logf("%s: slandered peer got %d of %d (fair %d)", c.name, counts[1], c.n, fair)
		if counts[1]*2 < fair {
			t.Errorf("%s: slandered peer got %d, want at least half of %d", c.name, counts[1], fair)
		}
		for _, p := range s.snapshot() {
			if p.br.state() != Closed {
				t.Errorf("%s: breaker of %s is %v", c.name, p.addr, p.br.state())
			}
		}
	}
}

func TestHintsIgnoredByBaselineStrategies(t *testing.T) {
	for _, st := range []string{StrategyRoundRobin, StrategyRandom, StrategyLeastRequest} {
		h := &fakeHints{addr: addrs(4)[0], adv: HintAdvice{FailureRate: 1, Weight: 100}}
		b, s, clk := newTestCore(t, 4, func(c *Config) { c.Strategy = st; c.Hints = h })
		simulate(b, s, clk, 100, time.Millisecond, healthy(time.Millisecond))
		if h.asked != 0 {
			t.Fatalf("%s consulted the hint source", st)
		}
	}
}
