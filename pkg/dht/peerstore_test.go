package dht

import (
	"net/netip"
	"testing"
	"time"
)

var (
	p1 = netip.MustParseAddrPort("127.0.0.1:1337")
	p2 = netip.MustParseAddrPort("127.0.0.1:1338")
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
	s := newPeerStore(120*time.Second, 100, t0)
	if s.interval != 80*time.Second {
		t.Fatalf("interval %v", s.interval)
	}
	s.add([]byte("early"), p1, t0.Add(time.Millisecond))
	s.add([]byte("late"), p1, t0.Add(80*time.Second-time.Millisecond))
	at := func(d time.Duration) time.Time { return t0.Add(d) }

	if !has(s, "early", p1, at(159*time.Second)) || !has(s, "late", p1, at(159*time.Second)) {
		t.Fatal("both alive before the second GC")
	}
	if has(s, "early", p1, at(160*time.Second)) || has(s, "late", p1, at(160*time.Second)) {
		t.Fatal("both gone at the second GC")
	}
	// Lifetimes: early ≈ 160 s (4A/3), late ≈ 80 s (2A/3).

	// Re-adding from the old generation moves the entry to the current one.
	s.add([]byte("k"), p1, at(170*time.Second)) // current gen of [160,240)
	if !has(s, "k", p1, at(250*time.Second)) {  // old gen now
		t.Fatal("k in old generation")
	}
	s.add([]byte("k"), p1, at(250*time.Second)) // back to current
	if !has(s, "k", p1, at(390*time.Second)) || has(s, "k", p1, at(400*time.Second)) {
		t.Fatal("refreshed entry must live until the second GC after the refresh")
	}
	// Adding an entry already in the current generation does not extend it.
	s.add([]byte("c"), p1, at(401*time.Second))
	s.add([]byte("c"), p1, at(479*time.Second))
	if has(s, "c", p1, at(560*time.Second)) {
		t.Fatal("re-add in current generation must not refresh")
	}
}

func TestPeerStoreNoExpiryAndBounds(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(0, 3, clk.Now())
	s.add([]byte("a"), p1, clk.Now())
	s.add([]byte(""), p2, clk.Now()) // the empty key is a key
	clk.Advance(24 * 365 * time.Hour)
	if !has(s, "a", p1, clk.Now()) || !has(s, "", p2, clk.Now()) {
		t.Fatal("A=0 never expires")
	}
	s.add([]byte("a"), p2, clk.Now())
	s.add([]byte("b"), p1, clk.Now())
	if keys, n := s.counts(clk.Now()); n != 3 || keys > 3 {
		t.Fatalf("bounded to 3, got %d peers %d keys", n, keys)
	}
	if !has(s, "b", p1, clk.Now()) {
		t.Fatal("newest entry kept")
	}

	// With generations, the old one is evicted first.
	s = newPeerStore(3*time.Second, 2, clk.Now())
	s.add([]byte("old"), p1, clk.Now())
	clk.Advance(2 * time.Second) // one GC: "old" moves to the old generation
	s.add([]byte("new1"), p1, clk.Now())
	s.add([]byte("new2"), p1, clk.Now())
	if has(s, "old", p1, clk.Now()) || !has(s, "new1", p1, clk.Now()) || !has(s, "new2", p1, clk.Now()) {
		t.Fatal("old generation evicted first")
	}
}

func TestPeerStoreGetLimitAndDedup(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(time.Minute, 1000, clk.Now())
	for i := 0; i < 150; i++ {
		s.add([]byte("k"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(1000+i)), clk.Now())
	}
	s.add([]byte("k"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 1000), clk.Now())
	if got := s.get([]byte("k"), 100, clk.Now()); len(got) != 100 {
		t.Fatalf("limit: %d", len(got))
	}
	if got := s.get([]byte("k"), 1000, clk.Now()); len(got) != 150 {
		t.Fatalf("dedup: %d", len(got))
	}
}

func TestPeerStoreKeyBytesBound(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(0, 1<<20, clk.Now())
	key := make([]byte, 60000)
	for i := 0; i < 1000; i++ {
		key[0], key[1] = byte(i), byte(i>>8)
		s.add(key, p1, clk.Now())
	}
	if kb := s.cur.keyBytes + s.old.keyBytes; kb > maxKeyBytes {
		t.Fatalf("key bytes %d over bound", kb)
	}
	if keys, _ := s.counts(clk.Now()); keys != maxKeyBytes/60000 {
		t.Fatalf("keys %d", keys)
	}
}
