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
// Bounded for remote input: two generations of at most max names each,
// rotated every ttl (lazily, on access) or early when the current one is
// full; losing an entry only costs a walk. The clock is injected.
type lookupCache struct {
	mu         sync.Mutex
	now        func() time.Time
	ttl        time.Duration // <= 0: disabled, every lookup walks
	max        int
	rotated    time.Time // start of the current generation
	lostBefore time.Time // entries written before this may have been dropped
	cur        map[string]lcEntry
	prev       map[string]lcEntry
}

// lcEntry: walked is when the last completed walk started; invalid is when
// a new announcement for the name was last stored (the walk's answer is
// good only if the walk started after that); refreshing is set while a
// background refresh runs.
type lcEntry struct {
	walked     time.Time
	invalid    time.Time
	refreshing bool
}

// lcState is what a lookup should do.
type lcState int

const (
	lcMiss    lcState = iota // walk, then answer
	lcFresh                  // answer from memory
	lcRefresh                // answer from memory; the caller must start a refresh
)

func newLookupCache(ttl time.Duration, max int, now func() time.Time) *lookupCache {
	t := now()
	return &lookupCache{now: now, ttl: ttl, max: max, rotated: t, lostBefore: t,
		cur: make(map[string]lcEntry), prev: make(map[string]lcEntry)}
}

// rotate ages the generations; the caller holds mu.
func (c *lookupCache) rotate(now time.Time) {
	switch age := now.Sub(c.rotated); {
	case age >= 2*c.ttl:
		c.prev, c.cur = make(map[string]lcEntry), make(map[string]lcEntry)
		c.lostBefore = now
	case age >= c.ttl || len(c.cur) >= c.max:
		// The dropped generation held entries written before the
		// previous rotation.
		c.prev, c.cur = c.cur, make(map[string]lcEntry)
		c.lostBefore = c.rotated
	default:
		return
	}
	c.rotated = now
}

// entry finds name's entry, the current generation first; caller holds mu.
func (c *lookupCache) entry(name string) (lcEntry, bool) {
	if e, ok := c.cur[name]; ok {
		return e, true
	}
	e, ok := c.prev[name]
	return e, ok
}

// state classifies name (see lookupCache). lcRefresh is returned to one
// caller only, which must call done or abandon when its walk ends.
func (c *lookupCache) state(name string) lcState {
	if c.ttl <= 0 {
		return lcMiss
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	e, ok := c.entry(name)
	if !ok || !e.walked.After(e.invalid) {
		return lcMiss
	}
	switch age := now.Sub(e.walked); {
	case age < c.ttl-c.ttl/8:
		return lcFresh
	case age >= c.ttl:
		return lcMiss
	case e.refreshing:
		return lcFresh // someone is already refreshing it
	}
	e.refreshing = true
	c.cur[name] = e
	return lcRefresh
}

// done records that a walk for name that started at start has completed
// and its result is in the seen-peers memory.
func (c *lookupCache) done(name string, start time.Time) {
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
		e.walked = start
	}
	c.cur[name] = e
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
		c.cur[name] = e
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
	c.cur[name] = e
}
