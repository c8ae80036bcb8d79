package dht

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// peerEntryOverhead is what one stored announcement costs beyond its key's
// bytes: the entry itself, its slot in its key's peer set and in its
// source's queue, and, when it is the only entry of its key or of its
// source, that key's peer set and that source's index records. It is an
// upper bound measured by TestPeerStoreOverheadHonest (heap growth per
// entry when every entry has its own key and its own source, the worst
// case): 727..815 bytes at 1 000..70 000 entries with Go 1.26 (the spread
// is map growth), plus a tenth for headroom. So MaxPeerBytes bounds the
// store's real memory.
const peerEntryOverhead = 896

// peerEntry is one stored announcement: peer under key, announced by src.
type peerEntry struct {
	key  string
	peer netip.AddrPort
	src  netip.Addr
	gen  *generation // the generation holding it; nil once removed
}

// cost is the bytes an entry is charged against MaxPeerBytes. Entries of
// one key in one generation share the key's bytes, so charging each entry
// the whole key over-counts, never under-counts.
func (e *peerEntry) cost() int { return len(e.key) + peerEntryOverhead }

// share is one source's entries in one generation, oldest first. Entries
// that moved to the newer generation or were removed stay in order until
// they reach the head (skipped lazily), so removal is O(1).
type share struct {
	order []*peerEntry
	head  int
	live  int
	bytes int
}

// generation is one record-cache generation: key -> peers, and per source
// its entries in insertion order.
type generation struct {
	set  map[string]map[netip.AddrPort]*peerEntry
	srcs map[netip.Addr]*share
	n    int
}

func newGeneration() *generation {
	return &generation{set: make(map[string]map[netip.AddrPort]*peerEntry), srcs: make(map[netip.Addr]*share)}
}

func (g *generation) lookup(key string, peer netip.AddrPort) *peerEntry {
	return g.set[key][peer]
}

// peerStore keeps announcements with record-cache semantics, so expiry lands
// in the same window as on a Node grape: two generations, and every
// ceil(2A/3) the old generation is dropped and the current one becomes old.
// An entry added once lives 2A/3..4A/3; re-adding it from the old generation
// moves it back to the current one; A = 0 never expires.
//
// The store holds at most max entries and maxBytes charged bytes (key bytes
// plus peerEntryOverhead per entry). When a new entry needs room, it is
// taken from the source holding the most bytes, oldest entry of that source
// first (its older generation before its current one). So a source flooding
// the store evicts its own records, and a source holding no more than an
// even share of the store keeps all of them.
// Pure: time comes in as arguments. Not safe for concurrent use.
type peerStore struct {
	maxAge   time.Duration
	interval time.Duration
	max      int
	maxBytes int
	cur, old *generation
	lastGC   time.Time
	bytes    int // charged bytes over both generations
	sources  peerSources
}

func newPeerStore(maxAge time.Duration, maxEntries, maxBytes int, now time.Time) *peerStore {
	s := &peerStore{maxAge: maxAge, max: maxEntries, maxBytes: maxBytes,
		cur: newGeneration(), old: newGeneration(), lastGC: now, sources: newPeerSources()}
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
		s.bytes, s.sources = 0, newPeerSources()
	} else {
		s.drop(s.old)
		s.cur, s.old = newGeneration(), s.cur
	}
	s.lastGC = s.lastGC.Add(n * s.interval)
}

// drop takes a whole generation's entries off the books (the generation
// itself is then forgotten): one charge per source it held.
func (s *peerStore) drop(g *generation) {
	for src, sh := range g.srcs {
		s.sources.charge(src, -sh.live, -sh.bytes)
		s.bytes -= sh.bytes
	}
}

// insert puts e into g. Entries of one key in g share one copy of the key.
func (s *peerStore) insert(g *generation, e *peerEntry) {
	m := g.set[e.key]
	if m == nil {
		m = make(map[netip.AddrPort]*peerEntry, 1)
		g.set[e.key] = m
	} else {
		for _, o := range m {
			e.key = o.key
			break
		}
	}
	m[e.peer] = e
	e.gen = g
	g.n++
	sh := g.srcs[e.src]
	if sh == nil {
		sh = &share{}
		g.srcs[e.src] = sh
	}
	sh.order = append(sh.order, e)
	sh.live++
	c := e.cost()
	sh.bytes += c
	s.bytes += c
	s.sources.charge(e.src, 1, c)
}

// remove takes e out of its generation.
func (s *peerStore) remove(e *peerEntry) {
	g := e.gen
	m := g.set[e.key]
	delete(m, e.peer)
	if len(m) == 0 {
		delete(g.set, e.key)
	}
	g.n--
	c := e.cost()
	if sh := g.srcs[e.src]; sh != nil {
		sh.live--
		sh.bytes -= c
		if sh.live == 0 {
			delete(g.srcs, e.src)
		}
	}
	e.gen = nil
	s.bytes -= c
	s.sources.charge(e.src, -1, -c)
}

// evictOldestOf drops the oldest entry of src, its older generation first;
// false when it holds none.
func (s *peerStore) evictOldestOf(src netip.Addr) bool {
	for _, g := range [2]*generation{s.old, s.cur} {
		sh := g.srcs[src]
		for sh != nil && sh.head < len(sh.order) {
			e := sh.order[sh.head]
			sh.order[sh.head] = nil
			sh.head++
			if sh.head > 64 && sh.head > len(sh.order)/2 {
				sh.order = append(sh.order[:0:0], sh.order[sh.head:]...)
				sh.head = 0
			}
			if e.gen == g {
				s.remove(e)
				return true
			}
		}
	}
	return false
}

// add stores peer under key as announced by src; it reports whether the
// peer is new (not a refresh of an entry either generation held). A refresh
// from the old generation moves the entry to the current one, charged to
// the source that refreshed it.
func (s *peerStore) add(key []byte, peer netip.AddrPort, src netip.Addr, now time.Time) bool {
	s.gc(now)
	k := string(key)
	if s.cur.lookup(k, peer) != nil {
		return false
	}
	if e := s.old.lookup(k, peer); e != nil {
		s.remove(e)
		e.src = src
		s.insert(s.cur, e) // same cost as before: no room needed
		return false
	}
	e := &peerEntry{key: k, peer: peer, src: src}
	if s.max <= 0 || e.cost() > s.maxBytes {
		return false
	}
	for s.full(e.cost()) {
		h := s.sources.heaviest()
		if h == nil || !s.evictOldestOf(h.addr) {
			return false // cannot happen: a full store has a source holding entries
		}
	}
	s.insert(s.cur, e)
	return true
}

// full reports whether adding an entry charged cost bytes needs an
// eviction first.
func (s *peerStore) full(cost int) bool {
	return s.cur.n+s.old.n >= s.max || s.bytes+cost > s.maxBytes
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

// removePeer drops peer under key from both generations (an unannounce);
// it reports whether either held it.
func (s *peerStore) removePeer(key []byte, peer netip.AddrPort, now time.Time) bool {
	s.gc(now)
	k := string(key)
	found := false
	for _, g := range [2]*generation{s.cur, s.old} {
		if e := g.lookup(k, peer); e != nil {
			s.remove(e) // its slot in the source queue is skipped lazily
			found = true
		}
	}
	return found
}
