package grape

import (
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock, safe to read from server goroutines.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestCache(ttl time.Duration, max int) (*lookupCache, *testClock) {
	clk := &testClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	return newLookupCache(ttl, max, 1<<30, clk.Now), clk
}

func TestLookupCacheStates(t *testing.T) {
	c, clk := newTestCache(400*time.Millisecond, 100)
	if c.st("a") != lcMiss {
		t.Fatal("nothing walked yet")
	}
	start := clk.Now()
	clk.Advance(10 * time.Millisecond) // the walk took 10 ms
	c.done("a", start, 0)
	if c.st("a") != lcFresh || c.st("b") != lcMiss {
		t.Fatal("a fresh right after its walk, b never walked")
	}
	clk.Advance(339 * time.Millisecond)
	if c.st("a") != lcFresh {
		t.Fatal("fresh 349 ms after the walk started")
	}
	clk.Advance(time.Millisecond)
	if c.st("a") != lcRefresh {
		t.Fatal("at 7/8 ttl the first caller refreshes")
	}
	if c.st("a") != lcFresh {
		t.Fatal("one refresh at a time: later callers just answer")
	}
	c.abandon("a") // the refresh walk failed
	if c.st("a") != lcRefresh {
		t.Fatal("after a failed refresh the next caller refreshes again")
	}
	c.done("a", clk.Now(), 0)
	if c.st("a") != lcFresh {
		t.Fatal("fresh after the refresh")
	}
	clk.Advance(399 * time.Millisecond)
	if c.st("a") != lcRefresh {
		t.Fatal("still answered (with a refresh) just before ttl")
	}
	c.abandon("a")
	clk.Advance(time.Millisecond)
	if c.st("a") != lcMiss {
		t.Fatal("a miss at ttl: too old to answer without a walk")
	}
}

func TestLookupCacheInvalidate(t *testing.T) {
	c, clk := newTestCache(400*time.Millisecond, 100)
	c.done("a", clk.Now(), 0)
	clk.Advance(time.Millisecond)
	c.invalidate("a")
	if c.st("a") != lcMiss {
		t.Fatal("an announcement stored after the walk must force a walk")
	}
	// A walk that started before the invalidation and ends after it does
	// not count, neither does a refresh in flight at the time.
	start := clk.Now()
	clk.Advance(time.Millisecond)
	c.invalidate("b")
	clk.Advance(time.Millisecond)
	c.done("b", start, 0)
	if c.st("b") != lcMiss {
		t.Fatal("walk in flight during the invalidation taken as fresh")
	}
	clk.Advance(time.Millisecond)
	c.done("b", clk.Now(), 0)
	if c.st("b") != lcFresh {
		t.Fatal("a walk started after the invalidation is fresh")
	}
	clk.Advance(350 * time.Millisecond)
	if c.st("b") != lcRefresh {
		t.Fatal("not refreshed at 7/8 ttl")
	}
	start = clk.Now()
	clk.Advance(time.Millisecond)
	c.invalidate("b")
	c.done("b", start, 0)
	if c.st("b") != lcMiss {
		t.Fatal("refresh in flight during the invalidation taken as fresh")
	}
}

func TestLookupCacheBoundedAndRotationSafe(t *testing.T) {
	c, clk := newTestCache(400*time.Millisecond, 4)
	for i := 0; i < 100; i++ {
		c.done(string(rune('a'+i)), clk.Now(), 0)
		if len(c.cur) > 4 || len(c.prev) > 4 {
			t.Fatalf("generations %d/%d exceed the bound 4", len(c.cur), len(c.prev))
		}
	}
	// An early rotation may drop an invalidation: a walk that started
	// before the dropped generation's entries were written is not trusted.
	start := clk.Now()
	clk.Advance(time.Millisecond)
	c.invalidate("x")
	for i := 0; i < 10; i++ {
		c.invalidate(string(rune('A' + i))) // fills generations, drops "x"
	}
	c.done("x", start, 0)
	if c.st("x") != lcMiss {
		t.Fatal("walk across a rotation that lost its invalidation taken as fresh")
	}
	// Time rotation keeps an entry at least 2 ttl: the stale window works.
	c2, clk2 := newTestCache(400*time.Millisecond, 100)
	clk2.Advance(399 * time.Millisecond)
	c2.done("y", clk2.Now(), 0) // written just before the first rotation
	clk2.Advance(399 * time.Millisecond)
	if c2.st("y") != lcRefresh {
		t.Fatal("entry lost inside its refresh window")
	}
	clk2.Advance(time.Second)
	if c2.st("y") != lcMiss || len(c2.cur)+len(c2.prev) != 0 {
		t.Fatal("entries survive 2 ttl")
	}
}

func TestLookupCacheDisabled(t *testing.T) {
	c, clk := newTestCache(0, 4)
	c.done("a", clk.Now(), 0)
	if c.st("a") != lcMiss {
		t.Fatal("ttl 0 never caches")
	}
}

// Through the HTTP API: repeated lookups within the TTL do not walk, a
// stale one answers at once and refreshes in the background, an old one
// walks first, and an announce through this grape forces a walk.
func TestLookupWalksOncePerTTL(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	g, node := startFake(t, func(c *Config) {
		c.Clock = clk
		c.LookupCacheTTL = 400 * time.Millisecond
		c.Bind = "" // no self-store: the announce goes through the fake DHT only
	})
	walks := func() int {
		node.mu.Lock()
		defer node.mu.Unlock()
		return node.lookups
	}
	lookup := func(want string) {
		t.Helper()
		if body, err := callAPI(g, "lookup", `"svc"`); err != nil || body != want {
			t.Fatalf("lookup: %q %v, want %s", body, err, want)
		}
	}
	waitWalks := func(n int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); walks() != n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d walks, want %d", walks(), n)
			}
		}
	}
	lookup("[]")
	clk.Advance(100 * time.Millisecond)
	lookup("[]")
	if n := walks(); n != 1 {
		t.Fatalf("%d walks for 2 lookups within the TTL, want 1", n)
	}
	if body, err := callAPI(g, "announce", `["svc",5555]`); err != nil || body != "1" {
		t.Fatalf("announce: %q %v", body, err)
	}
	clk.Advance(time.Millisecond) // a walk starting at the invalidation instant is not trusted
	lookup(`["127.0.0.1:5555"]`)
	waitWalks(2) // the announce forced a walk before the answer
	clk.Advance(349 * time.Millisecond)
	lookup(`["127.0.0.1:5555"]`)
	if n := walks(); n != 2 {
		t.Fatalf("%d walks, want 2 within 7/8 TTL", n)
	}
	// From 7/8 TTL: answered from memory, refreshed in the background
	// (the refresh is held at the gate; the second lookup does not start
	// another one).
	node.mu.Lock()
	node.lookupGate = make(chan struct{})
	gate := node.lookupGate
	node.mu.Unlock()
	clk.Advance(time.Millisecond)
	lookup(`["127.0.0.1:5555"]`)
	lookup(`["127.0.0.1:5555"]`)
	waitWalks(3)
	close(gate)
	node.mu.Lock()
	node.lookupGate = nil
	node.mu.Unlock()
	// Old (TTL after the refresh started): walk first. Wait for the
	// refresh to finish, not for state to say fresh: state answers fresh
	// while a refresh is still running, and a lookup that then finds the
	// entry old joins that refresh's walk instead of starting a fourth.
	for deadline := time.Now().Add(10 * time.Second); g.lcache.refreshingNow("svc") || g.lcache.st("svc") != lcFresh; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("refresh did not complete")
		}
	}
	clk.Advance(400 * time.Millisecond)
	lookup(`["127.0.0.1:5555"]`)
	if n := walks(); n != 4 {
		t.Fatalf("%d walks, want 4: an old entry walks before answering", n)
	}
}

// refreshingNow reports whether a background refresh of name is running.
func (c *lookupCache) refreshingNow(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, _ := c.entry(name)
	return e.refreshing
}

// st is state for tests that leave the seen-peers memory unrotated.
func (c *lookupCache) st(name string) lcState {
	s, _ := c.state(name, 0)
	return s
}
