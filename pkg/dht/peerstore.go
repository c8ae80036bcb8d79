package dht

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// peerRef names one stored announcement.
type peerRef struct {
	key  string
	peer netip.AddrPort
}

// generation is one record-cache generation: key -> set of peers, plus the
// insertion order so that size eviction is O(1) (entries that moved to the
// newer generation are skipped lazily).
type generation struct {
	set      map[string]map[netip.AddrPort]struct{}
	n        int
	keyBytes int // bytes of distinct keys: keys are remote input of any length
	order    []peerRef
	head     int
}

func newGeneration() *generation {
	return &generation{set: make(map[string]map[netip.AddrPort]struct{})}
}

func (g *generation) has(r peerRef) bool {
	_, ok := g.set[r.key][r.peer]
	return ok
}

func (g *generation) insert(r peerRef) {
	m := g.set[r.key]
	if m == nil {
		m = make(map[netip.AddrPort]struct{})
		g.set[r.key] = m
		g.keyBytes += len(r.key)
	}
	m[r.peer] = struct{}{}
	g.n++
	g.order = append(g.order, r)
}

func (g *generation) delete(r peerRef) {
	m := g.set[r.key]
	delete(m, r.peer)
	if len(m) == 0 {
		delete(g.set, r.key)
		g.keyBytes -= len(r.key)
	}
	g.n--
}

// evictOldest drops the oldest entry still present; false when empty.
func (g *generation) evictOldest() bool {
	for g.head < len(g.order) {
		r := g.order[g.head]
		g.order[g.head] = peerRef{}
		g.head++
		if g.head > 64 && g.head > len(g.order)/2 {
			g.order = append(g.order[:0:0], g.order[g.head:]...)
			g.head = 0
		}
		if g.has(r) {
			g.delete(r)
			return true
		}
	}
	return false
}

// peerStore keeps announcements with record-cache semantics, so expiry lands
// in the same window as on a Node grape: two generations, and every
// ceil(2A/3) the old generation is dropped and the current one becomes old.
// An entry added once lives 2A/3..4A/3; re-adding it from the old generation
// moves it back to the current one; A = 0 never expires. The total number of
// entries is bounded by max, and their key bytes by maxKeyBytes (oldest of
// the older generation evicted first).
// Pure: time comes in as arguments. Not safe for concurrent use.
type peerStore struct {
	maxAge   time.Duration
	interval time.Duration
	max      int
	cur, old *generation
	lastGC   time.Time
}

func newPeerStore(maxAge time.Duration, maxEntries int, now time.Time) *peerStore {
	s := &peerStore{maxAge: maxAge, max: maxEntries, cur: newGeneration(), old: newGeneration(), lastGC: now}
	if maxAge > 0 {
		// ceil(2A/3) in whole milliseconds, as record-cache computes it.
		ms := (2*maxAge.Milliseconds() + 2) / 3
		s.interval = max(time.Duration(ms)*time.Millisecond, time.Millisecond)
	}
	return s
}

// gc runs the generation swaps that are due by now.
func (s *peerStore) gc(now time.Time) {
	if s.interval == 0 || now.Before(s.lastGC.Add(s.interval)) {
		return
	}
	n := now.Sub(s.lastGC) / s.interval
	if n >= 2 {
		s.cur, s.old = newGeneration(), newGeneration()
	} else {
		s.cur, s.old = newGeneration(), s.cur
	}
	s.lastGC = s.lastGC.Add(n * s.interval)
}

// add stores peer under key; it reports whether the peer is new (not a
// refresh of an entry either generation held).
func (s *peerStore) add(key []byte, peer netip.AddrPort, now time.Time) bool {
	s.gc(now)
	r := peerRef{key: string(key), peer: peer}
	if s.cur.has(r) {
		return false
	}
	isNew := !s.old.has(r)
	if !isNew {
		s.old.delete(r)
	} else {
		if s.max <= 0 {
			return false
		}
		for s.full(len(r.key)) && (s.old.evictOldest() || s.cur.evictOldest()) {
		}
	}
	s.cur.insert(r)
	return isNew
}

// maxKeyBytes bounds the memory held by keys: a key can be as long as a
// datagram (Node grapes accept a 9000-byte service name), so MaxPeers
// alone would allow hundreds of megabytes.
const maxKeyBytes = 32 << 20

// full reports whether adding an entry with a key of keyLen bytes needs an
// eviction first.
func (s *peerStore) full(keyLen int) bool {
	return s.cur.n+s.old.n >= s.max || s.cur.keyBytes+s.old.keyBytes+keyLen > maxKeyBytes
}

// get returns up to limit peers stored under key (a uniformly random subset
// when there are more), both generations, deduplicated.
func (s *peerStore) get(key []byte, limit int, now time.Time) []netip.AddrPort {
	s.gc(now)
	k := string(key)
	c, o := s.cur.set[k], s.old.set[k]
	out := make([]netip.AddrPort, 0, min(len(c)+len(o), limit))
	// Collect everything only when a random subset must be drawn.
	if len(c)+len(o) > limit {
		all := make([]netip.AddrPort, 0, len(c)+len(o))
		for p := range c {
			all = append(all, p)
		}
		for p := range o {
			all = append(all, p)
		}
		rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		return append(out, all[:limit]...)
	}
	for p := range c {
		out = append(out, p)
	}
	for p := range o {
		out = append(out, p)
	}
	return out
}

// counts returns the number of keys and of stored entries.
func (s *peerStore) counts(now time.Time) (keys, peers int) {
	s.gc(now)
	keys = len(s.cur.set)
	for k := range s.old.set {
		if _, ok := s.cur.set[k]; !ok {
			keys++
		}
	}
	return keys, s.cur.n + s.old.n
}
