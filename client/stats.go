package client

import (
	"sort"
	"time"
)

// PeerStats is a readable snapshot of one peer's metrics.
type PeerStats struct {
	Addr         string
	Active       bool // false once the peer vanished from lookups (drained)
	State        BreakerState
	Score        float64 // 0..1, higher is better; see Score
	Latency      time.Duration
	ErrorRate    float64
	TimeoutRate  float64
	InFlight     int64
	Attempts     uint64
	Successes    uint64
	Errors       uint64
	Timeouts     uint64
	BreakerOpens uint64
	// Staleness is 0 for fresh evidence and tends to 1 as it ages.
	Staleness float64
	// Samples and Failures are the recent outcomes and the failed ones
	// (errors and timeouts), counted with the same decay as the rates
	// (time constant StaleAfter): how much evidence the rates rest on.
	Samples, Failures float64
	// Freshness is how long ago the last outcome was recorded (-1 without one).
	Freshness time.Duration
}

// Services lists the services the client has been asked about.
func (c *Client) Services() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.services))
	for n := range c.services {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Stats returns the metrics of every peer of service, active ones first in
// lookup order, then drained ones.
//
// The score is 1 − (wl·latency + we·errors + wt·timeouts + wf·staleness)
// with each term normalised to 0..1: latency as x/(x+max(best, 5 ms)) where
// x is the excess over the latency of the best peer taking traffic
// (breaker closed), errors and timeouts as their decayed rates, staleness as 1 − e^(−age/StaleAfter) of the last outcome.
func (c *Client) Stats(service string) []PeerStats {
	c.mu.RLock()
	s := c.services[service]
	c.mu.RUnlock()
	if s == nil {
		return nil
	}
	now := c.bal.now()
	active := s.snapshot()
	s.mu.Lock()
	retired := append([]*peer(nil), s.retired...)
	s.mu.Unlock()
	return c.bal.stats(active, retired, now)
}

// scoreLatencyFloor keeps sub-millisecond noise from dominating the score.
const scoreLatencyFloor = 5e6

func (b *balancer) stats(active, retired []*peer, now int64) []PeerStats {
	best := -1.0
	for _, p := range active {
		// The reference is the best peer that takes traffic: an open
		// breaker's latency is old news from a lighter load.
		if p.br.state() != Closed {
			continue
		}
		if l := p.latency(&b.m, now); l > 0 && (best < 0 || l < best) {
			best = l
		}
	}
	out := make([]PeerStats, 0, len(active)+len(retired))
	seen := make(map[string]bool, len(active))
	for _, p := range active {
		seen[p.addr] = true
		out = append(out, b.peerStats(p, true, best, now))
	}
	for i := len(retired) - 1; i >= 0; i-- {
		if p := retired[i]; !seen[p.addr] {
			seen[p.addr] = true
			out = append(out, b.peerStats(p, false, best, now))
		}
	}
	return out
}

func (b *balancer) peerStats(p *peer, active bool, best float64, now int64) PeerStats {
	lat := p.latency(&b.m, now)
	e, t := p.rates(&b.m, now)
	n, f := p.evidence(&b.m, now)
	return PeerStats{
		Addr: p.addr, Active: active, State: p.br.state(), Score: b.score(p, best, now),
		Latency: time.Duration(max(lat, 0)), ErrorRate: e, TimeoutRate: t,
		InFlight: p.inflight.Load(), Attempts: p.attempts.Load(), Successes: p.successes.Load(),
		Errors: p.errors.Load(), Timeouts: p.timeouts.Load(), BreakerOpens: p.br.opens.Load(),
		Staleness: staleness(p, &b.m, now), Samples: n, Failures: f, Freshness: freshness(p, now),
	}
}

// freshness is the age of p's last outcome, -1 without one.
func freshness(p *peer, now int64) time.Duration {
	lr := p.lastRecord.Load()
	if lr == 0 {
		return -1
	}
	return time.Duration(max(now-lr, 0))
}

// staleness is 0 for fresh evidence and tends to 1 as it ages.
func staleness(p *peer, m *metricParams, now int64) float64 {
	if lr := p.lastRecord.Load(); lr > 0 {
		return 1 - decay(now-lr, m.staleAfter)
	}
	return 1
}

// score is the 0..1 readable score of p against the best latency of the
// peers taking traffic (see Stats).
func (b *balancer) score(p *peer, best float64, now int64) float64 {
	m := &b.m
	lat := p.latency(m, now)
	e, t := p.rates(m, now)
	latBad := 0.0
	if lat > best && best > 0 {
		// Excess over the best peer, relative to max(best, 5 ms): a 1 ms vs
		// 2 ms difference on loopback barely matters, +50 ms does.
		ex := lat - best
		latBad = ex / (ex + max(best, scoreLatencyFloor))
	}
	// The score uses the raw configured weights (they sum to 1).
	return max(1-(m.wLat*latBad+m.wErrRaw*e+m.wToRaw*t+m.wFrsh*staleness(p, m, now)), 0)
}
