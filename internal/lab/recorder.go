package lab

import (
	"maps"
	"slices"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/report"
)

// Bounds on what a recorder keeps: peer addresses come from lookups and
// error texts from peers (remote input), so neither may grow without limit.
const (
	maxPeers      = 256
	maxEvents     = 10000
	maxErrorKinds = 20
	maxSeconds    = 3 * 3600
	histMaxMicros = 120_000_000 // 120 s
)

// agg counts one span of time: a phase or a second.
type agg struct {
	hist                     *hdr.Histogram
	requests, ok, failed     int64
	attempts                 int64
	peerAttempts, peerFailed map[string]int64
	peerTimeouts             map[string]int64
	peerStopped              map[string]int64 // attempts sent while the peer was stopped
	opens                    map[string]int64 // CLOSED -> OPEN transitions
	lag                      *hdr.Histogram   // how late requests were sent, µs
	// attLat holds attempt latencies per peer (phases only, not seconds):
	// the latency at healthy peers is the run's noise floor.
	attLat map[string]*hdr.Histogram
}

func newAgg(sigDigits int) *agg {
	return &agg{
		hist:         hdr.New(1, histMaxMicros, sigDigits),
		peerAttempts: map[string]int64{},
		peerFailed:   map[string]int64{},
		peerTimeouts: map[string]int64{},
		peerStopped:  map[string]int64{},
		opens:        map[string]int64{},
		lag:          hdr.New(1, histMaxMicros, 2),
	}
}

// bump adds n to m[k], folding new keys into "other" once the map is full.
func bump(m map[string]int64, k string, n int64) {
	if _, ok := m[k]; !ok && len(m) >= maxPeers {
		k = "other"
	}
	m[k] += n
}

// recorder collects one runner's requests (bucketed by scheduled send
// instant; latency from the Request call, generator lag apart) and
// attempts and breaker transitions (by the time they happened), per phase
// and per second.
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	bounds   []time.Duration // phase i starts at bounds[i]
	phases   []*agg
	secs     []*agg
	breakers []report.BreakerEvent
	errors   map[string]int64
	// stopped classifies attempts by peer and send instant (nil: none are).
	stopped func(addr string, t time.Time) bool
}

func newRecorder() *recorder {
	return &recorder{errors: map[string]int64{}}
}

func (r *recorder) hooks() client.Hooks {
	return client.Hooks{OnAttempt: r.onAttempt, OnBreaker: r.onBreaker}
}

// begin sets the time origin and the phase boundaries; events before it
// count in the first phase and second.
func (r *recorder) begin(start time.Time, bounds []time.Duration, stopped func(string, time.Time) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.start = start
	r.stopped = stopped
	r.bounds = bounds
	r.secs = nil
	r.phases = make([]*agg, len(bounds))
	for i := range r.phases {
		r.phases[i] = newAgg(3)
		r.phases[i].attLat = map[string]*hdr.Histogram{}
	}
}

// at returns the phase and second aggregates for time t; nil before begin.
func (r *recorder) at(t time.Time) (*agg, *agg) {
	if r.phases == nil {
		return nil, nil
	}
	off := max(t.Sub(r.start), 0)
	pi := 0
	for i, b := range r.bounds {
		if off >= b {
			pi = i
		}
	}
	si := min(int(off/time.Second), maxSeconds-1)
	for len(r.secs) <= si {
		r.secs = append(r.secs, newAgg(2))
	}
	return r.phases[pi], r.secs[si]
}

func (r *recorder) onAttempt(e client.AttemptEvent) {
	failed := e.Outcome == client.RemoteError || e.Outcome == client.TransportError || e.Outcome == client.Timeout
	r.mu.Lock()
	defer r.mu.Unlock()
	// Classified by when the attempt was sent, not when it settled: one
	// sent just before a stop window is the old worker's to finish.
	stopped := r.stopped != nil && r.stopped(e.Addr, e.At.Add(-e.Latency))
	for _, a := range r.pair(e.At) {
		a.attempts++
		if stopped {
			bump(a.peerStopped, e.Addr, 1)
		}
		bump(a.peerAttempts, e.Addr, 1)
		if failed {
			bump(a.peerFailed, e.Addr, 1)
		}
		if e.Outcome == client.Timeout {
			bump(a.peerTimeouts, e.Addr, 1)
		}
		if a.attLat != nil && e.Outcome == client.Success {
			h := a.attLat[e.Addr]
			if h == nil && len(a.attLat) < maxPeers {
				h = hdr.New(1, histMaxMicros, 2)
				a.attLat[e.Addr] = h
			}
			if h != nil {
				_ = h.RecordValue(min(max(e.Latency.Microseconds(), 1), histMaxMicros))
			}
		}
	}
}

func (r *recorder) onBreaker(e client.BreakerEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.phases == nil {
		return
	}
	if e.From == client.Closed && e.To == client.Open {
		for _, a := range r.pair(e.At) {
			bump(a.opens, e.Addr, 1)
		}
	}
	if len(r.breakers) < maxEvents {
		r.breakers = append(r.breakers, report.BreakerEvent{
			T: e.At.Sub(r.start).Seconds(), Addr: e.Addr, From: e.From.String(), To: e.To.String()})
	}
}

// handOver gives the run's aggregates and copies of its event lists to
// the caller and lets go of them. A hedge's detached loser may settle
// after the run, and its hook must not write into counts the caller is
// reading (a data race CI caught); such late events fall outside the run
// and are dropped.
func (r *recorder) handOver() (phases, secs []*agg, breakers []report.BreakerEvent, errors map[string]int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	phases, secs = r.phases, r.secs
	r.phases, r.secs = nil, nil
	return phases, secs, slices.Clone(r.breakers), maps.Clone(r.errors)
}

func (r *recorder) pair(t time.Time) []*agg {
	p, s := r.at(t)
	if p == nil {
		return nil
	}
	return []*agg{p, s}
}

// sent records how late the generator sent a request: on a starved
// machine this grows, which tells a disturbed run from a client's fault.
func (r *recorder) sent(intended time.Time, lag time.Duration) {
	us := min(max(lag.Microseconds(), 1), histMaxMicros)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.pair(intended) {
		_ = a.lag.RecordValue(us)
	}
}

// done records one request scheduled at intended; lat is measured from
// its Request call (or is its lag when it was never sent).
func (r *recorder) done(intended time.Time, lat time.Duration, err error) {
	us := min(max(lat.Microseconds(), 1), histMaxMicros)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.pair(intended) {
		a.requests++
		_ = a.hist.RecordValue(us)
		if err != nil {
			a.failed++
		} else {
			a.ok++
		}
	}
	if err != nil {
		msg := err.Error()
		if _, ok := r.errors[msg]; ok || len(r.errors) < maxErrorKinds {
			r.errors[msg]++
		}
	}
}
