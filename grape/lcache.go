package grape

import (
	"sync"
	"time"
)

// lookupCache remembers when a DHT walk for a name last started, so a
// lookup repeated soon after answers from the seen-peers memory (which that
// walk filled) instead of walking again. Node walks on every lookup; on one
// core the walk (a UDP round trip to every close node, and their work to
// answer) costs more than the HTTP request itself, so a busy name would cap
// a grape far below what its HTTP layer serves.
//
// ttl is the most an answer can lag: no lookup answers from a walk that
// started ttl or more ago. A name's state, by the age of its last
// completed walk:
//   - fresh (< 7/8 ttl): answer from memory;
//   - refresh (7/8 ttl .. ttl): answer from memory and walk again in the
//     background (one refresh per name at a time), so a busy name never
//     makes a request wait on a walk. The window is the last eighth: a busy
//     name is walked once per 7/8 ttl, and these walks are most of what a
//     grape under rotating lookups spends beyond HTTP (at 3/4 it was one
//     walk in seven more); 1/8 of the 500 ms default is still 60 ms for the
//     walk, dozens of loopback or LAN round trips;
//   - miss (older, never walked, or a new announcement stored since the
//     walk started): walk first, then answer.
//
// Freshness rule: a new announcement is visible on this grape's next lookup
// when it was made through this grape or stored by this grape (invalidate is
// called for both; with up to 20 grapes every grape stores every
// announcement), and otherwise on every lookup made ttl plus one walk after
// it. The default ttl (500 ms) keeps that at half of the "visible
// everywhere within 1 s" target.
//
// Agreement with the memory: an answer from memory is only as good as what
// the walk put there, and the memory (Node's record-cache arithmetic, maxAge
// M/2) drops a record M/3..2M/3 after it was added, or sooner when it
// rotates for size, while the DHT keeps an announcement 2M/3..4M/3. So an
// entry also records the memory's generation when its walk added what it
// found (mem). Once the memory has rotated once since, the name is
// refreshed (those records are now in the old generation); once it has
// rotated twice they may be gone, and the name is a miss whatever its age.
// The answer itself is drawn under the memory's lock with the same check
// (seenPeers.AppendJSONSince), so no lookup answers from a memory that has
// dropped what the walk found while the DHT may still hold it.
//
// Bounded for remote input: two generations of at most max names and
// maxBytes/2 bytes each (a name's bytes plus lcEntryCost), rotated every
// ttl (lazily, on access) or early when the current one is full; losing an
// entry only costs a walk. The clock is injected.
type lookupCache struct {
	mu         sync.Mutex
	now        func() time.Time
	ttl        time.Duration // <= 0: disabled, every lookup walks
	max        int
	maxBytes   int
	rotated    time.Time // start of the current generation
	lostBefore time.Time // entries written before this may have been dropped
	cur        map[string]lcEntry
	prev       map[string]lcEntry
	curBytes   int
	prevBytes  int
}

// lcEntryCost is what one name costs beyond its bytes: its map slot, string
// header and lcEntry: 115 bytes measured on the Go heap (amd64, 100k names),
// rounded up for a map just past a growth step; TestLookupCacheByteBudget
// checks it.
const lcEntryCost = 160

// lcEntry: walked is when the last completed walk started; invalid is when
// a new announcement for the name was last stored (the walk's answer is
// good only if the walk started after that); mem is the seen-peers
// generation when that walk added its peers; refreshing is set while a
// background refresh runs.
type lcEntry struct {
	walked     time.Time
	invalid    time.Time
	mem        uint64
	refreshing bool
}

// lcState is what a lookup should do.
type lcState int

const (
	lcMiss    lcState = iota // walk, then answer
	lcFresh                  // answer from memory
	lcRefresh                // answer from memory; the caller must start a refresh
)

func newLookupCache(ttl time.Duration, max, maxBytes int, now func() time.Time) *lookupCache {
	t := now()
	return &lookupCache{now: now, ttl: ttl, max: max, maxBytes: maxBytes, rotated: t, lostBefore: t,
		cur: make(map[string]lcEntry), prev: make(map[string]lcEntry)}
}

// rotate ages the generations; the caller holds mu.
func (c *lookupCache) rotate(now time.Time) {
	switch age := now.Sub(c.rotated); {
	case age >= 2*c.ttl:
		c.prev, c.cur = make(map[string]lcEntry), make(map[string]lcEntry)
		c.prevBytes, c.curBytes = 0, 0
		c.lostBefore = now
		c.rotated = now
	case age >= c.ttl:
		c.shift(now)
	}
}

// shift makes the current generation the previous one, dropping the
// previous; the caller holds mu.
func (c *lookupCache) shift(now time.Time) {
	// The dropped generation held entries written before the previous
	// rotation.
	c.prev, c.cur = c.cur, make(map[string]lcEntry)
	c.prevBytes, c.curBytes = c.curBytes, 0
	c.lostBefore = c.rotated
	c.rotated = now
}

// store writes name's entry into the current generation, rotating first
// when a new name would pass its count or byte budget; the caller holds mu.
func (c *lookupCache) store(name string, e lcEntry) {
	if _, ok := c.cur[name]; !ok {
		cost := len(name) + lcEntryCost
		if len(c.cur) > 0 && (len(c.cur) >= c.max || c.curBytes+cost > c.maxBytes/2) {
			c.shift(c.now())
		}
		c.curBytes += cost
	}
	c.cur[name] = e
}

// bytes is what both generations hold, names counted with lcEntryCost.
func (c *lookupCache) bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.curBytes + c.prevBytes
}

// entry finds name's entry, the current generation first; caller holds mu.
func (c *lookupCache) entry(name string) (lcEntry, bool) {
	if e, ok := c.cur[name]; ok {
		return e, true
	}
	e, ok := c.prev[name]
	return e, ok
}

// state classifies name (see lookupCache) given the seen-peers memory's
// generation now (seenPeers.Gen); for lcFresh and lcRefresh it also returns
// the generation the answer must be drawn against (AppendJSONSince).
// lcRefresh is returned to one caller only, which must call done or
// abandon when its walk ends.
func (c *lookupCache) state(name string, memNow uint64) (lcState, uint64) {
	if c.ttl <= 0 {
		return lcMiss, 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	e, ok := c.entry(name)
	if !ok || !e.walked.After(e.invalid) || memNow > e.mem+1 {
		return lcMiss, 0
	}
	age := now.Sub(e.walked)
	switch {
	case age >= c.ttl:
		return lcMiss, 0
	case age < c.ttl-c.ttl/8 && memNow <= e.mem:
		return lcFresh, e.mem
	case e.refreshing:
		return lcFresh, e.mem // someone is already refreshing it
	}
	// In the last eighth of ttl, or the memory has rotated once since the
	// walk: its records are in the old generation, re-add them.
	e.refreshing = true
	c.store(name, e)
	return lcRefresh, e.mem
}

// done records that a walk for name that started at start has completed
// and its result was added to the seen-peers memory while its generation
// was mem.
func (c *lookupCache) done(name string, start time.Time, mem uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rotate(c.now())
	e, _ := c.entry(name)
	e.refreshing = false
	// A generation dropped after the walk started may have held an
	// invalidation this walk did not see: do not trust the walk then.
	if !start.Before(c.lostBefore) && start.After(e.walked) {
		e.walked, e.mem = start, mem
	}
	c.store(name, e)
}

// abandon ends a refresh whose walk failed; the entry ages on.
func (c *lookupCache) abandon(name string) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entry(name); ok {
		e.refreshing = false
		c.store(name, e)
	}
}

// invalidate is called when a new announcement for name was stored here or
// sent from here: the next lookup must walk.
func (c *lookupCache) invalidate(name string) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	// Recorded even when nothing is cached: a walk in flight that started
	// before now must not be taken as fresh when it completes.
	e, _ := c.entry(name)
	e.invalid = now
	c.store(name, e)
}
