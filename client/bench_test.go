package client

import (
	"fmt"
	"testing"
	"time"
)

// benchCore builds a balancer with the real clock and n warmed-up peers;
// each mod changes the config first.
func benchCore(b *testing.B, n int, strategy string, mod ...func(*Config)) (*balancer, *service) {
	cfg := DefaultConfig()
	cfg.Strategy = strategy
	for _, m := range mod {
		m(&cfg)
	}
	bal := newBalancer(cfg)
	s := newService("svc")
	s.update(addrs(n), cfg.MaxPeers, bal.now())
	for _, p := range s.snapshot() {
		t, _ := bal.claim(p, bal.now())
		bal.record(t, Success)
	}
	return bal, s
}

// BenchmarkPick measures one pick (plus releasing the in-flight slot so the
// state stays steady; that is two atomic adds).
func BenchmarkPick(b *testing.B) {
	for _, st := range []string{StrategyAdaptive, StrategyRoundRobin, StrategyRandom, StrategyLeastRequest} {
		for _, n := range []int{5, 100, 1000} {
			b.Run(fmt.Sprintf("%s/peers=%d", st, n), func(b *testing.B) {
				bal, s := benchCore(b, n, st)
				b.ReportAllocs()
				for b.Loop() {
					t, _ := bal.pick(s, nil)
					t.p.inflight.Add(-1)
					t.p.startSum.Add(-t.start)
				}
			})
		}
	}
}

// BenchmarkRecord measures recording one outcome (metrics + breaker step).
func BenchmarkRecord(b *testing.B) {
	for _, n := range []int{5, 100, 1000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			bal, s := benchCore(b, n, StrategyAdaptive)
			peers := s.snapshot()
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				p := peers[i%len(peers)]
				i++
				now := bal.now()
				p.begin(now)
				bal.record(ticket{p: p, start: now - int64(time.Millisecond)}, Success)
			}
		})
	}
}

// BenchmarkPickRecordParallel is the full per-attempt overhead under contention.
func BenchmarkPickRecordParallel(b *testing.B) {
	for _, n := range []int{5, 100, 1000} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			bal, s := benchCore(b, n, StrategyAdaptive)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					t, _ := bal.pick(s, nil)
					bal.record(t, Success)
				}
			})
		})
	}
}

// fixedHints advises against one peer, as a hint book that heard of it does.
type fixedHints struct{ addr string }

func (h fixedHints) Advise(_, addr string, _ time.Time) HintAdvice {
	if addr != h.addr {
		return HintAdvice{}
	}
	return HintAdvice{FailureRate: 0.4, Weight: 10}
}

// BenchmarkPickWithHints is BenchmarkPick of the adaptive strategy with a
// hint source that advises against one of the peers (the hint source's own
// cost left out: a gossip book's is BenchmarkAdvise in client/gossip).
func BenchmarkPickWithHints(b *testing.B) {
	for _, n := range []int{5, 100} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			bal, s := benchCore(b, n, StrategyAdaptive, func(c *Config) { c.Hints = fixedHints{addr: addrs(n)[0]} })
			b.ReportAllocs()
			for b.Loop() {
				t, _ := bal.pick(s, nil)
				t.p.inflight.Add(-1)
				t.p.startSum.Add(-t.start)
			}
		})
	}
}
