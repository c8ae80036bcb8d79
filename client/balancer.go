package client

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// maxAttempts bounds attempts per request (MaxRetries+1), so the set of
// tried peers fits in a fixed array on the stack.
const maxAttempts = 16

// balancer is the pure core shared by Request and Map: picking (the
// policy's choice admitted through the breaker) and recording, with an
// injected clock and random source.
type balancer struct {
	pol      Policy
	m        metricParams
	bp       breakerParams
	tol      float64
	slack    float64
	probeInt int64
	now      func() int64
	randF    func() float64
	randN    func(n int) int
	epoch    time.Time
	hooks    Hooks
	hints    HintSource
}

func newBalancer(c Config) *balancer {
	b := &balancer{
		m:        newMetricParams(c),
		bp:       newBreakerParams(c),
		tol:      c.BalanceTolerance,
		slack:    float64(c.BalanceSlack),
		probeInt: int64(c.ProbeInterval),
		now:      c.now,
		randF:    c.rand,
		randN:    rand.IntN,
		epoch:    time.Now(),
		hooks:    c.Hooks,
		hints:    c.Hints,
	}
	if b.now == nil {
		epoch := b.epoch
		b.now = func() int64 { return int64(time.Since(epoch)) }
	}
	if b.randF == nil {
		b.randF = rand.Float64
	} else {
		rf := b.randF
		b.randN = func(n int) int { return min(int(rf()*float64(n)), n-1) }
	}
	pol, err := newPolicy(c.Strategy)
	if err != nil {
		pol = adaptive{} // unreachable after Validate, which checks the name
	}
	b.pol = pol
	return b
}

// wall converts a monotonic reading to wall time for hooks and reports.
func (b *balancer) wall(now int64) time.Time { return b.epoch.Add(time.Duration(now)) }

func isTried(p *peer, tried []*peer) bool {
	for _, t := range tried {
		if t == p {
			return true
		}
	}
	return false
}

// eligible: not tried in this request, and its breaker lets traffic (or a probe) through.
func eligible(p *peer, tried []*peer, now int64) bool {
	if isTried(p, tried) {
		return false
	}
	switch p.br.state() {
	case Closed, HalfOpen:
		return true
	default:
		return now >= p.br.openUntil.Load()
	}
}

// randomEligible draws a few random peers and returns the index of the
// first eligible one other than not, or -1; O(1) unless most peers are
// ineligible, then a scan.
func (b *balancer) randomEligible(peers []*peer, tried []*peer, not *peer, now int64) int {
	n := len(peers)
	for range 4 {
		i := b.randN(n)
		if p := peers[i]; p != not && eligible(p, tried, now) {
			return i
		}
	}
	off := b.randN(n)
	for k := range n {
		i := (off + k) % n
		if p := peers[i]; p != not && eligible(p, tried, now) {
			return i
		}
	}
	return -1
}

// pick chooses and claims a peer for one attempt. It never fails while the
// service has a peer: when every breaker refuses, the least bad peer is used
// anyway (never leave a caller with nobody).
func (b *balancer) pick(s *service, tried []*peer) (ticket, bool) {
	peers := s.snapshot()
	if len(peers) == 0 {
		return ticket{}, false
	}
	now := b.now()
	ps := Peers{b: b, list: peers, tried: tried, now: now}
	for range 3 {
		i := b.pol.Pick(ps)
		if i < 0 || i >= len(peers) {
			break // none suits the policy (or it broke its contract): fall back
		}
		if t, ok := b.claim(peers[i], now); ok {
			return t, true
		}
	}
	p := b.leastBad(peers, tried, now)
	p.begin(now)
	return ticket{p: p, start: now}, true
}

// claim passes a candidate through its breaker.
func (b *balancer) claim(p *peer, now int64) (ticket, bool) {
	if p.br.state() == Closed {
		p.begin(now)
		return ticket{p: p, start: now}, true
	}
	p.mu.Lock()
	closed := p.br.state() == Closed
	ok, gen, tr := p.br.admitProbe(&b.bp, now, b.randF())
	p.mu.Unlock()
	b.emit(p, tr, now)
	if !ok {
		return ticket{}, false
	}
	p.begin(now)
	return ticket{p: p, start: now, probe: !closed, gen: gen}, true
}

// leastBad is the O(n) fallback: the cheapest untried peer ignoring
// breakers, or the cheapest peer at all when every one was tried.
func (b *balancer) leastBad(peers []*peer, tried []*peer, now int64) *peer {
	var best *peer
	bestCost := math.Inf(1)
	for pass := 0; pass < 2 && best == nil; pass++ {
		for _, p := range peers {
			if pass == 0 && isTried(p, tried) {
				continue
			}
			c := b.soloCost(p, now)
			if best == nil || c < bestCost {
				best, bestCost = p, c
			}
		}
	}
	return best
}

// soloCost is a peer's cost without a partner to compare with; unknown latency counts as 0.
func (b *balancer) soloCost(p *peer, now int64) float64 {
	lat := max(p.effLatency(&b.m, now), 0)
	c := lat * float64(p.inflight.Load()+1) * p.health(&b.m, now)
	if p.br.state() != Closed {
		c = c*10 + 1e12 // an open breaker is the last resort
	}
	return c
}

// record reports an attempt's outcome: metrics, breaker, hooks.
func (b *balancer) record(t ticket, o Outcome) {
	now := b.now()
	tr := t.p.finish(t, &b.m, &b.bp, now, o, b.randF())
	if o == Success && !t.detached && !t.stream && t.p.tail != nil {
		// The tail follows the answers requests got. A hedge's loser is
		// left out: a slow peer's losers would reach 1% of the samples
		// and lift the p99 to that peer's latency, and the hedge that
		// kept its requests fast would stop (seen in the demo: 65 ms).
		t.p.tail.observe(now-t.start, now)
	}
	b.emit(t.p, tr, now)
	if b.hooks.OnAttempt != nil {
		b.hooks.OnAttempt(AttemptEvent{Service: t.p.svc, Addr: t.p.addr, Outcome: o,
			Latency: time.Duration(now - t.start), At: b.wall(now), Probe: t.probe})
	}
}

func (b *balancer) emit(p *peer, tr transition, now int64) {
	if tr.ok && b.hooks.OnBreaker != nil {
		b.hooks.OnBreaker(BreakerEvent{Service: p.svc, Addr: p.addr, From: tr.from, To: tr.to, At: b.wall(now)})
	}
}

func (b *balancer) probeDuration() time.Duration { return time.Duration(b.probeInt) }

// claimAll claims the peers of a Map call through their breakers, in
// order, skipping those that refuse. When no breaker admits a call it
// fails with an error wrapping transport.ErrNoPeers: unlike a single
// request, a Map has no least bad peer to fall back on.
func (b *balancer) claimAll(service string, peers []*peer) ([]ticket, error) {
	now := b.now()
	tickets := make([]ticket, 0, len(peers))
	for _, p := range peers {
		if t, ok := b.claim(p, now); ok {
			tickets = append(tickets, t)
		}
	}
	if len(tickets) == 0 {
		return nil, fmt.Errorf("client: %s: every breaker is open: %w", service, transport.ErrNoPeers)
	}
	return tickets, nil
}
