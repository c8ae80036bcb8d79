package link

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/hostile"
)

// Filled with the largest results a grape can send (a name and peers
// adding up to about maxReplyBytes), the cache keeps its counted bytes and
// the heap it holds within LookupCacheBytes (10% slack for size-class
// rounding), keeps the most recent entry, and refuses one larger than the
// whole budget.
func TestCacheByteBudget(t *testing.T) {
	const budget = 4 << 20
	clk := &fakeClock{t: time.Unix(1000, 0)}
	before := hostile.LiveHeap()
	c := newLRUCache(2500, budget, time.Minute, clk.now)
	peer := strings.Repeat("p", 1000) // hostile grape: 1000-byte "addresses"
	for i := 0; i < 40; i++ {         // 40 MB offered
		name := strconv.Itoa(i) + strings.Repeat("n", 8192)
		peers := make([]string, 900)
		for j := range peers {
			peers[j] = peer + strconv.Itoa(j) // distinct allocations, as decoded from JSON
		}
		c.put(name, peers)
		if b := c.size(); b > budget {
			t.Fatalf("after %d results the cache counts %d bytes, budget %d", i+1, b, budget)
		}
	}
	if held := hostile.LiveHeap() - before; held > budget*11/10 {
		t.Errorf("the cache holds %d heap bytes, budget %d", held, budget)
	}
	if _, ok := c.get("39" + strings.Repeat("n", 8192)); !ok {
		t.Error("the newest result was evicted")
	}
	huge := make([]string, 5000)
	for j := range huge {
		huge[j] = peer
	}
	c.put("huge", huge)
	if _, ok := c.get("huge"); ok || c.size() > budget {
		t.Errorf("a result over the whole budget was cached (%d bytes)", c.size())
	}
	runtime.KeepAlive(c)
	// Many small results: the count binds and the heap stays within what
	// is counted.
	before = hostile.LiveHeap()
	c = newLRUCache(2500, budget, time.Minute, clk.now)
	for i := 0; i < 5000; i++ {
		c.put("svc-"+strconv.Itoa(i), []string{"127.0.0.1:" + strconv.Itoa(i)})
	}
	if held, counted := hostile.LiveHeap()-before, c.size(); held > uint64(counted)*11/10 || c.len() != 2500 {
		t.Errorf("small results: %d heap bytes held, %d counted, %d entries", held, counted, c.len())
	}
	runtime.KeepAlive(c)
}
