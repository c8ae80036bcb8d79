package client

import (
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
		return HintAdvice{Factor: 1}
	}
	return f.adv
}

func TestHintFactorRaisesCostOnlyUpward(t *testing.T) {
	run := func(adv HintAdvice) []int {
		b, s, clk := newTestCore(t, 4, func(c *Config) {
			c.Hints = &fakeHints{addr: addrs(4)[0], adv: adv}
		})
		return simulate(b, s, clk, 4000, 4*time.Millisecond, healthy(time.Millisecond))
	}
	plain := run(HintAdvice{Factor: 1})
	nudged := run(HintAdvice{Factor: 2})
	cheaper := run(HintAdvice{Factor: 0.25})
	t.Logf("peer with factor 2: %d of 4000 (plain %d)", nudged[0], plain[0])
	if nudged[0]*4 > plain[0] {
		t.Fatalf("factor 2 left the peer %d of 4000 (plain %d)", nudged[0], plain[0])
	}
	if r := ratio(cheaper); r > 1.25 {
		t.Fatalf("a factor below 1 changed the balance: %v", cheaper)
	}
}

func TestHintDeferProbeSkipsFreshnessProbes(t *testing.T) {
	// A quiet client (2 req/s) and a peer failing half its requests: at
	// loopback latencies its own metrics barely separate the peer, and what
	// reaches it is mostly the freshness probe (a factor alone does not
	// stop those), which DeferProbe holds back.
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
	plain := run(HintAdvice{Factor: 1})
	factor := run(HintAdvice{Factor: 2})
	deferred := run(HintAdvice{Factor: 2, DeferProbe: true})
	t.Logf("failing peer of 240 requests: %d plain, %d with factor 2, %d with factor 2 and deferred probes", plain, factor, deferred)
	if factor > plain || deferred*4 > factor {
		t.Fatalf("want plain >= factor >= 4×deferred: %d, %d, %d", plain, factor, deferred)
	}
}

func TestHintsIgnoredByBaselineStrategies(t *testing.T) {
	for _, st := range []string{StrategyRoundRobin, StrategyRandom} {
		h := &fakeHints{addr: addrs(4)[0], adv: HintAdvice{Factor: 4, DeferProbe: true}}
		b, s, clk := newTestCore(t, 4, func(c *Config) { c.Strategy = st; c.Hints = h })
		simulate(b, s, clk, 100, time.Millisecond, healthy(time.Millisecond))
		if h.asked != 0 {
			t.Fatalf("%s consulted the hint source", st)
		}
	}
}
