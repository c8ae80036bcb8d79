package dht

import (
	"math/rand/v2"
	"net/netip"
	"time"
)

// peerSet is the announcements of one generation: key (raw bytes as a
// string) -> set of peers.
type peerSet map[string]map[netip.AddrPort]struct{}

// peerStore keeps announcements with record-cache semantics, so expiry lands
// in the same window as on a Node grape: two generations, and every
// ceil(2A/3) the old generation is dropped and the current one becomes old.
// An entry added once lives 2A/3..4A/3; re-adding it from the old generation
// moves it back to the current one; A = 0 never expires. The total number of
// entries is bounded by max (the older generation is evicted first). Pure:
// time comes in as arguments. Not safe for concurrent use.
type peerStore struct {
	maxAge     time.Duration
	interval   time.Duration
	max        int
	cur, old   peerSet
	curN, oldN int
	lastGC     time.Time
}

func newPeerStore(maxAge time.Duration, max int, now time.Time) *peerStore {
	s := &peerStore{maxAge: maxAge, max: max, cur: peerSet{}, old: peerSet{}, lastGC: now}
	if maxAge > 0 {
		// ceil(2A/3) in whole milliseconds, as record-cache computes it.
		ms := (2*maxAge.Milliseconds() + 2) / 3
		s.interval = max64(time.Duration(ms)*time.Millisecond, time.Millisecond)
	}
	return s
}

func max64(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// gc runs the generation swaps that are due by now.
func (s *peerStore) gc(now time.Time) {
	if s.interval == 0 || now.Before(s.lastGC.Add(s.interval)) {
		return
	}
	n := now.Sub(s.lastGC) / s.interval
	if n >= 2 {
		s.cur, s.old, s.curN, s.oldN = peerSet{}, peerSet{}, 0, 0
	} else {
		s.old, s.oldN = s.cur, s.curN
		s.cur, s.curN = peerSet{}, 0
	}
	s.lastGC = s.lastGC.Add(n * s.interval)
}

// add stores peer under key.
func (s *peerStore) add(key []byte, peer netip.AddrPort, now time.Time) {
	s.gc(now)
	k := string(key)
	if _, ok := s.cur[k][peer]; ok {
		return
	}
	if _, ok := s.old[k][peer]; ok {
		delOne(s.old, k, peer)
		s.oldN--
	} else {
		for s.curN+s.oldN >= s.max && s.curN+s.oldN > 0 {
			s.evictOne()
		}
		if s.max <= 0 {
			return
		}
	}
	m := s.cur[k]
	if m == nil {
		m = make(map[netip.AddrPort]struct{})
		s.cur[k] = m
	}
	m[peer] = struct{}{}
	s.curN++
}

// evictOne drops an arbitrary entry, from the old generation if it has any.
func (s *peerStore) evictOne() {
	set, n := s.old, &s.oldN
	if s.oldN == 0 {
		set, n = s.cur, &s.curN
	}
	for k, m := range set {
		for p := range m {
			delOne(set, k, p)
			*n--
			return
		}
	}
}

func delOne(set peerSet, k string, p netip.AddrPort) {
	m := set[k]
	delete(m, p)
	if len(m) == 0 {
		delete(set, k)
	}
}

// get returns up to limit peers stored under key (a uniformly random subset
// when there are more), both generations, deduplicated.
func (s *peerStore) get(key []byte, limit int, now time.Time) []netip.AddrPort {
	s.gc(now)
	k := string(key)
	c, o := s.cur[k], s.old[k]
	out := make([]netip.AddrPort, 0, len(c)+len(o))
	for p := range c {
		out = append(out, p)
	}
	for p := range o {
		if _, dup := c[p]; !dup {
			out = append(out, p)
		}
	}
	if len(out) > limit {
		rand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:limit]
	}
	return out
}

// counts returns the number of keys and of stored entries.
func (s *peerStore) counts(now time.Time) (keys, peers int) {
	s.gc(now)
	keys = len(s.cur)
	for k := range s.old {
		if _, ok := s.cur[k]; !ok {
			keys++
		}
	}
	return keys, s.curN + s.oldN
}
