package link

import (
	"container/list"
	"sync"
	"time"
)

// lruCache is a size-bounded LRU of lookup results with a fixed TTL. The
// clock is injected so expiry is tested without sleeping.
type lruCache struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	ll    *list.List // front = most recently used
	items map[string]*list.Element
}

type cacheEntry struct {
	key     string
	peers   []string
	expires time.Time
}

func newLRUCache(max int, ttl time.Duration, now func() time.Time) *lruCache {
	return &lruCache{max: max, ttl: ttl, now: now, ll: list.New(), items: make(map[string]*list.Element)}
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
		c.ll.Remove(el)
		delete(c.items, key)
		return nil, false
	}
	c.ll.MoveToFront(el)
	return append([]string(nil), e.peers...), true
}

func (c *lruCache) put(key string, peers []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	peers = append([]string(nil), peers...)
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*cacheEntry)
		e.peers, e.expires = peers, exp
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(&cacheEntry{key: key, peers: peers, expires: exp})
	for c.ll.Len() > c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(*cacheEntry).key)
	}
}

func (c *lruCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
