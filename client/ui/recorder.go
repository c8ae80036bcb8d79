package ui

import (
	"sync"
	"time"

	"github.com/grenache-go/grenache/client"
)

const (
	// ShareWindow is how far back the share of traffic looks.
	ShareWindow = 5 * time.Second
	// maxTransitions is the breaker timeline kept per peer (the newest).
	maxTransitions = 32
	// maxTracked bounds the peers recorded over all services (addresses
	// come from lookups: remote input); more are not recorded, and
	// Dropped counts their events.
	maxTracked = 1024
)

// Transition is one breaker state change.
type Transition struct {
	At       time.Time
	From, To client.BreakerState
}

// Recorder keeps, from the client's hooks, what Stats does not: each peer's
// breaker transitions (a bounded ring) and its attempts per second over
// ShareWindow, for the share of traffic. Install it with Hooks before the
// client is created. Safe for concurrent use.
type Recorder struct {
	now func() time.Time

	mu      sync.Mutex
	peers   map[peerKey]*peerRec
	dropped uint64
}

type peerKey struct{ service, addr string }

// shareSlots is one slot per second of ShareWindow plus the current one.
const shareSlots = int(ShareWindow/time.Second) + 1

type peerRec struct {
	sec   [shareSlots]int64 // the unix second each slot counts
	count [shareSlots]uint64
	ring  [maxTransitions]Transition
	n     int // transitions recorded in total
}

// NewRecorder returns an empty recorder on the wall clock.
func NewRecorder() *Recorder { return NewRecorderClock(time.Now) }

// NewRecorderClock is NewRecorder with an injected clock (tests).
func NewRecorderClock(now func() time.Time) *Recorder {
	return &Recorder{now: now, peers: make(map[peerKey]*peerRec)}
}

// Hooks returns hooks that record into r and then call next's.
func (r *Recorder) Hooks(next client.Hooks) client.Hooks {
	return client.ChainHooks(client.Hooks{OnAttempt: r.attempt, OnBreaker: r.breaker}, next)
}

// rec returns the record of (service, addr), creating it while under the
// bound; nil past it. Called with mu held.
func (r *Recorder) rec(service, addr string) *peerRec {
	k := peerKey{service, addr}
	p := r.peers[k]
	if p == nil {
		if len(r.peers) >= maxTracked {
			r.dropped++
			return nil
		}
		p = &peerRec{}
		r.peers[k] = p
	}
	return p
}

func (r *Recorder) attempt(e client.AttemptEvent) {
	if e.Outcome == client.Canceled {
		return // another attempt won or the caller left: not traffic the peer took
	}
	s := e.At.Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.rec(e.Service, e.Addr)
	if p == nil {
		return
	}
	i := int(s % int64(shareSlots))
	if p.sec[i] != s {
		p.sec[i], p.count[i] = s, 0
	}
	p.count[i]++
}

func (r *Recorder) breaker(e client.BreakerEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.rec(e.Service, e.Addr)
	if p == nil {
		return
	}
	p.ring[p.n%maxTransitions] = Transition{At: e.At, From: e.From, To: e.To}
	p.n++
}

// Shares returns each recorded peer of service's share of the attempts of
// the last ShareWindow (the current second included), 0..1; empty when
// there were none.
func (r *Recorder) Shares(service string) map[string]float64 {
	from := r.now().Add(-ShareWindow).Unix()
	r.mu.Lock()
	defer r.mu.Unlock()
	counts := map[string]uint64{}
	var total uint64
	for k, p := range r.peers {
		if k.service != service {
			continue
		}
		var n uint64
		for i := range p.sec {
			if p.sec[i] > from {
				n += p.count[i]
			}
		}
		counts[k.addr] = n
		total += n
	}
	out := make(map[string]float64, len(counts))
	if total == 0 {
		return out
	}
	for a, n := range counts {
		out[a] = float64(n) / float64(total)
	}
	return out
}

// Timeline returns the breaker transitions of (service, addr), oldest
// first, at most the newest 32, and how many were recorded in total.
func (r *Recorder) Timeline(service, addr string) ([]Transition, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[peerKey{service, addr}]
	if p == nil {
		return nil, 0
	}
	k := min(p.n, maxTransitions)
	out := make([]Transition, 0, k)
	for i := p.n - k; i < p.n; i++ {
		out = append(out, p.ring[i%maxTransitions])
	}
	return out, p.n
}

// Dropped counts events not recorded because maxTracked peers were.
func (r *Recorder) Dropped() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
