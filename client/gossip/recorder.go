package gossip

import (
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder collects this client's own outcomes per peer, the raw material of
// what it publishes and the "local evidence" the advice is gated on. Counts
// halve every EvidenceHalfLife, so a published hint describes the recent
// past yet a peer this client avoids (and so samples rarely) still gathers
// enough samples for a confident hint. Breaker state is recorded too: an
// open breaker is the client's strongest verdict. At most MaxPeers peers are
// kept (the least recently seen is forgotten first); peers unseen for
// HintTTL are dropped.
//
// Record and Local run on the client's request path, so they are
// lock-light: the peer table is a copy-on-write map read without locking
// (it changes only when a new peer appears), each record has its own small
// mutex for its counts, and Local reads atomics only.
type Recorder struct {
	cfg Config

	mu    sync.Mutex                         // serialises changes of the table
	peers atomic.Pointer[map[string]*record] // copy-on-write
}

// record is one peer's decayed counts, as of the time in atNs.
type record struct {
	mu                sync.Mutex // guards samples and failures
	samples, failures float64

	atNs   atomic.Int64  // Unix ns of the last Record or breaker change, also the decay reference
	rate   atomic.Uint64 // math.Float64bits(failures/samples); NaN bits before any sample
	broken atomic.Bool   // the client's breaker for the peer is not closed
}

// noRate marks a record with no sample yet.
var noRate = math.Float64bits(math.NaN())

// NewRecorder returns an empty recorder for cfg (validated).
func NewRecorder(cfg Config) *Recorder {
	r := &Recorder{cfg: cfg}
	r.peers.Store(&map[string]*record{})
	return r
}

// decay is the count factor after d: one half per EvidenceHalfLife.
func (r *Recorder) decay(d time.Duration) float64 {
	if d <= 0 {
		return 1
	}
	return math.Exp2(-float64(d) / float64(r.cfg.EvidenceHalfLife))
}

// touchLocked ages rec's counts to at and moves its time forward; rec.mu is held.
func (r *Recorder) touchLocked(rec *record, at time.Time) {
	last := rec.atNs.Load()
	f := r.decay(time.Duration(at.UnixNano() - last))
	rec.samples *= f
	rec.failures *= f
	if at.UnixNano() > last {
		rec.atNs.Store(at.UnixNano())
	}
}

// Record adds one completed attempt on peer at time at. Cancelled attempts
// say nothing about the peer and should not be recorded.
func (r *Recorder) Record(peer string, failed bool, at time.Time) {
	rec := r.get(peer, at, true)
	rec.mu.Lock()
	r.touchLocked(rec, at)
	rec.samples++
	if failed {
		rec.failures++
	}
	rec.rate.Store(math.Float64bits(rec.failures / rec.samples))
	rec.mu.Unlock()
}

// SetBroken records whether the client's breaker for peer is open (or
// half-open): call it from the breaker hook with To != Closed. While it is,
// the peer is published as DEGRADED with full confidence.
func (r *Recorder) SetBroken(peer string, broken bool, at time.Time) {
	rec := r.get(peer, at, broken)
	if rec == nil {
		return // closing the breaker of a peer we keep nothing about
	}
	rec.mu.Lock()
	r.touchLocked(rec, at)
	rec.broken.Store(broken)
	rec.mu.Unlock()
}

// get returns peer's record, creating it when create is set (evicting the
// least recently seen peer when full). The fast path takes no lock.
func (r *Recorder) get(peer string, at time.Time, create bool) *record {
	if rec := (*r.peers.Load())[peer]; rec != nil || !create {
		return rec
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.peers.Load()
	if rec := old[peer]; rec != nil {
		return rec
	}
	next := make(map[string]*record, len(old)+1)
	for p, rec := range old {
		next[p] = rec
	}
	if len(next) >= r.cfg.MaxPeers {
		var oldest string
		var oldestNs int64
		for p, rec := range next {
			if ns := rec.atNs.Load(); oldest == "" || ns < oldestNs {
				oldest, oldestNs = p, ns
			}
		}
		delete(next, oldest)
	}
	rec := &record{}
	rec.atNs.Store(at.UnixNano())
	rec.rate.Store(noRate)
	next[peer] = rec
	r.peers.Store(&next)
	return rec
}

// Local returns this client's own view of peer for [Book.Advise]: the age
// of its latest outcome and its recent failure share (or NoLocalEvidence
// when none is kept). Lock-free.
func (r *Recorder) Local(peer string, now time.Time) Local {
	rec := (*r.peers.Load())[peer]
	if rec == nil {
		return Local{Age: NoLocalEvidence, FailureRate: -1}
	}
	rate := math.Float64frombits(rec.rate.Load())
	if math.IsNaN(rate) {
		return Local{Age: NoLocalEvidence, FailureRate: -1}
	}
	age := max(time.Duration(now.UnixNano()-rec.atNs.Load()), 0)
	if rec.broken.Load() {
		return Local{Age: age, FailureRate: 1}
	}
	// The ratio does not change with decay, so no need to age the counts.
	return Local{Age: age, FailureRate: rate}
}

// EvidenceAge returns how long ago peer's last outcome was recorded, or
// NoLocalEvidence if none is kept.
func (r *Recorder) EvidenceAge(peer string, now time.Time) time.Duration {
	rec := (*r.peers.Load())[peer]
	if rec == nil {
		return NoLocalEvidence
	}
	return max(time.Duration(now.UnixNano()-rec.atNs.Load()), 0)
}

// Observations returns the current evidence per peer (decayed to now), most
// recently seen first, and drops peers unseen for HintTTL (unless their
// breaker is open: a long cooldown brings no samples, yet the verdict holds).
func (r *Recorder) Observations(now time.Time) []Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := *r.peers.Load()
	keep := make(map[string]*record, len(old))
	out := make([]Observation, 0, len(old))
	for p, rec := range old {
		rec.mu.Lock()
		at := time.Unix(0, rec.atNs.Load())
		broken := rec.broken.Load()
		f := r.decay(now.Sub(at))
		o := Observation{Peer: p, Samples: rec.samples * f, Failures: rec.failures * f, LastSample: at, Broken: broken}
		rec.mu.Unlock()
		if now.Sub(at) >= r.cfg.HintTTL && !broken {
			continue
		}
		keep[p] = rec
		out = append(out, o)
	}
	if len(keep) != len(old) {
		r.peers.Store(&keep)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastSample.After(out[j].LastSample) })
	return out
}

// Hints assesses every observation into the hints to publish now.
func (r *Recorder) Hints(now time.Time) []Hint {
	obs := r.Observations(now)
	hs := make([]Hint, 0, len(obs))
	for _, o := range obs {
		if h, ok := Assess(&r.cfg, o, now); ok {
			hs = append(hs, h)
		}
	}
	return hs
}
