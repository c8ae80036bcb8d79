package dht

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

var (
	p1   = netip.MustParseAddrPort("127.0.0.1:1337")
	p2   = netip.MustParseAddrPort("127.0.0.1:1338")
	srcA = netip.MustParseAddr("127.0.0.2")
	srcB = netip.MustParseAddr("127.0.0.3")
)

func has(s *peerStore, key string, p netip.AddrPort, now time.Time) bool {
	for _, q := range s.get([]byte(key), 1000, now) {
		if q == p {
			return true
		}
	}
	return false
}

// With A = 120 s the GC runs every ceil(2A/3) = 80 s: an entry added right
// after a GC lives until the second GC after it (just under 4A/3 = 160 s),
// one added right before a GC lives just over 2A/3.
func TestPeerStoreExpiryWindow(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	s := newPeerStore(120*time.Second, 100, 1<<30, t0)
	if s.interval != 80*time.Second {
		t.Fatalf("interval %v", s.interval)
	}
	s.add([]byte("early"), p1, srcA, t0.Add(time.Millisecond))
	s.add([]byte("late"), p1, srcA, t0.Add(80*time.Second-time.Millisecond))
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	if !has(s, "early", p1, at(159*time.Second)) || !has(s, "late", p1, at(159*time.Second)) {
		t.Fatal("both alive before the second GC")
	}
	if has(s, "early", p1, at(160*time.Second)) || has(s, "late", p1, at(160*time.Second)) {
		t.Fatal("both gone at the second GC")
	}
	// Lifetimes: early ≈ 160 s (4A/3), late ≈ 80 s (2A/3).

	// Re-adding from the old generation moves the entry to the current one.
	s.add([]byte("k"), p1, srcA, at(170*time.Second)) // current gen of [160,240)
	if !has(s, "k", p1, at(250*time.Second)) {        // old gen now
		t.Fatal("k in old generation")
	}
	s.add([]byte("k"), p1, srcA, at(250*time.Second)) // back to current
	if !has(s, "k", p1, at(390*time.Second)) || has(s, "k", p1, at(400*time.Second)) {
		t.Fatal("refreshed entry must live until the second GC after the refresh")
	}
	// Adding an entry already in the current generation does not extend it.
	s.add([]byte("c"), p1, srcA, at(401*time.Second))
	s.add([]byte("c"), p1, srcA, at(479*time.Second))
	if has(s, "c", p1, at(560*time.Second)) {
		t.Fatal("re-add in current generation must not refresh")
	}
}

func TestPeerStoreNoExpiryAndBounds(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(0, 3, 1<<30, clk.Now())
	s.add([]byte("a"), p1, srcA, clk.Now())
	s.add([]byte(""), p2, srcA, clk.Now()) // the empty key is a key
	clk.Advance(24 * 365 * time.Hour)
	if !has(s, "a", p1, clk.Now()) || !has(s, "", p2, clk.Now()) {
		t.Fatal("A=0 never expires")
	}
	s.add([]byte("a"), p2, srcA, clk.Now())
	s.add([]byte("b"), p1, srcA, clk.Now())
	if keys, n := s.counts(clk.Now()); n != 3 || keys > 3 {
		t.Fatalf("bounded to 3, got %d peers %d keys", n, keys)
	}
	if !has(s, "b", p1, clk.Now()) {
		t.Fatal("newest entry kept")
	}

	// With generations, the old one is evicted first.
	s = newPeerStore(3*time.Second, 2, 1<<30, clk.Now())
	s.add([]byte("old"), p1, srcA, clk.Now())
	clk.Advance(2 * time.Second) // one GC: "old" moves to the old generation
	s.add([]byte("new1"), p1, srcA, clk.Now())
	s.add([]byte("new2"), p1, srcA, clk.Now())
	if has(s, "old", p1, clk.Now()) || !has(s, "new1", p1, clk.Now()) || !has(s, "new2", p1, clk.Now()) {
		t.Fatal("old generation evicted first")
	}
}

func TestPeerStoreGetLimitAndDedup(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(time.Minute, 1000, 1<<30, clk.Now())
	for i := 0; i < 150; i++ {
		s.add([]byte("k"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1000+i)), srcA, clk.Now())
	}
	s.add([]byte("k"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 1000), srcA, clk.Now())
	if got := s.get([]byte("k"), 100, clk.Now()); len(got) != 100 {
		t.Fatalf("limit: %d", len(got))
	}
	if got := s.get([]byte("k"), 1000, clk.Now()); len(got) != 150 {
		t.Fatalf("dedup: %d", len(got))
	}
}

// maxKeyLen is the longest key a KRPC datagram can carry (a 64 KiB UDP
// payload minus the rest of an announce_peer).
const maxKeyLen = 65000

// Filled with maximum-size keys, the store's charged bytes stay within
// MaxPeerBytes, and it keeps as many entries as the budget allows.
func TestPeerStoreByteBudget(t *testing.T) {
	clk := newFakeClock()
	const budget = 4 << 20
	s := newPeerStore(0, 1<<20, budget, clk.Now())
	key := make([]byte, maxKeyLen)
	for i := 0; i < 1000; i++ {
		key[0], key[1] = byte(i), byte(i>>8)
		s.add(key, p1, srcA, clk.Now())
		if s.bytes > budget {
			t.Fatalf("after %d adds: %d bytes charged, budget %d", i+1, s.bytes, budget)
		}
	}
	want := budget / (maxKeyLen + peerEntryOverhead)
	if keys, n := s.counts(clk.Now()); keys != want || n != want {
		t.Fatalf("keys %d, entries %d, want %d", keys, n, want)
	}
	// An entry that alone exceeds the budget is refused, not stored.
	tiny := newPeerStore(0, 10, 100, clk.Now())
	if tiny.add([]byte("k"), p1, srcA, clk.Now()) || tiny.bytes != 0 {
		t.Fatal("an entry over the whole budget must be refused")
	}
}

// The charged bytes are an upper bound of the heap the store really uses:
// the worst case is one key and one source per entry (every index record
// is then paid by a single entry), measured with short keys so the
// overhead dominates.
func TestPeerStoreOverheadHonest(t *testing.T) {
	clk := newFakeClock()
	const n = 50000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := newPeerStore(0, n, 1<<40, clk.Now())
	for i := 0; i < n; i++ {
		key := []byte{byte(i), byte(i >> 8), byte(i >> 16)}
		src := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		s.add(key, netip.AddrPortFrom(src, 1), src, clk.Now())
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	used := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d entries: %d heap bytes, %d per entry; charged %d", n, used, used/n, s.bytes)
	if used > int64(s.bytes) {
		t.Fatalf("heap grew %d bytes, more than the %d charged: raise peerEntryOverhead", used, s.bytes)
	}
	runtime.KeepAlive(s)
}

// One source flooding a full store evicts its own records: another
// source's records all survive, in both generations.
func TestPeerStoreFairShare(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(3*time.Second, 100, 1<<30, clk.Now())
	svc := netip.MustParseAddrPort("127.0.0.2:4000")
	s.add([]byte("svc-old"), svc, srcA, clk.Now())
	clk.Advance(2 * time.Second) // one GC: svc-old is in the old generation
	s.add([]byte("svc"), svc, srcA, clk.Now())
	flood := netip.MustParseAddrPort("127.0.0.3:5000")
	for i := 0; i < 10000; i++ {
		s.add([]byte(fmt.Sprintf("flood-%d", i)), flood, srcB, clk.Now())
	}
	if !has(s, "svc", svc, clk.Now()) || !has(s, "svc-old", svc, clk.Now()) {
		t.Fatal("the flooding source evicted another source's records")
	}
	if _, n := s.counts(clk.Now()); n != 100 {
		t.Fatalf("store holds %d entries, want it full at 100", n)
	}
	// The flooder keeps its newest records, not its oldest.
	if !has(s, "flood-9999", flood, clk.Now()) || has(s, "flood-0", flood, clk.Now()) {
		t.Fatal("the flooder's oldest records go first")
	}
	// The same holds for the byte budget: a flood of big keys.
	big := newPeerStore(0, 1<<20, 1<<20, clk.Now())
	big.add([]byte("svc"), svc, srcA, clk.Now())
	key := make([]byte, maxKeyLen)
	for i := 0; i < 200; i++ {
		key[0] = byte(i)
		big.add(key, flood, srcB, clk.Now())
	}
	if !has(big, "svc", svc, clk.Now()) || big.bytes > 1<<20 {
		t.Fatalf("byte flood: svc kept %v, %d bytes", has(big, "svc", svc, clk.Now()), big.bytes)
	}
}

// Sources are remote input too: the per-source index never holds more
// sources than the store holds entries, and forgets emptied ones.
func TestPeerStoreSourcesBounded(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(3*time.Second, 50, 1<<30, clk.Now())
	for i := 0; i < 5000; i++ {
		src := netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
		s.add([]byte(fmt.Sprint(i)), netip.AddrPortFrom(src, 1), src, clk.Now())
		if _, n := s.counts(clk.Now()); len(s.sources.by) > n || len(s.sources.heavy) != len(s.sources.by) {
			t.Fatalf("%d sources for %d entries", len(s.sources.by), n)
		}
	}
	clk.Advance(2 * time.Second) // one GC: all in the old generation, still live
	if len(s.sources.by) != 50 {
		t.Fatalf("%d sources after one GC, want 50", len(s.sources.by))
	}
	clk.Advance(2 * time.Second) // second GC: all expired
	s.counts(clk.Now())
	if len(s.sources.by) != 0 || s.bytes != 0 {
		t.Fatalf("after expiry: %d sources, %d bytes", len(s.sources.by), s.bytes)
	}
}

// A refresh from the old generation is charged to the refreshing source.
func TestPeerStoreRefreshMovesCharge(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(3*time.Second, 10, 1<<30, clk.Now())
	s.add([]byte("k"), p1, srcA, clk.Now())
	clk.Advance(2 * time.Second)
	if s.add([]byte("k"), p1, srcB, clk.Now()) {
		t.Fatal("a refresh is not new")
	}
	if s.sources.by[srcA] != nil || s.sources.by[srcB] == nil || s.sources.by[srcB].n != 1 {
		t.Fatal("charge did not move to the refreshing source")
	}
}
