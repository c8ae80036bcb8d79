package client

import (
	"testing"
	"time"
)

func healthy(time.Duration) func(int) (time.Duration, Outcome) {
	return func(int) (time.Duration, Outcome) { return time.Millisecond, Success }
}

func TestRoundRobinIsEven(t *testing.T) {
	b, s, clk := newTestCore(t, 5, func(c *Config) { c.Strategy = StrategyRoundRobin })
	counts := simulate(b, s, clk, 5000, time.Millisecond, healthy(time.Millisecond))
	for _, c := range counts {
		if c != 1000 {
			t.Fatalf("round robin uneven: %v", counts)
		}
	}
}

func TestRandomIsRoughlyUniform(t *testing.T) {
	b, s, clk := newTestCore(t, 5, func(c *Config) { c.Strategy = StrategyRandom })
	counts := simulate(b, s, clk, 20000, time.Millisecond, healthy(time.Millisecond))
	if r := ratio(counts); r > 1.15 {
		t.Fatalf("random share ratio %.2f: %v", r, counts)
	}
}

// jittery healthy peers: latencies differ by up to ±40% per sample.
func jitter(b *balancer) func(int) (time.Duration, Outcome) {
	return func(i int) (time.Duration, Outcome) {
		return time.Duration(float64(time.Millisecond) * (0.6 + 0.8*b.randF())), Success
	}
}

func TestAdaptiveBalancesHealthyPeers(t *testing.T) {
	for _, n := range []int{2, 4, 5} {
		b, s, clk := newTestCore(t, n, nil)
		counts := simulate(b, s, clk, 20000, 4*time.Millisecond, jitter(b))
		if r := ratio(counts); r > 1.25 {
			t.Fatalf("%d healthy peers: busiest/idlest %.2f > 1.25: %v", n, r, counts)
		}
	}
	// Systematic small differences (peer i is 5%·i slower) stay within the band too.
	b, s, clk := newTestCore(t, 5, nil)
	counts := simulate(b, s, clk, 20000, 4*time.Millisecond, func(i int) (time.Duration, Outcome) {
		return time.Duration(float64(2*time.Millisecond) * (1 + 0.05*float64(i))), Success
	})
	if r := ratio(counts); r > 1.25 {
		t.Fatalf("near-equal peers: busiest/idlest %.2f > 1.25: %v", r, counts)
	}
}

func TestAdaptiveAvoidsSlowPeer(t *testing.T) {
	b, s, clk := newTestCore(t, 5, nil)
	const n = 20000
	counts := simulate(b, s, clk, n, 4*time.Millisecond, func(i int) (time.Duration, Outcome) {
		if i == 0 {
			return 51 * time.Millisecond, Success
		}
		return time.Millisecond, Success
	})
	if share := float64(counts[0]) / n; share > 0.01 {
		t.Fatalf("+50ms peer got %.2f%% of traffic: %v", 100*share, counts)
	}
	if r := ratio(counts[1:]); r > 1.25 {
		t.Fatalf("healthy peers unbalanced %.2f: %v", r, counts)
	}
}

func TestAdaptiveAvoidsFailingPeer(t *testing.T) {
	b, s, clk := newTestCore(t, 5, nil)
	const n = 20000
	k := 0
	counts := simulate(b, s, clk, n, 4*time.Millisecond, func(i int) (time.Duration, Outcome) {
		if i == 0 {
			k++
			if k%2 == 0 {
				return 200 * time.Microsecond, RemoteError // fast failures
			}
		}
		return time.Millisecond, Success
	})
	if share := float64(counts[0]) / n; share > 0.05 {
		t.Fatalf("50%%-failing peer got %.2f%% of first attempts: %v", 100*share, counts)
	}
}

func TestOneProbeForUnknownPeer(t *testing.T) {
	b, s, clk := newTestCore(t, 2, nil)
	x, y := s.snapshot()[0], s.snapshot()[1]
	tk, _ := b.claim(x, clk.now())
	clk.advance(time.Millisecond)
	b.record(tk, Success)
	// y is unknown: its first request is fine, a second before it answers is not.
	hung, _ := b.claim(y, clk.now())
	for range 50 {
		lx, ly := b.pairLatencies(x, y, clk.now())
		w, _ := b.compare(x, y, lx, ly, clk.now())
		if w != x {
			t.Fatal("an unknown peer with a request outstanding won a comparison")
		}
		clk.advance(time.Millisecond)
	}
	// Even when y was picked less recently than x (the tie-break would favour it).
	x.lastPick.Store(clk.now())
	lx, ly := b.pairLatencies(x, y, clk.now())
	if w, _ := b.compare(x, y, lx, ly, clk.now()); w != x {
		t.Fatal("infinite cost treated as equal to a finite one")
	}
	b.record(hung, Canceled)
}

func TestTriedPeersAreSkipped(t *testing.T) {
	for _, st := range []string{StrategyAdaptive, StrategyRoundRobin, StrategyRandom} {
		b, s, _ := newTestCore(t, 3, func(c *Config) { c.Strategy = st })
		peers := s.snapshot()
		for range 100 {
			tk, _ := b.pick(s, peers[:2])
			if tk.p != peers[2] {
				t.Fatalf("%s picked a tried peer", st)
			}
			b.record(tk, Success)
		}
	}
}

func TestSlowStartRamps(t *testing.T) {
	b, s, clk := newTestCore(t, 4, nil)
	simulate(b, s, clk, 2000, 4*time.Millisecond, healthy(time.Millisecond))
	// A fifth peer joins after the first lookup: it ramps up over SlowStart.
	s.update(addrs(5), 1024, clk.now())
	first := simulate(b, s, clk, 500, 2*time.Millisecond, healthy(time.Millisecond)) // first second
	share := float64(first[4]) / 500
	if share > 0.15 {
		t.Fatalf("new peer took %.1f%% in its first second of slow start", 100*share)
	}
	clk.advance(b.m.slowDuration())
	later := simulate(b, s, clk, 5000, 2*time.Millisecond, healthy(time.Millisecond))
	if r := ratio(later); r > 1.25 {
		t.Fatalf("after slow start shares %v (ratio %.2f)", later, r)
	}
}

func TestFreshnessProbes(t *testing.T) {
	// 30 s at 100 req/s. A peer a bit slower than the rest (out of the
	// balance band) is re-measured about once per ProbeInterval; a peer 50x
	// slower is not probed (each probe would cost a caller 50 ms) and only
	// comes back when its stale evidence has faded.
	for _, c := range []struct {
		slow     time.Duration
		min, max int
	}{{2 * time.Millisecond, 15, 200}, {50 * time.Millisecond, 0, 6}} {
		b, s, clk := newTestCore(t, 3, nil)
		counts := simulate(b, s, clk, 3000, 10*time.Millisecond, func(i int) (time.Duration, Outcome) {
			if i == 0 {
				return c.slow, Success
			}
			return 500 * time.Microsecond, Success
		})
		if counts[0] < c.min || counts[0] > c.max {
			t.Fatalf("peer at %v picked %d times in ~30 s, want %d..%d", c.slow, counts[0], c.min, c.max)
		}
	}
}

func TestMembershipDrainsAndAdmits(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	old := s.snapshot()[2]
	tk, _ := b.claim(old, clk.now())
	s.update(addrs(2), 1024, clk.now())
	if len(s.snapshot()) != 2 || index(s, old) != -1 {
		t.Fatal("vanished peer still pickable")
	}
	b.record(tk, Success) // in-flight attempt on a drained peer still records
	st := b.stats(s.snapshot(), s.retired, clk.now())
	if len(st) != 3 || st[2].Active || st[2].Successes != 1 {
		t.Fatalf("drained peer missing from stats: %+v", st)
	}
	s.update(append(addrs(2), "127.0.0.1:9", "127.0.0.1:9", ""), 3, clk.now())
	if len(s.snapshot()) != 3 {
		t.Fatalf("dedup/cap failed: %d peers", len(s.snapshot()))
	}
}

func TestScoreIsReadable(t *testing.T) {
	b, s, clk := newTestCore(t, 3, noBreaker)
	peers := s.snapshot()
	for range 50 {
		for i, p := range peers {
			tk, _ := b.claim(p, clk.now())
			lat, o := time.Millisecond, Success
			switch i {
			case 1:
				lat = 20 * time.Millisecond
			case 2:
				o = TransportError
			}
			clk.advance(lat)
			b.record(tk, o)
		}
	}
	st := b.stats(peers, nil, clk.now())
	if !(st[0].Score > 0.95 && st[1].Score < st[0].Score-0.2 && st[1].Score > 0.5) {
		t.Fatalf("scores %v %v", st[0].Score, st[1].Score)
	}
	if st[2].ErrorRate < 0.9 || st[2].Score > 0.75 {
		t.Fatalf("failing peer score %v err %v", st[2].Score, st[2].ErrorRate)
	}
	t.Logf("scores: fast %.3f, +19ms %.3f, failing %.3f", st[0].Score, st[1].Score, st[2].Score)
}
