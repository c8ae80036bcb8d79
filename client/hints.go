package client

import "time"

// HintAdvice is what an outside source of peer health (gossip hints shared
// by other clients) says about one peer.
type HintAdvice struct {
	// Factor multiplies the peer's cost in the adaptive strategy. Values
	// below 1 (or NaN) count as 1: outside advice can make a peer look
	// worse, never better than the client's own metrics say.
	Factor float64
	// DeferProbe skips the freshness probe (ProbeInterval) of the peer.
	// Breaker probes are never skipped.
	DeferProbe bool
}

// HintSource gives outside advice about peers (a gossip.Gossiper adapter
// that weighs other clients' hints against this client's own outcomes). The
// adaptive strategy asks it about both candidates of every pick, so it must
// be fast and must not call back into the client. Other strategies ignore
// it; breakers never see it.
type HintSource interface {
	// Advise is called with the time of the pick, so the source needs no
	// clock read of its own.
	Advise(service, addr string, now time.Time) HintAdvice
}

// noAdvice is the neutral advice used without a HintSource.
var noAdvice = HintAdvice{Factor: 1}

// advise asks the hint source about p at the pick's time now.
func (b *balancer) advise(p *peer, now int64) HintAdvice {
	if b.hints == nil {
		return noAdvice
	}
	a := b.hints.Advise(p.svc, p.addr, b.wall(now))
	if !(a.Factor >= 1) {
		a.Factor = 1
	}
	return a
}
