package link

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestCacheExpiresAfterTTL(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	c := newLRUCache(10, 1<<30, time.Second, clk.now)
	c.put("svc", []string{"127.0.0.1:1"})
	clk.t = clk.t.Add(999 * time.Millisecond)
	if got, ok := c.get("svc"); !ok || len(got) != 1 {
		t.Fatalf("before TTL: got %v %v, want hit", got, ok)
	}
	clk.t = clk.t.Add(time.Millisecond)
	if _, ok := c.get("svc"); ok {
		t.Fatal("at TTL: want miss")
	}
	if c.len() != 0 {
		t.Fatalf("expired entry kept: len %d", c.len())
	}
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	c := newLRUCache(2, 1<<30, time.Hour, clk.now)
	c.put("a", []string{"x"})
	c.put("b", []string{"y"})
	c.get("a") // a is now more recent than b
	c.put("c", []string{"z"})
	if _, ok := c.get("b"); ok {
		t.Fatal("b should have been evicted")
	}
	if _, ok := c.get("a"); !ok {
		t.Fatal("a should still be cached")
	}
	if c.len() != 2 {
		t.Fatalf("len %d, want 2", c.len())
	}
}

func TestCacheReturnsCopies(t *testing.T) {
	c := newLRUCache(2, 1<<30, time.Hour, time.Now)
	src := []string{"a", "b"}
	c.put("k", src)
	src[0] = "mutated"
	got, _ := c.get("k")
	got[1] = "mutated"
	again, _ := c.get("k")
	if again[0] != "a" || again[1] != "b" {
		t.Fatalf("cache aliased caller slices: %v", again)
	}
}

func TestJitterRange(t *testing.T) {
	d := time.Second
	if got := jitter(d, 0); got != 500*time.Millisecond {
		t.Fatalf("jitter(0) = %v", got)
	}
	if got := jitter(d, 0.999); got < 1490*time.Millisecond || got >= 1500*time.Millisecond {
		t.Fatalf("jitter(0.999) = %v", got)
	}
}
