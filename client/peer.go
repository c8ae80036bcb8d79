package client

import (
	"sync"
	"sync/atomic"
	"time"
)

// Outcome classifies one attempt.
type Outcome int

// Attempt outcomes.
const (
	// Success: the peer answered without error.
	Success Outcome = iota
	// RemoteError: the peer's handler returned an error.
	RemoteError
	// TransportError: connection failure, bad status or unreadable reply.
	TransportError
	// Timeout: the attempt's deadline passed.
	Timeout
	// Canceled: the caller gave up (or another attempt won); says nothing about the peer.
	Canceled
)

// String returns a lower-case name.
func (o Outcome) String() string {
	switch o {
	case Success:
		return "success"
	case RemoteError:
		return "remote_error"
	case TransportError:
		return "transport_error"
	case Timeout:
		return "timeout"
	case Canceled:
		return "canceled"
	}
	return "unknown"
}

// peer holds one peer's metrics and breaker. Writers take mu (recording is
// rare per peer compared with reading); picks read the atomics lock-free.
type peer struct {
	addr  string
	svc   string
	guard *openGuard
	tail  *tailEstimator // the service's, fed on success; nil in some tests

	inflight atomic.Int64
	startSum atomic.Int64 // sum of the start times of in-flight attempts
	lastPick atomic.Int64
	slowFrom atomic.Int64 // start of the slow-start ramp; 0 = none

	samples    atomic.Int64
	latBase    atomicFloat // baseline latency EWMA, ns
	latPeak    atomicFloat // last peak, ns; fades to the baseline at read time
	peakAt     atomic.Int64
	latAt      atomic.Int64 // time of the last latency sample
	errRate    atomicFloat
	toRate     atomicFloat
	lastRecord atomic.Int64
	// outcomes and failures count the recorded outcomes and the failed
	// ones (errors and timeouts), decayed with StaleAfter like the rates:
	// how much evidence the rates rest on, which a hint is weighed against
	// (hints.go) and gossip publishes.
	outcomes, failures atomicFloat

	attempts, successes, errors, timeouts atomic.Uint64

	mu      sync.Mutex
	br      breaker
	removed bool // under mu: the peer left its service; its breaker no longer counts
}

// metricParams are the metric settings resolved once from Config.
type metricParams struct {
	peakDecay   int64
	staleAfter  int64
	latDecay    int64
	rateAlpha   float64
	slowStart   int64
	penalty     float64
	wErr, wTo   float64 // error and timeout weights normalised to sum 1 (cost)
	wLat, wFrsh float64
	wErrRaw     float64 // raw configured weights (score)
	wToRaw      float64
}

func (m *metricParams) peakDuration() time.Duration { return time.Duration(m.peakDecay) }

func (m *metricParams) slowDuration() time.Duration { return time.Duration(m.slowStart) }

func newMetricParams(c Config) metricParams {
	m := metricParams{
		peakDecay:  int64(c.LatencyPeakDecay),
		staleAfter: int64(c.StaleAfter),
		latDecay:   int64(c.LatencyDecay),
		rateAlpha:  c.RateAlpha,
		slowStart:  int64(c.SlowStart),
		penalty:    c.FailurePenalty,
		wLat:       c.LatencyWeight,
		wFrsh:      c.FreshnessWeight,
		wErrRaw:    c.ErrorWeight,
		wToRaw:     c.TimeoutWeight,
	}
	if s := c.ErrorWeight + c.TimeoutWeight; s > 0 {
		m.wErr, m.wTo = c.ErrorWeight/s, c.TimeoutWeight/s
	}
	return m
}

func newPeer(addr string, g *openGuard) *peer {
	p := &peer{addr: addr, guard: g}
	p.br.guard = g
	return p
}

// latency returns the peak-sensitive latency estimate in ns, or -1 when the
// peer has no sample yet.
func (p *peer) latency(m *metricParams, now int64) float64 {
	if p.samples.Load() == 0 {
		return -1
	}
	base, peak := p.latBase.Load(), p.latPeak.Load()
	if peak <= base {
		return base
	}
	// A peak counts at most peakCap (2) × the baseline: one scheduling hiccup on
	// a 1 ms peer must not make it look worse than a peer that is always
	// 50 ms slow. A real slowdown moves the baseline within a few samples,
	// and a stuck peer is caught by the age of its requests in flight.
	peak = min(peak, peakCap*base)
	return base + (peak-base)*decay(now-p.peakAt.Load(), m.peakDecay)
}

// peakCap bounds the peak relative to the baseline.
const peakCap = 2

// inflightAge is the mean age of the attempts in flight (0 when none).
func (p *peer) inflightAge(now int64) float64 {
	if n := p.inflight.Load(); n > 0 {
		return max(float64(now-p.startSum.Load()/n), 0)
	}
	return 0
}

// effLatency is latency() raised to the mean age of the attempts in flight:
// a peer that stopped answering looks slow before any timeout fires.
func (p *peer) effLatency(m *metricParams, now int64) float64 {
	lat := p.latency(m, now)
	if n := p.inflight.Load(); n > 0 {
		age := float64(now - p.startSum.Load()/n)
		if age > lat && lat >= 0 {
			return age
		}
	}
	return lat
}

// rates returns the error and timeout rates, faded toward 0 (the neutral
// prior) by the age of the evidence.
func (p *peer) rates(m *metricParams, now int64) (errRate, toRate float64) {
	e, t := p.errRate.Load(), p.toRate.Load()
	if e == 0 && t == 0 {
		return 0, 0 // a clean peer: skip the decay
	}
	d := decay(now-p.lastRecord.Load(), m.staleAfter)
	return e * d, t * d
}

// evidence returns the decayed counts of recorded outcomes and of failed
// ones, aged to now.
func (p *peer) evidence(m *metricParams, now int64) (outcomes, failures float64) {
	n := p.outcomes.Load()
	if n == 0 {
		return 0, 0
	}
	d := decay(now-p.lastRecord.Load(), m.staleAfter)
	return n * d, p.failures.Load() * d
}

// timedOutRecently: the decayed timeout rate is still above 5%.
func (p *peer) timedOutRecently(m *metricParams, now int64) bool {
	_, t := p.rates(m, now)
	return t > 0.05
}

// health is the cost multiplier for failures: 1 for a clean peer.
func (p *peer) health(m *metricParams, now int64) float64 {
	e, t := p.rates(m, now)
	return 1 + m.penalty*(m.wErr*e+m.wTo*t)
}

// slowStartShare is the fraction of its fair traffic a peer in slow start may
// take now (1 when not ramping).
func (p *peer) slowStartShare(m *metricParams, now int64) float64 {
	from := p.slowFrom.Load()
	if from == 0 || m.slowStart <= 0 {
		return 1
	}
	el := now - from
	if el >= m.slowStart {
		p.slowFrom.CompareAndSwap(from, 0)
		return 1
	}
	return max(float64(el)/float64(m.slowStart), 0.05)
}

// begin marks an attempt in flight.
func (p *peer) begin(now int64) {
	p.inflight.Add(1)
	p.startSum.Add(now)
	p.lastPick.Store(now)
	p.attempts.Add(1)
}

// ticket is what a pick hands to the caller; it is a value so a pick allocates nothing.
type ticket struct {
	p     *peer
	start int64
	probe bool
	gen   uint32
	// stream marks a streamed request: its duration is the stream's
	// length, so it does not feed the latency estimate.
	stream bool
	// outpaced marks the loser of a hedge, canceled once the other copy
	// won: not a failure, but it had not answered after its elapsed time,
	// a lower bound of its latency (see finish).
	outpaced bool
	// detached marks a hedge's loser that ran on after its request
	// returned: its outcome feeds the peer, not the service's tail.
	detached bool
}

// finish records the outcome of an attempt. It is O(1): a few EWMA updates
// and one breaker step under the peer's uncontended lock.
func (p *peer) finish(t ticket, m *metricParams, bp *breakerParams, now int64, o Outcome, rnd float64) transition {
	p.inflight.Add(-1)
	p.startSum.Add(-t.start)
	lat := float64(now - t.start)
	failed := o == RemoteError || o == TransportError || o == Timeout
	fast := o == TransportError && lat < float64(fastFailure)
	switch o {
	case Success:
		p.successes.Add(1)
	case RemoteError, TransportError:
		p.errors.Add(1)
	case Timeout:
		p.timeouts.Add(1)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if o == Canceled {
		// Neither success nor failure, but a canceled probe must free its slot.
		if t.probe {
			if p.br.state() == HalfOpen && t.gen == p.br.gen && p.br.probes > 0 {
				p.br.probes--
			}
		}
		// A hedge's loser is censored evidence: its latency is at least
		// the elapsed time. Without it a peer whose every slow answer is
		// beaten by a hedge would never look slow, and the policy would
		// keep sending it its share (each then costing a hedge).
		if t.outpaced && !t.stream && lat > p.latency(m, now) {
			p.addLatency(m, now, lat)
		}
		return transition{}
	}
	// Fast failures must not look fast: only successes and timeouts feed latency.
	if (o == Success || o == Timeout) && !t.stream {
		p.addLatency(m, now, lat)
	}
	// One decay ages every rate and count to now: they share StaleAfter.
	d := decay(now-p.lastRecord.Load(), m.staleAfter)
	addRate(&p.errRate, m.rateAlpha, d, o == RemoteError || o == TransportError)
	addRate(&p.toRate, m.rateAlpha, d, o == Timeout)
	p.outcomes.Store(p.outcomes.Load()*d + 1)
	p.failures.Store(p.failures.Load()*d + b2f(failed))
	p.lastRecord.Store(now)

	if p.removed {
		return transition{} // a drained peer's late outcome must not take an open slot
	}
	if t.probe {
		tr := p.br.recordProbe(bp, now, t.gen, failed, fast, rnd)
		if tr.ok && tr.to == Closed {
			p.recovered(m, now, lat)
		}
		return tr
	}
	if p.br.state() == Closed && !bp.off {
		return p.br.recordClosed(bp, now, failed, fast, rnd)
	}
	return transition{}
}

func (p *peer) addLatency(m *metricParams, now int64, lat float64) {
	prev := p.latAt.Swap(now)
	if p.samples.Add(1) == 1 {
		p.latBase.Store(lat)
		p.latPeak.Store(lat)
		p.peakAt.Store(now)
		return
	}
	// Time-weighted EWMA: the weight of the old estimate is e^(-dt/tau).
	base := p.latBase.Load()
	w := decay(now-prev, m.latDecay)
	p.latBase.Store(lat + w*(base-lat))
	if lat > p.latency(m, now) {
		p.latPeak.Store(lat)
		p.peakAt.Store(now)
	}
}

// addRate moves a rate EWMA, first aged by the decay d, toward hit.
func addRate(r *atomicFloat, alpha, d float64, hit bool) {
	cur := r.Load() * d
	r.Store(cur + alpha*(b2f(hit)-cur))
}

// b2f is 1 for true, 0 for false.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// recovered forgets the failures that opened the breaker once a probe
// succeeded, and ramps the peer up again, so a restarted peer regains its
// share within the slow-start period.
func (p *peer) recovered(m *metricParams, now int64, lat float64) {
	p.errRate.Store(0)
	p.toRate.Store(0)
	p.samples.Store(1)
	p.latAt.Store(now)
	p.latBase.Store(lat)
	p.latPeak.Store(lat)
	p.peakAt.Store(now)
	p.startSlow(now)
}

func (p *peer) startSlow(now int64) {
	if now == 0 {
		now = 1
	}
	p.slowFrom.Store(now)
}
