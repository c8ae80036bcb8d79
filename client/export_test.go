package client

import "time"

// SimCore is one client's balancer on a virtual clock and a seeded random
// source, for simulations in the external test package that need other
// packages (client/gossip imports client, so its pipeline cannot be used
// from package client's own tests).
type SimCore struct {
	b *balancer
	s *service
}

// SimAttempt is one claimed attempt of a SimCore.
type SimAttempt struct{ t ticket }

// Addr is the peer the attempt went to.
func (a SimAttempt) Addr() string { return a.t.p.addr }

// NewSimCore builds the balancer of cfg for service over addrs, reading the
// monotonic clock now (ns) and the random source rnd; wall times (hooks,
// hint sources) are base plus now.
func NewSimCore(cfg Config, now func() int64, rnd func() float64, base time.Time, service string, addrs []string) (*SimCore, error) {
	cfg.now, cfg.rand = now, rnd
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	b := newBalancer(cfg)
	b.epoch = base
	s := newService(service)
	s.update(addrs, cfg.MaxPeers, now())
	return &SimCore{b: b, s: s}, nil
}

// Pick claims a peer for a first attempt.
func (c *SimCore) Pick() SimAttempt {
	t, ok := c.b.pick(c.s, nil)
	if !ok {
		panic("SimCore: no peer")
	}
	return SimAttempt{t}
}

// Record settles an attempt at the clock's current time.
func (c *SimCore) Record(a SimAttempt, o Outcome) { c.b.record(a.t, o) }

// Stats is Client.Stats of the simulated service.
func (c *SimCore) Stats() []PeerStats { return c.b.stats(c.s.snapshot(), nil, c.b.now()) }

// Broken counts the peers whose breaker is not closed.
func (c *SimCore) Broken() int {
	n := 0
	for _, p := range c.s.snapshot() {
		if p.br.state() != Closed {
			n++
		}
	}
	return n
}
