package client

import "time"

// HintAdvice is outside evidence about one peer (gossip: what other clients
// of the service saw), read as a prior worth Weight outcomes of which a share
// FailureRate failed. The client weighs it against its own recent outcomes
// on the peer (n, their decayed count; PeerView.Samples): the hint judges a
// pick with probability Weight/(Weight+n), the client's own rates the rest.
// So it decides for a client that has barely used the peer and fades
// continuously as that client's own evidence accumulates; on average the
// peer is costed at the prior's blend
//
//	(Weight·FailureRate + n·own) / (Weight + n)
//
// Randomising which evidence judges a pick, rather than costing every pick
// at the blend, keeps a wrong hint from locking a busy client out of a peer:
// a peer that loses every comparison would gather no evidence to outweigh it.
// Confirmed by the client's own recent failures on the peer, a hint also
// lets the peer's freshness probe wait; a hint alone never does.
type HintAdvice struct {
	// FailureRate is the share of failed attempts (errors and timeouts) the
	// outside evidence speaks of, 0..1. Advice below the client's own rate
	// adds no cost: a hint can make a peer look worse, never better.
	FailureRate float64
	// Weight is how many of the client's own outcomes the advice is worth;
	// 0 (or less, or NaN) means no advice.
	Weight float64
}

// HintSource gives outside advice about peers (a *gossip.Gossiper). The
// adaptive strategy asks it about both candidates of every pick, so it must
// be fast and must not call back into the client. Other strategies ignore
// it, and breakers never see it: only real outcomes open a breaker.
type HintSource interface {
	// Advise is called with the time of the pick, so the source needs no
	// clock read of its own.
	Advise(service, addr string, now time.Time) HintAdvice
}

// ownFailureFloor is the decayed count of this client's own failures on a
// peer below which its outcomes never confirm a hint: one failure counts
// for StaleAfter·ln 50 (39 s by default). That is how long a hint can hold
// a quiet client back from a peer after one failure of its own; in S7 a
// shorter memory (23 s) let the quiet client re-probe the failing worker
// every cycle, and 2W > X in 1.5% of simulated worlds instead of 0.4%.
const ownFailureFloor = 0.02

// hinted is what a hint says of one candidate of a pick.
type hinted struct {
	// judged: the hint, not only the client's own rates, judges this pick.
	judged bool
	// extra is the failure share the hint adds to the peer's own (0 when
	// it does not judge the pick or says nothing worse).
	extra float64
	// confirmed: this client's own outcomes on the peer agree with the
	// hint: it saw the peer fail recently, and the prior with its own
	// outcomes still calls the peer at least half as bad as the hint does.
	// The peer's freshness probe may then wait and it loses its ties;
	// without confirmation a hint never stops the client from trying a
	// peer, so a liar cannot starve a healthy peer of a quiet client, whose
	// traffic is mostly freshness probes.
	confirmed bool
}

// hint asks the hint source about p at the pick's time now and draws
// whether the hint judges this pick: with probability Weight/(Weight+n).
func (b *balancer) hint(p *peer, now int64) hinted {
	if b.hints == nil {
		return hinted{}
	}
	a := b.hints.Advise(p.svc, p.addr, b.wall(now))
	if !(a.Weight > 0) || !(a.FailureRate > 0) {
		return hinted{}
	}
	rate := min(a.FailureRate, 1)
	n, f := p.evidence(&b.m, now)
	h := hinted{confirmed: f >= ownFailureFloor && a.Weight*rate+f >= (a.Weight+n)*rate/2}
	if b.randF()*(a.Weight+n) < a.Weight {
		e, t := p.rates(&b.m, now)
		h.judged, h.extra = true, max(rate-(e+t), 0)
	}
	return h
}

// hintedHealth is p's failure cost multiplier with the hint's extra failure
// share, weighed as the mean of an error and a timeout.
func (b *balancer) hintedHealth(p *peer, h hinted, now int64) float64 {
	return p.health(&b.m, now) + b.m.penalty*(b.m.wErr+b.m.wTo)/2*h.extra
}

// against says how much a hint holds against a peer in a tie: a
// confirmed hint most, then the extra failure share of one that judged it.
func (h hinted) against() float64 {
	if h.confirmed {
		return 1 + h.extra
	}
	return h.extra
}
