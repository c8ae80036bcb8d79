package client

import "time"

// Peers is what a Policy picks from: the peers of one service at the time of
// the pick, with the ones already tried by this request and those whose
// breaker refuses traffic marked as not eligible. It is a small value valid
// for one Pick only.
//
// It is eight words, so with the policy's receiver it is passed in
// registers (Go's ABI has nine): a ninth field would spill it to the stack
// on every pick.
type Peers struct {
	b     *balancer
	list  []*peer
	tried []*peer
	now   int64
}

// Service is the name of the service being picked for.
func (ps Peers) Service() string {
	if len(ps.list) == 0 {
		return ""
	}
	return ps.list[0].svc
}

// Len is the number of peers.
func (ps Peers) Len() int { return len(ps.list) }

// Peer returns a read-only view of peer i.
func (ps Peers) Peer(i int) PeerView { return PeerView{p: ps.list[i], ps: ps} }

// Eligible reports whether peer i may take this attempt: it was not tried
// by this request and its breaker is closed, half-open, or open with its
// cooldown over (the engine then admits the attempt as a probe).
func (ps Peers) Eligible(i int) bool { return eligible(ps.list[i], ps.tried, ps.now) }

// Random returns a uniformly drawn eligible peer other than not (pass -1
// to exclude none), or -1 when there is none. It is O(1) unless most peers
// are ineligible.
func (ps Peers) Random(not int) int {
	var np *peer
	if not >= 0 {
		np = ps.list[not]
	}
	return ps.b.randomEligible(ps.list, ps.tried, np, ps.now)
}

// IntN returns a uniform int in [0,n) from the client's random source (the
// one tests inject), for policies that draw on their own.
func (ps Peers) IntN(n int) int { return ps.b.randN(n) }

// Float64 returns a uniform float in [0,1) from the client's random source.
func (ps Peers) Float64() float64 { return ps.b.randF() }

// PeerView is a read-only view of one peer's metrics at the time of a pick.
// Every method is a few atomic loads; none allocates.
type PeerView struct {
	p  *peer
	ps Peers
}

// Addr is the peer's "host:port".
func (v PeerView) Addr() string { return v.p.addr }

// Latency is the peak-sensitive latency estimate (a baseline EWMA raised
// by recent peaks), or -1 before the first answer.
func (v PeerView) Latency() time.Duration {
	l := v.p.latency(&v.ps.b.m, v.ps.now)
	if l < 0 {
		return -1
	}
	return time.Duration(l)
}

// InFlight is the number of attempts sent to the peer and not settled.
func (v PeerView) InFlight() int { return int(v.p.inflight.Load()) }

// InFlightAge is the mean age of the attempts in flight (0 when none): a
// peer that stopped answering shows it here before any timeout fires.
func (v PeerView) InFlightAge() time.Duration { return time.Duration(v.p.inflightAge(v.ps.now)) }

// ErrorRate is the decayed share of recent attempts that failed (handler
// or transport errors), 0..1.
func (v PeerView) ErrorRate() float64 { e, _ := v.p.rates(&v.ps.b.m, v.ps.now); return e }

// TimeoutRate is the decayed share of recent attempts that timed out, 0..1.
func (v PeerView) TimeoutRate() float64 { _, t := v.p.rates(&v.ps.b.m, v.ps.now); return t }

// Freshness is how long ago the peer's last outcome was recorded (-1 when
// it has none): old evidence says less.
func (v PeerView) Freshness() time.Duration { return freshness(v.p, v.ps.now) }

// Samples is the number of recent outcomes the rates rest on, decayed with
// StaleAfter as they are: near 0 for a peer this client has barely used.
func (v PeerView) Samples() float64 { n, _ := v.p.evidence(&v.ps.b.m, v.ps.now); return n }

// Breaker is the state of the peer's circuit breaker.
func (v PeerView) Breaker() BreakerState { return v.p.br.state() }

// LastPick is how long ago the peer was last picked.
func (v PeerView) LastPick() time.Duration { return time.Duration(v.ps.now - v.p.lastPick.Load()) }

// Score is the readable 0..1 score of Client.Stats (higher is better). It
// compares the peer's latency with the best peer's, so it is O(peers):
// meant for policies that rank a few candidates, not for scanning all.
func (v PeerView) Score() float64 {
	b, now := v.ps.b, v.ps.now
	best := -1.0
	for _, p := range v.ps.list {
		if p.br.state() != Closed {
			continue
		}
		if l := p.latency(&b.m, now); l > 0 && (best < 0 || l < best) {
			best = l
		}
	}
	return b.score(v.p, best, now)
}
