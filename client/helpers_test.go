package client

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// testClock is an injected monotonic clock.
type testClock struct{ t int64 }

func (c *testClock) now() int64              { return c.t }
func (c *testClock) advance(d time.Duration) { c.t += int64(d) }

// newTestCore builds a balancer over n peers with a fake clock and a seeded rand.
func newTestCore(t testing.TB, n int, mod func(*Config)) (*balancer, *service, *testClock) {
	t.Helper()
	clk := &testClock{t: int64(time.Hour)}
	cfg := DefaultConfig()
	cfg.BreakerJitter = 0
	r := rand.New(rand.NewPCG(1, 2))
	cfg.rand = r.Float64
	cfg.now = clk.now
	if mod != nil {
		mod(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b := newBalancer(cfg)
	s := newService("svc")
	s.update(addrs(n), cfg.MaxPeers, clk.now())
	return b, s, clk
}

func addrs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("127.0.0.1:%d", 10000+i)
	}
	return out
}

func index(s *service, p *peer) int {
	for i, q := range s.snapshot() {
		if q == p {
			return i
		}
	}
	return -1
}

// simulate runs n sequential requests (first attempts only): pick, advance
// the clock by the peer's latency, record the peer's outcome. It returns
// the picks per peer index.
func simulate(b *balancer, s *service, clk *testClock, n int, gap time.Duration,
	behave func(i int) (time.Duration, Outcome)) []int {
	counts := make([]int, len(s.snapshot()))
	for range n {
		t, ok := b.pick(s, nil)
		if !ok {
			panic("no pick")
		}
		i := index(s, t.p)
		counts[i]++
		lat, o := behave(i)
		clk.advance(lat)
		b.record(t, o)
		clk.advance(gap)
	}
	return counts
}

func ratio(counts []int) float64 {
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	if lo == 0 {
		return 1e9
	}
	return float64(hi) / float64(lo)
}

// noBreaker keeps breakers closed so metrics can be driven by failures alone.
func noBreaker(c *Config) {
	c.BreakerFailureThreshold = 1000
	c.BreakerMinRequests = 1 << 20
}
