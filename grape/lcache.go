package grape

import (
	"sync"
	"time"
)

// lookupCache remembers when a DHT walk for a name last started, so a
// lookup repeated within ttl answers from the seen-peers memory (which that
// walk filled) instead of walking again. Node walks on every lookup; on one
// core the walk (a UDP round trip to every close node, and their work to
// answer) costs more than the HTTP request itself, so a busy name would cap
// a grape far below what its HTTP layer serves.
//
// Freshness rule: a new announcement is visible on this grape's next lookup
// when it was made through this grape or stored by this grape (invalidate is
// called for both), and at most ttl plus one walk later when it is stored
// only on other grapes. With the default ttl (250 ms) that keeps well inside
// the "visible everywhere within 1 s" target.
//
// Bounded for remote input: two generations of at most max names each,
// rotated every ttl (lazily, on access) or early when the current one is
// full; losing an entry only costs a walk. The clock is injected.
type lookupCache struct {
	mu      sync.Mutex
	now     func() time.Time
	ttl     time.Duration // <= 0: disabled, every lookup walks
	max     int
	rotated time.Time // start of the current generation
	cur     map[string]lcEntry
	prev    map[string]lcEntry
}

// lcEntry: walked is when the last completed walk started; invalid is when
// a new announcement for the name was last stored. The walk's answer is
// good only if the walk started after that.
type lcEntry struct {
	walked  time.Time
	invalid time.Time
}

func newLookupCache(ttl time.Duration, max int, now func() time.Time) *lookupCache {
	return &lookupCache{now: now, ttl: ttl, max: max, rotated: now(),
		cur: make(map[string]lcEntry), prev: make(map[string]lcEntry)}
}

// rotate drops generations older than ttl; the caller holds mu.
func (c *lookupCache) rotate(now time.Time) {
	switch age := now.Sub(c.rotated); {
	case age >= 2*c.ttl:
		c.prev, c.cur = make(map[string]lcEntry), make(map[string]lcEntry)
	case age >= c.ttl || len(c.cur) >= c.max:
		c.prev, c.cur = c.cur, make(map[string]lcEntry)
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

// fresh reports whether a walk for name started less than ttl ago and no
// new announcement for it was stored since that walk started.
func (c *lookupCache) fresh(name string) bool {
	if c.ttl <= 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.rotate(now)
	e, ok := c.entry(name)
	return ok && now.Sub(e.walked) < c.ttl && e.walked.After(e.invalid)
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
	// A generation dropped after the walk started may have held an
	// invalidation this walk did not see: do not trust the walk then.
	if start.Before(c.rotated) {
		return
	}
	e, _ := c.entry(name)
	if start.After(e.walked) {
		e.walked = start
	}
	c.cur[name] = e
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
	c.cur[name] = lcEntry{invalid: now}
}
