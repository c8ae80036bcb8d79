package grape

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/hostile"
)

// bigName is a distinct name of n bytes.
func bigName(i, n int) string {
	p := strconv.Itoa(i) + "-"
	return p + strings.Repeat("n", n-len(p))
}

// The lookup cache's names also come from announce_peer queries, whose
// info_hash is as long as a datagram allows: 25 000 of 60 KB took a grape to
// 405 MB. Filled with such names its counted bytes stay within the budget,
// and so does the heap it really holds (the per-name overhead is not an
// underestimate: 10% slack for size-class rounding).
func TestLookupCacheByteBudget(t *testing.T) {
	const budget, keyLen = 4 << 20, 60_000
	before := hostile.LiveHeap()
	c := newLookupCache(time.Hour, lookupCacheMax, budget, time.Now)
	for i := 0; i < 1000; i++ { // 60 MB of names offered
		c.invalidate(bigName(i, keyLen))
		if b := c.bytes(); b > budget {
			t.Fatalf("after %d names the cache counts %d bytes, budget %d", i+1, b, budget)
		}
	}
	held := hostile.LiveHeap() - before
	if held > budget*11/10 {
		t.Errorf("the cache holds %d heap bytes, budget %d", held, budget)
	}
	runtime.KeepAlive(c)
	// Short names: the count (lookupCacheMax per generation) and the
	// overhead dominate; the heap must still be within what is counted.
	before = hostile.LiveHeap()
	c = newLookupCache(time.Hour, lookupCacheMax, budget, time.Now)
	for i := 0; i < 3*lookupCacheMax; i++ {
		c.invalidate(bigName(i, 8))
	}
	if held, counted := hostile.LiveHeap()-before, c.bytes(); held > uint64(counted)*11/10 {
		t.Errorf("short names: %d heap bytes held, %d counted", held, counted)
	}
	runtime.KeepAlive(c)
}

// The seen-peers memory is keyed by the looked-up name, at most the HTTP
// body limit long; filled with 8 KB names its bytes stay within the budget,
// the heap too, and the most recent records are still there.
func TestSeenPeersByteBudget(t *testing.T) {
	const budget, keyLen = 8 << 20, 8192
	before := hostile.LiveHeap()
	s := newSeenPeers(time.Hour, seenPeersMax, budget, time.Now)
	for i := 0; i < 5000; i++ { // 40 MB of names offered
		name := bigName(i, keyLen)
		s.Add(name, "127.0.0.1:"+strconv.Itoa(1000+i%50000))
		if b := s.Bytes(); b > budget {
			t.Fatalf("after %d names the memory counts %d bytes, budget %d", i+1, b, budget)
		}
	}
	held := hostile.LiveHeap() - before
	if held > budget*11/10 {
		t.Errorf("the memory holds %d heap bytes, budget %d", held, budget)
	}
	if got := s.Get(bigName(4999, keyLen), 1); len(got) != 1 {
		t.Errorf("the newest record was evicted: %v", got)
	}
	runtime.KeepAlive(s)
	// Many records of one short name: the count binds (Node's 5000) and
	// the heap stays within what is counted.
	before = hostile.LiveHeap()
	s = newSeenPeers(time.Hour, seenPeersMax, budget, time.Now)
	for i := 0; i < 3*seenPeersMax; i++ {
		s.Add("svc"+strconv.Itoa(i%100), "127.0.0.1:"+strconv.Itoa(i))
	}
	if held, counted := hostile.LiveHeap()-before, s.Bytes(); held > uint64(counted)*11/10 {
		t.Errorf("short names: %d heap bytes held, %d counted", held, counted)
	}
	runtime.KeepAlive(s)
}
