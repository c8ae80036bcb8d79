package client

import "math"

// StrategyAdaptive is power-of-two-choices over a health-aware cost (the default).
const StrategyAdaptive = "adaptive"

func init() {
	RegisterPolicy(StrategyAdaptive, func() Policy { return adaptive{} },
		"power of two choices over latency x in-flight x failures, with slow start and freshness probes (default)")
}

// adaptive is power of two choices over a health-aware cost:
//
//	cost = latency × (in-flight + 1) × (1 + penalty·(we·errors + wt·timeouts))
//
// with the peak-sensitive latency raised to the age of attempts in flight.
// Costs within the balance tolerance count as equal and the peer picked
// least recently wins, so healthy peers share traffic like round robin.
//
// It reaches into the engine's internals (hints, slow start, the freshness
// probe), which a policy outside the package cannot; least-request shows
// what the public Peers/PeerView API is enough for.
type adaptive struct{}

func (adaptive) Pick(ps Peers) int {
	xi := ps.Random(-1)
	if xi < 0 || ps.Len() == 1 {
		return xi
	}
	yi := ps.Random(xi)
	if yi < 0 {
		return xi
	}
	b, now := ps.b, ps.now
	x, y := ps.list[xi], ps.list[yi]
	// A breaker ready to probe gets its probe (admission limits how many).
	if x.br.state() != Closed {
		return xi
	}
	if y.br.state() != Closed {
		return yi
	}
	lx, ly := b.pairLatencies(x, y, now)
	// Freshness: an idle peer nobody picked for ProbeInterval gets one
	// request if it is within nearFactor of its partner, so a peer starved by a
	// transient is re-measured. Far-off peers are not probed (each probe
	// would cost a caller the slowness); their stale evidence fades toward
	// the partner's instead (see pairLatencies), and their breaker probes
	// them if it is open.
	// Outside advice (gossip) judges some picks (hints.go) and raises the
	// candidate's failure cost; confirmed by this client's own failures on
	// the peer it also lets the freshness probe wait.
	hx, hy := b.hint(x, now), b.hint(y, now)
	if b.probeInt > 0 {
		if !hx.confirmed && b.fresh(x, lx, ly, now) {
			return xi
		}
		if !hy.confirmed && b.fresh(y, ly, lx, now) {
			return yi
		}
	}
	win, lose := b.compareHinted(x, y, lx, ly, hx, hy, now)
	if share := win.slowStartShare(&b.m, now); share < 1 && b.randF() >= share {
		win = lose // the partner takes what a ramping winner may not yet
	}
	if win == x {
		return xi
	}
	return yi
}

func (b *balancer) fresh(p *peer, lp, lother float64, now int64) bool {
	last := p.lastPick.Load()
	return now-last >= b.probeInt && p.inflight.Load() == 0 && lp <= nearFactor*lother+b.slack &&
		!p.timedOutRecently(&b.m, now) && p.lastPick.CompareAndSwap(last, now)
}

// pairLatencies returns the latencies two candidates are compared by:
//   - evidence fades toward the partner's with the age of the last sample
//     (time constant StaleAfter), the neutral prior of a comparison;
//   - an unknown peer takes the partner's latency for its first request,
//     but a peer with no answer yet gets no second one (one probe, not a flood);
//   - the mean age of the attempts in flight raises it: a peer that stopped
//     answering looks slow before any timeout fires.
func (b *balancer) pairLatencies(x, y *peer, now int64) (lx, ly float64) {
	rx, ry := x.latency(&b.m, now), y.latency(&b.m, now)
	if rx >= 0 && ry >= 0 {
		wx := decay(now-x.latAt.Load(), b.m.staleAfter)
		wy := decay(now-y.latAt.Load(), b.m.staleAfter)
		rx, ry = rx*wx+ry*(1-wx), ry*wy+rx*(1-wy)
	}
	lx = neutral(rx, ry, x.inflight.Load())
	ly = neutral(ry, rx, y.inflight.Load())
	return max(lx, x.inflightAge(now)), max(ly, y.inflightAge(now))
}

// compare orders two peers by cost, treating near-equal costs as equal.
func (b *balancer) compare(x, y *peer, lx, ly float64, now int64) (win, lose *peer) {
	return b.compareHinted(x, y, lx, ly, hinted{}, hinted{}, now)
}

// compareHinted is compare with what hints said of each peer: a hint
// raises the failure cost of the peer it judges, and among peers the costs
// call equal the one a hint holds more against loses the tie (at loopback
// latencies the slack makes most peers equal, so a cost alone would change
// little; and a peer whose probes wait would otherwise win every tie, as
// the one picked least recently); other ties go to the peer picked least
// recently.
func (b *balancer) compareHinted(x, y *peer, lx, ly float64, hx, hy hinted, now int64) (win, lose *peer) {
	cx := lx * float64(x.inflight.Load()+1) * b.hintedHealth(x, hx, now)
	cy := ly * float64(y.inflight.Load()+1) * b.hintedHealth(y, hy, now)
	// Infinite costs (an unknown peer already probing) are never "near" a
	// finite one: Inf-finite <= tol*Inf would otherwise call them equal.
	finite := !math.IsInf(cx, 1) && !math.IsInf(cy, 1)
	if (finite && math.Abs(cx-cy) <= b.tol*max(cx, cy)+b.slack) || (!finite && cx == cy) {
		switch ax, ay := hx.against(), hy.against(); {
		case ax > ay:
			return y, x
		case ay > ax:
			return x, y
		}
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

// nearFactor: a peer within this factor of its partner's latency is "near"
// and gets freshness probes (a healthy peer whose baseline a hiccup pushed
// out of the balance band is re-measured within a second or two); a peer
// further off (a worker 50 ms slower than 1-3 ms peers) is not probed.
const nearFactor = 4
