package gossip

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Recorder collects this client's own outcomes per peer, the raw material of
// what it publishes and the "local evidence age" the nudge is gated on.
// Counts decay by DecayFactor per PublishInterval, like received hints, so a
// published hint describes the recent past. At most MaxPeers peers are kept
// (the least recently seen is forgotten first); peers unseen for HintTTL are
// dropped. Safe for concurrent use; Record is O(1).
type Recorder struct {
	cfg Config

	mu    sync.Mutex
	peers map[string]*record
}

// record is one peer's decayed counts, as of at.
type record struct {
	samples, failures float64
	at                time.Time // time of the last Record, also the decay reference
}

// NewRecorder returns an empty recorder for cfg (validated).
func NewRecorder(cfg Config) *Recorder {
	return &Recorder{cfg: cfg, peers: make(map[string]*record)}
}

// decayTo ages r's counts to now.
func (r *Recorder) decayTo(rec *record, now time.Time) {
	if d := now.Sub(rec.at); d > 0 && r.cfg.DecayFactor < 1 {
		f := math.Pow(r.cfg.DecayFactor, float64(d)/float64(r.cfg.PublishInterval))
		rec.samples *= f
		rec.failures *= f
	}
}

// Record adds one completed attempt on peer at time at. Cancelled attempts
// say nothing about the peer and should not be recorded.
func (r *Recorder) Record(peer string, failed bool, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.peers[peer]
	if rec == nil {
		if len(r.peers) >= r.cfg.MaxPeers {
			r.evictOldestLocked()
		}
		rec = &record{at: at}
		r.peers[peer] = rec
	}
	r.decayTo(rec, at)
	if at.After(rec.at) {
		rec.at = at
	}
	rec.samples++
	if failed {
		rec.failures++
	}
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
// recently seen first, and drops peers unseen for HintTTL.
func (r *Recorder) Observations(now time.Time) []Observation {
	r.mu.Lock()
	out := make([]Observation, 0, len(r.peers))
	for p, rec := range r.peers {
		if now.Sub(rec.at) >= r.cfg.HintTTL {
			delete(r.peers, p)
			continue
		}
		f := 1.0
		if d := now.Sub(rec.at); d > 0 && r.cfg.DecayFactor < 1 {
			f = math.Pow(r.cfg.DecayFactor, float64(d)/float64(r.cfg.PublishInterval))
		}
		out = append(out, Observation{Peer: p, Samples: rec.samples * f, Failures: rec.failures * f, LastSample: rec.at})
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
