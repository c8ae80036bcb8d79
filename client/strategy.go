package client

import "math"

// roundRobin cycles through the snapshot, skipping ineligible peers.
type roundRobin struct{}

func (roundRobin) choose(b *balancer, s *service, peers []*peer, tried []*peer, now int64) *peer {
	n := uint64(len(peers))
	i := s.rr.Add(1)
	for k := range n {
		if p := peers[(i+k)%n]; eligible(p, tried, now) {
			return p
		}
	}
	return nil
}

// randomPick is Node's behaviour: uniform over the (eligible) peers.
type randomPick struct{}

func (randomPick) choose(b *balancer, s *service, peers []*peer, tried []*peer, now int64) *peer {
	return b.randomEligible(peers, tried, nil, now)
}

// adaptive is power of two choices over a health-aware cost:
//
//	cost = latency × (in-flight + 1) × (1 + penalty·(we·errors + wt·timeouts))
//
// with the peak-sensitive latency raised to the age of attempts in flight.
// Costs within the balance tolerance count as equal and the peer picked
// least recently wins, so healthy peers share traffic like round robin.
type adaptive struct{}

func (adaptive) choose(b *balancer, s *service, peers []*peer, tried []*peer, now int64) *peer {
	x := b.randomEligible(peers, tried, nil, now)
	if x == nil || len(peers) == 1 {
		return x
	}
	y := b.randomEligible(peers, tried, x, now)
	if y == nil {
		return x
	}
	// A breaker ready to probe gets its probe (admission limits how many).
	if x.br.state() != Closed {
		return x
	}
	if y.br.state() != Closed {
		return y
	}
	// Freshness: an idle peer nobody picked for ProbeInterval gets one request.
	if b.probeInt > 0 {
		for _, p := range [2]*peer{x, y} {
			lp := p.lastPick.Load()
			if now-lp >= b.probeInt && p.inflight.Load() == 0 && p.lastPick.CompareAndSwap(lp, now) {
				return p
			}
		}
	}
	win, lose := b.compare(x, y, now)
	if share := win.slowStartShare(&b.m, now); share < 1 && b.randF() >= share {
		return lose
	}
	return win
}

// compare orders two peers by cost, treating near-equal costs as equal.
func (b *balancer) compare(x, y *peer, now int64) (win, lose *peer) {
	lx, ly := x.effLatency(&b.m, now), y.effLatency(&b.m, now)
	nx, ny := x.inflight.Load(), y.inflight.Load()
	// Unknown latency: neutral (the partner's) for the first request, but a
	// peer with no answer yet gets no second one (one probe, not a flood).
	lx, ly = neutral(lx, ly, nx), neutral(ly, lx, ny)
	cx := lx * float64(nx+1) * x.health(&b.m, now)
	cy := ly * float64(ny+1) * y.health(&b.m, now)
	if math.Abs(cx-cy) <= b.tol*max(cx, cy)+b.slack {
		if x.lastPick.Load() <= y.lastPick.Load() {
			return x, y
		}
		return y, x
	}
	if cx < cy {
		return x, y
	}
	return y, x
}

func neutral(l, other float64, inflight int64) float64 {
	if l >= 0 {
		return l
	}
	if inflight > 0 {
		return math.Inf(1)
	}
	return max(other, 0)
}
