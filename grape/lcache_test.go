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
	return newLookupCache(ttl, max, clk.Now), clk
}

func TestLookupCacheFreshForTTL(t *testing.T) {
	c, clk := newTestCache(250*time.Millisecond, 100)
	if c.fresh("a") {
		t.Fatal("nothing walked yet")
	}
	start := clk.Now()
	clk.Advance(10 * time.Millisecond) // the walk took 10 ms
	c.done("a", start)
	if !c.fresh("a") || c.fresh("b") {
		t.Fatal("a fresh right after its walk, b never walked")
	}
	clk.Advance(239 * time.Millisecond)
	if !c.fresh("a") {
		t.Fatal("fresh 249 ms after the walk started")
	}
	clk.Advance(time.Millisecond)
	if c.fresh("a") {
		t.Fatal("stale ttl after the walk started")
	}
}

func TestLookupCacheInvalidate(t *testing.T) {
	c, clk := newTestCache(250*time.Millisecond, 100)
	c.done("a", clk.Now())
	clk.Advance(time.Millisecond)
	c.invalidate("a")
	if c.fresh("a") {
		t.Fatal("an announcement stored after the walk must force a walk")
	}
	// A walk that started before the invalidation and ends after it does
	// not count as fresh either.
	start := clk.Now()
	clk.Advance(time.Millisecond)
	c.invalidate("b")
	clk.Advance(time.Millisecond)
	c.done("b", start)
	if c.fresh("b") {
		t.Fatal("walk in flight during the invalidation taken as fresh")
	}
	clk.Advance(time.Millisecond)
	c.done("b", clk.Now())
	if !c.fresh("b") {
		t.Fatal("a walk started after the invalidation is fresh")
	}
}

func TestLookupCacheBoundedAndRotationSafe(t *testing.T) {
	c, clk := newTestCache(250*time.Millisecond, 4)
	for i := 0; i < 100; i++ {
		c.done(string(rune('a'+i)), clk.Now())
		if len(c.cur) > 4 || len(c.prev) > 4 {
			t.Fatalf("generations %d/%d exceed the bound 4", len(c.cur), len(c.prev))
		}
	}
	// An early rotation may drop an invalidation: a walk that started
	// before the rotation is then not trusted.
	start := clk.Now()
	clk.Advance(time.Millisecond)
	c.invalidate("x")
	for i := 0; i < 10; i++ {
		c.invalidate(string(rune('A' + i))) // fills generations, drops "x"
	}
	c.done("x", start)
	if c.fresh("x") {
		t.Fatal("walk across a rotation that lost its invalidation taken as fresh")
	}
	// Time rotation: after 2 ttl everything is gone.
	c.done("y", clk.Now())
	clk.Advance(500 * time.Millisecond)
	if c.fresh("y") || len(c.cur)+len(c.prev) != 0 {
		t.Fatal("entries survive 2 ttl")
	}
}

func TestLookupCacheDisabled(t *testing.T) {
	c, clk := newTestCache(0, 4)
	c.done("a", clk.Now())
	if c.fresh("a") {
		t.Fatal("ttl 0 never caches")
	}
}

// Through the HTTP API: repeated lookups within the TTL do not walk, a
// lookup after it does, and an announce through this grape forces a walk.
func TestLookupWalksOncePerTTL(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	g, node := startFake(t, func(c *Config) {
		c.Clock = clk
		c.LookupCacheTTL = 250 * time.Millisecond
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
	lookup("[]")
	clk.Advance(100 * time.Millisecond)
	lookup("[]")
	if n := walks(); n != 1 {
		t.Fatalf("%d walks for 2 lookups within the TTL, want 1", n)
	}
	if body, err := callAPI(g, "announce", `["svc",5555]`); err != nil || body != "1" {
		t.Fatalf("announce: %q %v", body, err)
	}
	lookup(`["127.0.0.1:5555"]`)
	if n := walks(); n != 2 {
		t.Fatalf("%d walks, want 2: the announce must force a walk", n)
	}
	clk.Advance(249 * time.Millisecond)
	lookup(`["127.0.0.1:5555"]`)
	clk.Advance(time.Millisecond)
	lookup(`["127.0.0.1:5555"]`)
	if n := walks(); n != 3 {
		t.Fatalf("%d walks, want 3: one more after the TTL", n)
	}
}
