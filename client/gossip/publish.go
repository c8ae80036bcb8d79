package gossip

import (
	"crypto/ed25519"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/grenache-go/grenache/client"
)

// Observation is what this client knows locally about one peer, the input to
// [Assess]. Counts are "recent" in whatever window or decay the client's
// metrics use; only their ratio and size matter.
type Observation struct {
	// Peer is the peer's address ("ip:port").
	Peer string
	// Samples is the number of recent completed requests.
	Samples float64
	// Failures is how many of them failed (errors and timeouts).
	Failures float64
	// LastSample is when the latest of them completed (or the breaker
	// last changed).
	LastSample time.Time
	// Broken says the client's breaker for the peer is not closed.
	Broken bool
}

// Assess turns a local observation into the hint to publish, or false when
// there is nothing worth saying (no samples, or evidence past the TTL):
//
//   - breaker not closed → DEGRADED with confidence 1 and age 0 (the
//     verdict holds now, however old the failures behind it);
//   - failure share ≥ DegradedErrorRate → DEGRADED, with confidence
//     evidence × min(1, share / (2 × DegradedErrorRate));
//   - otherwise HEALTHY, with confidence evidence × (1 − share / DegradedErrorRate);
//
// where evidence = min(1, Samples / FullConfidenceSamples), so a hint from a
// handful of requests carries little weight.
func Assess(cfg *Config, o Observation, now time.Time) (Hint, bool) {
	if (o.Samples <= 0 && !o.Broken) || o.LastSample.IsZero() || validPeer(o.Peer) != nil {
		return Hint{}, false
	}
	age := now.Sub(o.LastSample)
	if age < 0 {
		age = 0
	}
	if age >= cfg.HintTTL && !o.Broken {
		return Hint{}, false
	}
	if o.Broken {
		// An open breaker is this client's considered verdict, backed by
		// more failures than any sample count here shows, and it holds now:
		// age 0, or receivers would decay it away during a long cooldown
		// in which, by design, no new samples arrive.
		return Hint{Peer: o.Peer, State: Degraded, Conf: 1, AgeMS: 0}, true
	}
	evidence := math.Min(1, o.Samples/cfg.FullConfidenceSamples)
	share := math.Max(0, math.Min(1, o.Failures/o.Samples))
	h := Hint{Peer: o.Peer, AgeMS: age.Milliseconds()}
	if share >= cfg.DegradedErrorRate {
		h.State = Degraded
		h.Conf = RoundConf(evidence * math.Min(1, share/(2*cfg.DegradedErrorRate)))
	} else {
		h.State = Healthy
		h.Conf = RoundConf(evidence * (1 - share/cfg.DegradedErrorRate))
	}
	if h.Conf == 0 {
		return Hint{}, false
	}
	return h, true
}

// Observe reads one peer's observation off the client's own metrics
// (Client.Stats): its decayed outcome counts, the time of its last outcome
// and whether its breaker is closed. Gossip keeps no per-peer store of its
// own; what it publishes is what the client itself measured, never what
// hints made of it.
func Observe(ps client.PeerStats, now time.Time) Observation {
	o := Observation{Peer: ps.Addr, Samples: ps.Samples, Failures: ps.Failures, Broken: ps.State != client.Closed}
	if ps.Freshness >= 0 {
		o.LastSample = now.Add(-ps.Freshness)
	}
	return o
}

// HintsFrom assesses the client's metrics of every peer of one service into
// the hints to publish at now (the peers with nothing worth saying left out).
func HintsFrom(cfg *Config, stats []client.PeerStats, now time.Time) []Hint {
	hs := make([]Hint, 0, len(stats))
	for _, ps := range stats {
		if h, ok := Assess(cfg, Observe(ps, now), now); ok {
			hs = append(hs, h)
		}
	}
	return hs
}

// Composer builds this client's outgoing messages: it owns the origin id,
// the sequence number and the signing key. Safe for concurrent use.
type Composer struct {
	origin   string
	key      ed25519.PrivateKey
	maxPeers int
	maxBytes int

	mu      sync.Mutex
	lastSeq uint64
}

// NewComposer returns a Composer for cfg (which must have passed Validate).
func NewComposer(cfg Config) *Composer {
	return &Composer{origin: cfg.Origin, key: cfg.SigningKey, maxPeers: cfg.MaxPeers, maxBytes: cfg.MaxFrameBytes()}
}

// Compose encodes hints into one frame sent at now. With more hints than
// MaxPeers it keeps the most useful ones: DEGRADED first, then by confidence,
// then by freshness. The sequence number is max(previous+1, now in Unix ms),
// so it grows across restarts of a process that keeps its origin id.
func (c *Composer) Compose(now time.Time, hints []Hint) ([]byte, error) {
	hs := append([]Hint{}, hints...)
	if len(hs) > c.maxPeers {
		sort.SliceStable(hs, func(i, j int) bool {
			a, b := hs[i], hs[j]
			if (a.State == Degraded) != (b.State == Degraded) {
				return a.State == Degraded
			}
			if a.Conf != b.Conf {
				return a.Conf > b.Conf
			}
			return a.AgeMS < b.AgeMS
		})
		hs = hs[:c.maxPeers]
	}
	c.mu.Lock()
	seq := c.lastSeq + 1
	if ms := uint64(max(now.UnixMilli(), 0)); ms > seq {
		seq = ms
	}
	c.lastSeq = seq
	c.mu.Unlock()
	m := &Message{Version: SchemaVersion, Origin: c.origin, Seq: seq, Sent: now.UnixMilli(), Hints: hs}
	if c.key != nil {
		m.Sign(c.key)
	}
	return Encode(m, c.maxBytes, c.maxPeers)
}
