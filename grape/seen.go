package grape

import (
	"math/rand/v2"
	"sync"
	"time"
)

// seenPeers is the grape's memory of peers that lookups have yielded
// (Node's `_mem`, a record-cache). It has two generations: records live
// between 2/3 and 4/3 of maxAge after they were last added, and adding more
// than maxSize fresh records rotates the generations early. Generations
// rotate lazily on access, so it needs no goroutine; the clock is injected.
//
// Keys are service names, remote input of any length, so the memory also
// has a byte budget: a generation holds at most maxBytes/2 of keys and
// records (each counted with its measured overhead, see seenSetCost and
// seenRecCost), and an add that would pass it rotates first, so both
// generations together stay within maxBytes.
//
// Every rotation bumps gen. A record added while gen was g is held until
// gen reaches g+2, which is what lets the lookup cache know whether what a
// walk put here is still here (see lookupCache).
type seenPeers struct {
	mu       sync.Mutex
	now      func() time.Time
	tick     time.Duration // 0: no time expiry
	maxSize  int
	maxBytes int
	gen      uint64    // number of rotations so far
	last     time.Time // last scheduled tick
	gced     bool      // a size-triggered rotation happened since the last tick
	fresh    *recordStore
	stale    *recordStore
	scratch  []string // reused by sample under mu
}

// Per-entry overheads of the memory beyond the key and record bytes: a
// key's map slot, *recordSet, its index map and list header; a record's
// list slot, index-map slot and string header. Measured on the Go heap
// (amd64, 100k entries: 300 and 38 bytes) and rounded up for maps just past
// a growth step; TestSeenPeersByteBudget checks them.
const (
	seenSetCost = 400
	seenRecCost = 80
)

type recordStore struct {
	sets  map[string]*recordSet
	size  int
	bytes int // keys and records with their overheads
}

type recordSet struct {
	list []string
	idx  map[string]int
}

// newSeenPeers builds the memory with Node's arithmetic: a record-cache with
// maxAge ms ticks every ceil(2*maxAge/3) ms.
func newSeenPeers(maxAge time.Duration, maxSize, maxBytes int, now func() time.Time) *seenPeers {
	s := &seenPeers{now: now, maxSize: maxSize, maxBytes: maxBytes, fresh: newRecordStore(), stale: newRecordStore()}
	if ms := maxAge.Milliseconds(); ms > 0 {
		s.tick = time.Duration((2*ms+2)/3) * time.Millisecond
	}
	s.last = now()
	return s
}

func newRecordStore() *recordStore { return &recordStore{sets: map[string]*recordSet{}} }

// has reports whether rec is stored under key.
func (r *recordStore) has(key, rec string) bool {
	set := r.sets[key]
	if set == nil {
		return false
	}
	_, ok := set.idx[rec]
	return ok
}

// cost is the bytes adding rec under key would take.
func (r *recordStore) cost(key, rec string) int {
	c := len(rec) + seenRecCost
	if r.sets[key] == nil {
		c += len(key) + seenSetCost
	}
	return c
}

func (r *recordStore) add(key, rec string) bool {
	set := r.sets[key]
	if set == nil {
		set = &recordSet{idx: map[string]int{}}
		r.sets[key] = set
		r.bytes += len(key) + seenSetCost
	}
	if _, ok := set.idx[rec]; ok {
		return false
	}
	set.idx[rec] = len(set.list)
	set.list = append(set.list, rec)
	r.size++
	r.bytes += len(rec) + seenRecCost
	return true
}

func (r *recordStore) remove(key, rec string) {
	set := r.sets[key]
	if set == nil {
		return
	}
	i, ok := set.idx[rec]
	if !ok {
		return
	}
	last := len(set.list) - 1
	set.list[i] = set.list[last]
	set.idx[set.list[i]] = i
	set.list = set.list[:last]
	delete(set.idx, rec)
	r.size--
	r.bytes -= len(rec) + seenRecCost
	if len(set.list) == 0 {
		delete(r.sets, key)
		r.bytes -= len(key) + seenSetCost
	}
}

// expire applies the ticks that have passed since the last access.
func (s *seenPeers) expire() {
	if s.tick == 0 {
		return
	}
	n := int64(s.now().Sub(s.last) / s.tick)
	if n <= 0 {
		return
	}
	s.last = s.last.Add(time.Duration(n) * s.tick)
	for i := int64(0); i < n && i < 3; i++ {
		if i == 0 && s.gced {
			s.gced = false
			continue
		}
		s.rotate()
		s.gced = false
	}
}

func (s *seenPeers) rotate() {
	s.stale = s.fresh
	s.fresh = newRecordStore()
	s.gced = true
	s.gen++
}

// Add remembers peer under key, refreshing it if it was in the old
// generation. An add that would take the fresh generation past half the
// byte budget rotates first.
func (s *seenPeers) Add(key, peer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	s.stale.remove(key, peer)
	if s.fresh.has(key, peer) {
		return
	}
	if s.fresh.size > 0 && s.fresh.bytes+s.fresh.cost(key, peer) > s.maxBytes/2 {
		s.rotate()
	}
	if s.fresh.add(key, peer) && s.fresh.size > s.maxSize {
		s.rotate()
	}
}

// Gen is the number of rotations so far (expiry applied): what was added
// while Gen returned g is still held while it returns at most g+1.
func (s *seenPeers) Gen() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.gen
}

// Bytes is what the memory holds over both generations, keys and records
// counted with their overheads; it stays within maxBytes.
func (s *seenPeers) Bytes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.fresh.bytes + s.stale.bytes
}

// Get returns up to n of key's peers, a uniformly random subset in random
// order, like record-cache's get.
func (s *seenPeers) Get(key string, n int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sample(key, n)...)
}

// AppendJSON appends Get(key, n) as a JSON array of strings to dst. It is
// the /lookup reply, built without allocating per peer: records are
// "ip:port" strings, which JSON never needs to escape.
func (s *seenPeers) AppendJSON(dst []byte, key string, n int) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendJSON(dst, key, n)
}

// AppendJSONSince is AppendJSON if what was added while Gen returned since
// is still held (Gen is at most since+1); otherwise it appends nothing and
// reports false, atomically with the answer it would have given.
func (s *seenPeers) AppendJSONSince(dst []byte, key string, n int, since uint64) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	if s.gen > since+1 {
		return dst, false
	}
	return s.appendJSON(dst, key, n), true
}

// appendJSON is AppendJSON with mu held.
func (s *seenPeers) appendJSON(dst []byte, key string, n int) []byte {
	dst = append(dst, '[')
	for i, p := range s.sample(key, n) {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, p...)
		dst = append(dst, '"')
	}
	return append(dst, ']')
}

// sample draws the random subset into s.scratch, which stays valid until
// the caller releases mu.
func (s *seenPeers) sample(key string, n int) []string {
	s.expire()
	all := s.scratch[:0]
	if set := s.fresh.sets[key]; set != nil {
		all = append(all, set.list...)
	}
	if set := s.stale.sets[key]; set != nil {
		all = append(all, set.list...)
	}
	if cap(all) <= 4*maxLookupReply {
		s.scratch = all // keep a modest buffer for the next call
	}
	if n <= 0 || n > len(all) {
		n = len(all)
	}
	// Partial Fisher-Yates: the first n slots become the sample.
	for i := 0; i < n; i++ {
		j := i + rand.IntN(len(all)-i)
		all[i], all[j] = all[j], all[i]
	}
	return all[:n]
}

// Len is the number of records held over both generations.
func (s *seenPeers) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	return s.fresh.size + s.stale.size
}

// Remove forgets peer under key in both generations (an unannounce) and
// reports whether the memory held it.
func (s *seenPeers) Remove(key, peer string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	held := s.fresh.has(key, peer) || s.stale.has(key, peer)
	s.fresh.remove(key, peer)
	s.stale.remove(key, peer)
	return held
}

// RemoveMatching forgets every record under key for which match holds
// (given the record, "ip:port") and returns how many it dropped.
func (s *seenPeers) RemoveMatching(key string, match func(rec string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	n := 0
	for _, r := range [2]*recordStore{s.fresh, s.stale} {
		set := r.sets[key]
		if set == nil {
			continue
		}
		var drop []string
		for _, rec := range set.list {
			if match(rec) {
				drop = append(drop, rec)
			}
		}
		for _, rec := range drop {
			r.remove(key, rec)
			n++
		}
	}
	return n
}
