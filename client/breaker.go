package client

import (
	"sync/atomic"
	"time"
)

// BreakerState is the state of a peer's circuit breaker.
type BreakerState int32

// Breaker states.
const (
	// Closed: the peer takes traffic.
	Closed BreakerState = iota
	// Open: the peer takes none until its cooldown ends.
	Open
	// HalfOpen: the peer admits a limited number of probes.
	HalfOpen
)

// String returns CLOSED, OPEN or HALF_OPEN.
func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "CLOSED"
	case Open:
		return "OPEN"
	case HalfOpen:
		return "HALF_OPEN"
	}
	return "UNKNOWN"
}

// windowBuckets is the number of buckets of the sliding error-rate window.
const windowBuckets = 10

type bucket struct {
	slot           int64 // window slot number this bucket counts for
	total, failure int32
}

// breakerParams are the breaker's settings, resolved once from Config.
type breakerParams struct {
	off           bool // BreakerOff: breakers never open
	threshold     int
	errorRate     float64
	minRequests   int32
	bucketNanos   int64
	cooldown      int64
	maxCooldown   int64
	halfOpenMax   int
	probeTimeout  int64
	jitter        float64
	maxOpenFrac   float64
	fastCooldown  int64
	growthHorizon int64 // a trip this soon after recovering counts as a repeat
}

func newBreakerParams(c Config) breakerParams {
	return breakerParams{
		off:           c.BreakerOff,
		threshold:     c.BreakerFailureThreshold,
		errorRate:     c.BreakerErrorRate,
		minRequests:   int32(c.BreakerMinRequests),
		bucketNanos:   max(int64(c.BreakerWindow)/windowBuckets, 1),
		cooldown:      int64(c.BreakerCooldown),
		maxCooldown:   int64(c.BreakerMaxCooldown),
		halfOpenMax:   c.BreakerHalfOpenMaxRequests,
		probeTimeout:  int64(c.BreakerProbeTimeout),
		jitter:        c.BreakerJitter,
		maxOpenFrac:   c.BreakerMaxOpenFraction,
		fastCooldown:  int64(c.BreakerFastFailCooldown),
		growthHorizon: int64(c.BreakerMaxCooldown) + int64(c.BreakerWindow),
	}
}

// openGuard counts the non-closed breakers of one service so that a trip
// never leaves the service without a closed peer.
type openGuard struct {
	open  atomic.Int32
	peers atomic.Int32
}

// tryOpen reserves one open slot, or refuses when the cap is reached.
func (g *openGuard) tryOpen(frac float64) bool {
	for {
		n := g.peers.Load()
		limit := int32(float64(n) * frac)
		if limit > n-1 {
			limit = n - 1
		}
		cur := g.open.Load()
		if cur >= limit {
			return false
		}
		if g.open.CompareAndSwap(cur, cur+1) {
			return true
		}
	}
}

func (g *openGuard) release() { g.open.Add(-1) }

// breaker is one peer's state machine. All methods except state() must be
// called with the owning peer's mutex held; state() and openUntil are atomic
// so that picks read them without locking.
type breaker struct {
	st        atomic.Int32 // BreakerState
	openUntil atomic.Int64

	consecutive int
	window      [windowBuckets]bucket
	trips       int   // consecutive trips without a lasting recovery: drives cooldown growth
	closedAt    int64 // when the breaker last closed after a trip
	probes      int   // probes in flight while HALF_OPEN
	probeAt     int64 // start of the oldest outstanding probe
	gen         uint32
	opens       atomic.Uint64 // total CLOSED->OPEN trips (for reports)
	guard       *openGuard
}

func (b *breaker) state() BreakerState { return BreakerState(b.st.Load()) }

// transition is reported to hooks after the peer lock is released.
type transition struct {
	from, to BreakerState
	ok       bool
}

// record counts one outcome that came back while CLOSED.
func (b *breaker) recordClosed(p *breakerParams, now int64, failed, fast bool, rnd float64) transition {
	slot := now / p.bucketNanos
	bk := &b.window[slot%windowBuckets]
	if bk.slot != slot {
		*bk = bucket{slot: slot}
	}
	bk.total++
	if !failed {
		b.consecutive = 0
		return transition{}
	}
	bk.failure++
	b.consecutive++
	trip := b.consecutive >= p.threshold
	if !trip {
		var total, fails int32
		for i := range b.window {
			w := &b.window[i]
			if slot-w.slot < windowBuckets {
				total += w.total
				fails += w.failure
			}
		}
		trip = total >= p.minRequests && float64(fails) >= p.errorRate*float64(total)
	}
	if !trip || !b.guard.tryOpen(p.maxOpenFrac) {
		return transition{}
	}
	if b.trips > 0 && now-b.closedAt < p.growthHorizon {
		b.trips++
	} else {
		b.trips = 1
	}
	b.opens.Add(1)
	b.open(p, now, rnd, fast)
	return transition{from: Closed, to: Open, ok: true}
}

// open moves to OPEN for the current cooldown: base × 2^(trips-1), capped,
// jittered. When the failure that opened it was fast (connection refused:
// the peer's process is down), the base is FastFailCooldown instead: probing
// such a peer costs a caller well under a millisecond and one retry, and a
// restarted peer is found within seconds instead of a whole cooldown.
func (b *breaker) open(p *breakerParams, now int64, rnd float64, fast bool) {
	cd := p.cooldown
	if fast && p.fastCooldown > 0 {
		cd = min(cd, p.fastCooldown)
	}
	for i := 1; i < b.trips && cd < p.maxCooldown; i++ {
		cd *= 2
	}
	cd = min(cd, p.maxCooldown)
	cd = int64(float64(cd) * (1 + p.jitter*(2*rnd-1)))
	b.gen++
	b.probes = 0
	b.openUntil.Store(now + cd)
	b.st.Store(int32(Open))
}

// admitProbe decides whether a request may go to a non-closed breaker and,
// if so, reserves a probe slot. It returns the generation the probe belongs
// to so that results from an earlier half-open episode are ignored.
func (b *breaker) admitProbe(p *breakerParams, now int64, rnd float64) (ok bool, gen uint32, tr transition) {
	switch b.state() {
	case Closed:
		return true, 0, transition{}
	case Open:
		if now < b.openUntil.Load() {
			return false, 0, transition{}
		}
		b.st.Store(int32(HalfOpen))
		b.gen++
		b.probes = 0
		tr = transition{from: Open, to: HalfOpen, ok: true}
	}
	if b.probes >= p.halfOpenMax {
		if now-b.probeAt <= p.probeTimeout+p.probeTimeout/2 {
			return false, 0, tr
		}
		// The probes never settled (their own timeout should have fired):
		// treat them as failed so the breaker cannot stay stuck half-open.
		b.open(p, now, rnd, false)
		return false, 0, transition{from: HalfOpen, to: Open, ok: true}
	}
	if b.probes == 0 {
		b.probeAt = now
	}
	b.probes++
	return true, b.gen, tr
}

// recordProbe settles a probe: success closes the breaker, failure reopens it
// for the same cooldown (a peer that stays down is probed at a steady pace,
// so a restarted peer is found within one cooldown).
func (b *breaker) recordProbe(p *breakerParams, now int64, gen uint32, failed, fast bool, rnd float64) transition {
	if b.state() != HalfOpen || gen != b.gen {
		return transition{}
	}
	b.probes--
	if failed {
		b.open(p, now, rnd, fast)
		return transition{from: HalfOpen, to: Open, ok: true}
	}
	// One successful probe is enough evidence; later probe results of this
	// episode are ignored because close bumps nothing but the state.
	b.close(now)
	return transition{from: HalfOpen, to: Closed, ok: true}
}

func (b *breaker) close(now int64) {
	b.consecutive = 0
	b.window = [windowBuckets]bucket{}
	b.closedAt = now
	b.st.Store(int32(Closed))
	b.guard.release()
}

// dropped is called when the peer leaves the service: its open slot is freed.
func (b *breaker) dropped() {
	if b.state() != Closed {
		b.st.Store(int32(Closed))
		b.guard.release()
	}
}

// cooldownFor reports the un-jittered cooldown of the given trip count (for tests and docs).
// fastFailure is the latency under which a transport error means "nobody
// is listening" rather than "the peer is struggling".
const fastFailure = 100 * time.Millisecond

func cooldownFor(p *breakerParams, trips int) time.Duration {
	cd := p.cooldown
	for i := 1; i < trips && cd < p.maxCooldown; i++ {
		cd *= 2
	}
	return time.Duration(min(cd, p.maxCooldown))
}

func (p *breakerParams) probeDuration() time.Duration { return time.Duration(p.probeTimeout) }
