package gossip

import (
	"encoding/base64"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/client"
)

// Book holds the hints received from other clients and turns them into
// advice for the picker. It is safe for concurrent use: Ingest takes a
// mutex, Advise reads an immutable view through an atomic pointer, so the
// picker's hot path never waits for the network side.
type Book struct {
	cfg Config
	now func() time.Time

	mu       sync.Mutex
	origins  map[string]*originState // by origin id, at most cfg.MaxOrigins
	sources  map[string]string       // publisher address -> the one origin it speaks for
	buckets  map[string]*bucket      // publisher address -> frame rate limiter, at most 4*MaxOrigins
	counts   [numVerdicts]uint64
	received uint64
	bytes    int // charged against cfg.MaxBookBytes, see bookbudget.go

	view atomic.Pointer[view]
}

// bucket is a token bucket limiting one publisher's frames.
type bucket struct {
	tokens float64
	at     time.Time
	cost   int // charged against the byte budget
}

// rateBurst is how many frames a publisher may send back to back; honest
// publishers send one per interval, so this only absorbs reconnect bursts.
const rateBurst = 8

// originState is what the book keeps of one origin: its latest message only.
type originState struct {
	principal string // who is counted as independent: signer key, or the origin itself
	source    string
	lastSeq   uint64
	lastHeard time.Time // receiver clock
	hints     []storedHint
	cost      int // charged against the byte budget
}

// storedHint is a hint turned into receiver-clock terms.
type storedHint struct {
	peer       string
	degraded   bool
	weight     float64   // conf × origin trust, before decay
	observedAt time.Time // receive time minus the evidence age
}

// view is an immutable snapshot of the per-peer sums at one instant. Between
// rebuilds every weight decays by the same factor, so a reader can age the
// sums exactly without locking.
type view struct {
	at    time.Time
	peers map[string]pressure
}

// pressure holds, for one peer, the sums over independent principals of their
// (decayed, trust-weighted) hint weights at view.at.
type pressure struct {
	degraded, healthy float64
}

// minOriginTrust is the weight left to an origin that calls all its peers
// degraded: it is most likely the one in trouble (Lifeguard's lesson), but
// it might also be right about a sick cluster.
const minOriginTrust = 0.25

// NewBook returns an empty book for cfg (which must have passed Validate);
// now is the clock (time.Now in production, a fake in tests).
func NewBook(cfg Config, now func() time.Time) *Book {
	if now == nil {
		now = time.Now
	}
	b := &Book{
		cfg:     cfg,
		now:     now,
		origins: make(map[string]*originState),
		sources: make(map[string]string),
		buckets: make(map[string]*bucket),
	}
	b.view.Store(&view{at: now(), peers: map[string]pressure{}})
	return b
}

// Ingest processes one received frame. source is the address of the
// publisher it came from ("" when unknown); it binds each publisher to one
// origin at a time so one connection cannot pose as many independent
// clients. The verdict is also counted in [Book.Stats].
func (b *Book) Ingest(source string, frame []byte) Verdict {
	v := b.ingest(source, frame)
	b.mu.Lock()
	if v != DroppedOwn {
		b.received++
	}
	b.counts[v]++
	b.mu.Unlock()
	return v
}

// allow spends one of source's tokens; false means the publisher is
// flooding. Frames of unknown source ("") are not limited here.
func (b *Book) allow(source string, now time.Time) bool {
	if source == "" {
		return true
	}
	spacing := min(max(b.cfg.PublishInterval/4, 10*time.Millisecond), time.Second)
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.buckets[source]
	if bk == nil {
		cost := len(source) + bookBucketCost
		// Forget arbitrary ones to make room (a limiter may forget); when
		// origins fill the byte budget a new publisher is refused.
		for s, old := range b.buckets {
			if len(b.buckets) < 4*b.cfg.MaxOrigins && b.bytes+cost <= b.cfg.MaxBookBytes {
				break
			}
			delete(b.buckets, s)
			b.bytes -= old.cost
		}
		if b.bytes+cost > b.cfg.MaxBookBytes {
			return false
		}
		bk = &bucket{tokens: rateBurst, at: now, cost: cost}
		b.buckets[source] = bk
		b.bytes += cost
	}
	if d := now.Sub(bk.at); d > 0 {
		bk.tokens = min(rateBurst, bk.tokens+float64(d)/float64(spacing))
		bk.at = now
	}
	if bk.tokens < 1 {
		return false
	}
	bk.tokens--
	return true
}

// ingest decides on one frame; the caller counts the verdict.
func (b *Book) ingest(source string, frame []byte) Verdict {
	if !b.allow(source, b.now()) {
		return RejectedRate
	}
	m, err := Decode(frame, b.cfg.MaxFrameBytes(), b.cfg.MaxPeers)
	if err != nil {
		return RejectedMalformed
	}
	if m.Origin == b.cfg.Origin {
		return DroppedOwn
	}
	key, err := m.Verify(b.cfg.TrustedKeys)
	switch {
	case errors.Is(err, ErrUntrusted):
		return RejectedUntrusted
	case err != nil:
		return RejectedSignature
	}
	now := b.now()
	if d := now.Sub(time.UnixMilli(m.Sent)); d > b.cfg.HintTTL || d < -b.cfg.HintTTL {
		return RejectedExpired
	}
	principal := "origin:" + m.Origin
	if key != nil {
		principal = "key:" + base64.StdEncoding.EncodeToString(key)
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked(now)

	st := b.origins[m.Origin]
	if st != nil {
		switch {
		case m.Seq == st.lastSeq:
			return DroppedDuplicate
		case m.Seq < st.lastSeq:
			return DroppedStale
		}
		// A live origin keeps its publisher and signer. Changing either is
		// allowed only after two silent intervals (a restart), so nobody can
		// take over a live origin's voice by sending a higher seq.
		moved := (source != "" && st.source != "" && source != st.source) || principal != st.principal
		if moved && now.Sub(st.lastHeard) < 2*b.cfg.PublishInterval {
			return RejectedConflict
		}
	} else if len(b.origins) >= b.cfg.MaxOrigins {
		// Full of live origins: keep the established ones (stability over
		// novelty, so a flood of new names cannot evict honest clients),
		// unless this publisher is replacing its own previous origin.
		if prev, ok := b.sources[source]; source == "" || !ok || prev == m.Origin {
			return RejectedLimit
		}
	}

	hints := b.storeHints(nil, m.Hints, now)
	cost := originBytes(m.Origin, principal, source, hints)
	var replaced *originState
	if prev, ok := b.sources[source]; source != "" && ok && prev != m.Origin {
		replaced = b.origins[prev]
	}
	if !b.fitsLocked(cost, st, replaced) {
		return RejectedLimit
	}

	if source != "" {
		if prev, ok := b.sources[source]; ok && prev != m.Origin {
			// One publisher, one voice: a new origin on the same connection
			// replaces the old one instead of adding to it.
			b.dropOriginLocked(prev)
		}
	}
	if st == nil {
		st = &originState{}
		b.origins[m.Origin] = st
	}
	if st.source != "" && st.source != source {
		delete(b.sources, st.source)
	}
	if source != "" {
		b.sources[source] = m.Origin
	}
	st.principal = principal
	st.source = source
	st.lastSeq = m.Seq
	st.lastHeard = now
	st.hints = hints
	b.chargeLocked(st, cost)
	b.rebuildLocked(now)
	return Applied
}

// storeHints converts wire hints to receiver-clock terms, applying the
// origin's trust to its DEGRADED hints and skipping hints already past TTL.
func (b *Book) storeHints(dst []storedHint, hs []Hint, now time.Time) []storedHint {
	trust := originTrust(hs)
	for _, h := range hs {
		age := time.Duration(h.AgeMS) * time.Millisecond
		if age >= b.cfg.HintTTL || h.Conf == 0 {
			continue
		}
		w := h.Conf
		if h.State == Degraded {
			w *= trust
		}
		dst = append(dst, storedHint{peer: h.Peer, degraded: h.State == Degraded, weight: w, observedAt: now.Add(-age)})
	}
	return dst
}

// originTrust discounts an origin that calls most of its peers degraded:
// when everything looks broken from one place, that place is the likely
// problem. With fewer than 3 hints there is nothing to compare, so full
// trust. The discount is linear from 1 at half degraded to minOriginTrust
// at all degraded; it only ever lowers weight, so it cannot be gamed upward.
func originTrust(hs []Hint) float64 {
	if len(hs) < 3 {
		return 1
	}
	deg := 0
	for _, h := range hs {
		if h.State == Degraded {
			deg++
		}
	}
	f := float64(deg) / float64(len(hs))
	if f <= 0.5 {
		return 1
	}
	return 1 - (f-0.5)*2*(1-minOriginTrust)
}

// expireLocked forgets origins silent for longer than HintTTL.
func (b *Book) expireLocked(now time.Time) {
	for id, st := range b.origins {
		if now.Sub(st.lastHeard) > b.cfg.HintTTL {
			b.dropOriginLocked(id)
		}
	}
}

// dropOriginLocked removes an origin and its publisher binding.
func (b *Book) dropOriginLocked(id string) {
	st, ok := b.origins[id]
	if !ok {
		return
	}
	if st.source != "" && b.sources[st.source] == id {
		delete(b.sources, st.source)
	}
	delete(b.origins, id)
	b.bytes -= st.cost
}

// decay is the weight factor after age d: DecayFactor per PublishInterval.
func (b *Book) decay(d time.Duration) float64 {
	if d <= 0 || b.cfg.DecayFactor == 1 {
		return 1
	}
	return math.Pow(b.cfg.DecayFactor, float64(d)/float64(b.cfg.PublishInterval))
}

// rebuildLocked recomputes the per-peer sums at now and publishes them.
// Independence is counted per principal: several origins signed by one key
// count once per peer, with the largest of their weights.
func (b *Book) rebuildLocked(now time.Time) {
	perPrincipal := make(map[string]int, len(b.origins))
	for _, st := range b.origins {
		perPrincipal[st.principal]++
	}
	peers := make(map[string]pressure, len(b.view.Load().peers))
	add := func(h storedHint) {
		p := peers[h.peer]
		if h.degraded {
			p.degraded += h.weight
		} else {
			p.healthy += h.weight
		}
		peers[h.peer] = p
	}
	// Signers with several origins: keep their largest weight per peer.
	// Rare (unsigned origins are their own principal), so the map is small.
	type pk struct{ peer, principal string }
	var best map[pk]storedHint
	for _, st := range b.origins {
		shared := perPrincipal[st.principal] > 1
		for _, h := range st.hints {
			age := now.Sub(h.observedAt)
			if age >= b.cfg.HintTTL {
				continue
			}
			h.weight *= b.decay(age)
			if !shared {
				add(h)
				continue
			}
			if best == nil {
				best = make(map[pk]storedHint)
			}
			k := pk{h.peer, st.principal}
			if old, ok := best[k]; !ok || h.weight > old.weight {
				best[k] = h
			}
		}
	}
	for _, h := range best {
		add(h)
	}
	b.view.Store(&view{at: now, peers: peers})
}

// Refresh drops expired origins and hints and rebuilds the view. Ingest
// rebuilds on every applied message; call Refresh periodically (the
// Gossiper does, once per PublishInterval) so expiry also happens when the
// channel is quiet.
func (b *Book) Refresh() {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked(now)
	b.rebuildLocked(now)
}

// Pressure returns the aggregated DEGRADED and HEALTHY pressure on peer now,
// each in [0, 1]: the sum over independent origins of decayed,
// trust-weighted confidences, divided by MinOrigins and capped at 1. One
// origin alone therefore reaches at most 1/MinOrigins.
func (b *Book) Pressure(peer string) (degraded, healthy float64) {
	sd, sh := b.sums(peer, b.now())
	q := float64(b.cfg.MinOrigins)
	return math.Min(1, sd/q), math.Min(1, sh/q)
}

// sums returns the raw remote sums for peer, aged to now.
func (b *Book) sums(peer string, now time.Time) (degraded, healthy float64) {
	v := b.view.Load()
	p, ok := v.peers[peer]
	if !ok {
		return 0, 0
	}
	f := b.decay(now.Sub(v.at))
	return p.degraded * f, p.healthy * f
}

// Advise is what the hints say about peer at now, as the prior the client
// weighs against its own outcomes (see [client.HintAdvice]). With D and H
// the sums of the live DEGRADED and HEALTHY hints (decayed, trust-weighted
// confidences of independent origins) and D > H:
//
//	FailureRate = min(1, 2 × DegradedErrorRate × (MaxNudge − 1)) × (D − H) / (D + H)
//	Weight      = PriorWeight × min(1, D / MinOrigins)
//
// With the defaults a DEGRADED consensus stands for a peer failing 40% of
// its requests, what a full-confidence DEGRADED hint reports, and HEALTHY
// voices water it down; MinOrigins independent origins make a prior worth
// PriorWeight outcomes, one origin alone a prior its client's own evidence
// outweighs MinOrigins times sooner. No DEGRADED lead, or MaxNudge 1, is no
// advice. Gossip never touches breakers.
func (b *Book) Advise(peer string, now time.Time) client.HintAdvice {
	sd, sh := b.sums(peer, now)
	if sd <= sh || b.cfg.MaxNudge <= 1 {
		return client.HintAdvice{}
	}
	full := math.Min(1, 2*b.cfg.DegradedErrorRate*(b.cfg.MaxNudge-1))
	return client.HintAdvice{
		FailureRate: full * (sd - sh) / (sd + sh),
		Weight:      b.cfg.PriorWeight * math.Min(1, sd/float64(b.cfg.MinOrigins)),
	}
}

// Stats returns the counters and table sizes.
func (b *Book) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{
		Received:  b.received,
		ByVerdict: make(map[string]uint64, numVerdicts),
		Origins:   len(b.origins),
		Peers:     len(b.view.Load().peers),
	}
	for v := Verdict(0); v < numVerdicts; v++ {
		n := b.counts[v]
		s.ByVerdict[v.String()] = n
		switch {
		case v == DroppedOwn:
			s.Own += n
		case v == Applied:
			s.Applied += n
		case v.Dropped():
			s.Dropped += n
		case v.Rejected():
			s.Rejected += n
		}
	}
	return s
}
