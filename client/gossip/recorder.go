package gossip

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Recorder collects this client's own outcomes per peer, the raw material of
// what it publishes and the "local evidence" the advice is gated on. Counts
// halve every EvidenceHalfLife, so a published hint describes the recent
// past yet a peer this client avoids (and so samples rarely) still gathers
// enough samples for a confident hint. Breaker state is recorded too: an
// open breaker is the client's strongest verdict. At most MaxPeers peers are
// kept (the least recently seen is forgotten first); peers unseen for
// HintTTL are dropped. Safe for concurrent use; Record is O(1).
type Recorder struct {
	cfg Config

	mu    sync.Mutex
	peers map[string]*record
}

// record is one peer's decayed counts, as of at.
type record struct {
	samples, failures float64
	at                time.Time // time of the last Record or breaker change, also the decay reference
	broken            bool      // the client's breaker for the peer is not closed
}

// NewRecorder returns an empty recorder for cfg (validated).
func NewRecorder(cfg Config) *Recorder {
	return &Recorder{cfg: cfg, peers: make(map[string]*record)}
}

// decay is the count factor after d: one half per EvidenceHalfLife.
func (r *Recorder) decay(d time.Duration) float64 {
	if d <= 0 {
		return 1
	}
	return math.Exp2(-float64(d) / float64(r.cfg.EvidenceHalfLife))
}

// decayTo ages r's counts to now.
func (r *Recorder) decayTo(rec *record, now time.Time) {
	f := r.decay(now.Sub(rec.at))
	rec.samples *= f
	rec.failures *= f
}

// Record adds one completed attempt on peer at time at. Cancelled attempts
// say nothing about the peer and should not be recorded.
func (r *Recorder) Record(peer string, failed bool, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.getLocked(peer, at)
	r.decayTo(rec, at)
	if at.After(rec.at) {
		rec.at = at
	}
	rec.samples++
	if failed {
		rec.failures++
	}
}

// SetBroken records whether the client's breaker for peer is open (or
// half-open): call it from the breaker hook with To != Closed. While it is,
// the peer is published as DEGRADED with full confidence.
func (r *Recorder) SetBroken(peer string, broken bool, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.peers[peer]
	if rec == nil && !broken {
		return
	}
	if rec == nil {
		rec = r.getLocked(peer, at)
	}
	r.decayTo(rec, at)
	if at.After(rec.at) {
		rec.at = at
	}
	rec.broken = broken
}

// getLocked returns peer's record, creating it (and evicting the least
// recently seen peer when full).
func (r *Recorder) getLocked(peer string, at time.Time) *record {
	rec := r.peers[peer]
	if rec == nil {
		if len(r.peers) >= r.cfg.MaxPeers {
			r.evictOldestLocked()
		}
		rec = &record{at: at}
		r.peers[peer] = rec
	}
	return rec
}

// evictOldestLocked forgets the peer seen least recently. O(n), but only
// when a new peer arrives at a full table.
func (r *Recorder) evictOldestLocked() {
	var oldest string
	var at time.Time
	for p, rec := range r.peers {
		if oldest == "" || rec.at.Before(at) {
			oldest, at = p, rec.at
		}
	}
	delete(r.peers, oldest)
}

// Local returns this client's own view of peer for [Book.NudgeLocal]: the
// age of its latest outcome and its recent failure share (or
// NoLocalEvidence when none is kept).
func (r *Recorder) Local(peer string, now time.Time) Local {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.peers[peer]
	if rec == nil || rec.samples <= 0 {
		return Local{Age: NoLocalEvidence, FailureRate: -1}
	}
	if rec.broken {
		return Local{Age: max(now.Sub(rec.at), 0), FailureRate: 1}
	}
	// The ratio does not change with decay, so no need to age the counts.
	return Local{Age: max(now.Sub(rec.at), 0), FailureRate: rec.failures / rec.samples}
}

// EvidenceAge returns how long ago peer's last outcome was recorded, or
// NoLocalEvidence if none is kept.
func (r *Recorder) EvidenceAge(peer string, now time.Time) time.Duration {
	r.mu.Lock()
	rec := r.peers[peer]
	var at time.Time
	if rec != nil {
		at = rec.at
	}
	r.mu.Unlock()
	if rec == nil {
		return NoLocalEvidence
	}
	return max(now.Sub(at), 0)
}

// Observations returns the current evidence per peer (decayed to now), most
// recently seen first, and drops peers unseen for HintTTL (unless their
// breaker is open: a long cooldown brings no samples, yet the verdict holds).
func (r *Recorder) Observations(now time.Time) []Observation {
	r.mu.Lock()
	out := make([]Observation, 0, len(r.peers))
	for p, rec := range r.peers {
		if now.Sub(rec.at) >= r.cfg.HintTTL && !rec.broken {
			delete(r.peers, p)
			continue
		}
		f := r.decay(now.Sub(rec.at))
		out = append(out, Observation{Peer: p, Samples: rec.samples * f, Failures: rec.failures * f, LastSample: rec.at, Broken: rec.broken})
	}
	r.mu.Unlock()
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
