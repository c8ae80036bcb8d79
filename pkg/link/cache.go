package link

import (
	"container/list"
	"sync"
	"time"
)

// lruCache is an LRU of lookup results with a fixed TTL, bounded both by
// entry count and by bytes: names are the caller's, but the peers come from
// a grape's reply (up to maxReplyBytes), so an entry's size is not ours to
// choose. An entry costs its name, its peers and a measured overhead (see
// cacheEntryCost); inserting evicts least recently used entries until both
// bounds hold, and an entry larger than the whole budget is not cached. The
// clock is injected so expiry is tested without sleeping.
type lruCache struct {
	mu       sync.Mutex
	max      int
	maxBytes int
	bytes    int
	ttl      time.Duration
	now      func() time.Time
	ll       *list.List // front = most recently used
	items    map[string]*list.Element
}

type cacheEntry struct {
	key     string
	peers   []string
	expires time.Time
	cost    int
}

// Overheads beyond the bytes of the name and the peers: an entry's list
// element, cacheEntry, map slot and slice (140 bytes measured on the Go
// heap for 2500 one-peer entries, amd64), and a peer's string header.
// Rounded up; TestCacheByteBudget checks them against the heap.
const (
	cacheEntryCost = 256
	cachePeerCost  = 16
)

// entryCost is what caching peers under key takes.
func entryCost(key string, peers []string) int {
	c := len(key) + cacheEntryCost
	for _, p := range peers {
		c += len(p) + cachePeerCost
	}
	return c
}

func newLRUCache(max, maxBytes int, ttl time.Duration, now func() time.Time) *lruCache {
	return &lruCache{max: max, maxBytes: maxBytes, ttl: ttl, now: now, ll: list.New(), items: make(map[string]*list.Element)}
}

// get returns a copy of the cached peers, so callers may shuffle or modify
// what they receive without corrupting the cache.
func (c *lruCache) get(key string) ([]string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if !c.now().Before(e.expires) {
		c.remove(el)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return append([]string(nil), e.peers...), true
}

func (c *lruCache) put(key string, peers []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	cost := entryCost(key, peers)
	if cost > c.maxBytes {
		return // would evict everything and still not fit
	}
	peers = append([]string(nil), peers...)
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, peers: peers, expires: c.now().Add(c.ttl), cost: cost})
	c.bytes += cost
	for c.ll.Len() > c.max || c.bytes > c.maxBytes {
		c.remove(c.ll.Back())
	}
}

// remove drops el; the caller holds mu.
func (c *lruCache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.ll.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.cost
}

func (c *lruCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// size is the bytes the cache counts for its entries.
func (c *lruCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}
