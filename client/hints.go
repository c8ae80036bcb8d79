package client

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
	Advise(service, addr string) HintAdvice
}

// noAdvice is the neutral advice used without a HintSource.
var noAdvice = HintAdvice{Factor: 1}

// advise asks the hint source about p.
func (b *balancer) advise(p *peer) HintAdvice {
	if b.hints == nil {
		return noAdvice
	}
	a := b.hints.Advise(p.svc, p.addr)
	if !(a.Factor >= 1) {
		a.Factor = 1
	}
	return a
}
