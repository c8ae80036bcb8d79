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
type seenPeers struct {
	mu      sync.Mutex
	now     func() time.Time
	tick    time.Duration // 0: no time expiry
	maxSize int
	last    time.Time // last scheduled tick
	gced    bool      // a size-triggered rotation happened since the last tick
	fresh   *recordStore
	stale   *recordStore
	scratch []string // reused by sample under mu
}

type recordStore struct {
	sets map[string]*recordSet
	size int
}

type recordSet struct {
	list []string
	idx  map[string]int
}

// newSeenPeers builds the memory with Node's arithmetic: a record-cache with
// maxAge ms ticks every ceil(2*maxAge/3) ms.
func newSeenPeers(maxAge time.Duration, maxSize int, now func() time.Time) *seenPeers {
	s := &seenPeers{now: now, maxSize: maxSize, fresh: newRecordStore(), stale: newRecordStore()}
	if ms := maxAge.Milliseconds(); ms > 0 {
		s.tick = time.Duration((2*ms+2)/3) * time.Millisecond
	}
	s.last = now()
	return s
}

func newRecordStore() *recordStore { return &recordStore{sets: map[string]*recordSet{}} }

func (r *recordStore) add(key, rec string) bool {
	set := r.sets[key]
	if set == nil {
		set = &recordSet{idx: map[string]int{}}
		r.sets[key] = set
	}
	if _, ok := set.idx[rec]; ok {
		return false
	}
	set.idx[rec] = len(set.list)
	set.list = append(set.list, rec)
	r.size++
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
	if len(set.list) == 0 {
		delete(r.sets, key)
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
}

// Add remembers peer under key, refreshing it if it was in the old generation.
func (s *seenPeers) Add(key, peer string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	s.stale.remove(key, peer)
	if s.fresh.add(key, peer) && s.fresh.size > s.maxSize {
		s.rotate()
	}
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
