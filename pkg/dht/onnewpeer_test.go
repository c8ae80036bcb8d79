package dht

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// The store reports a peer as new only the first time it lands there (or
// after it expired), never for a refresh, so the grape's lookup cache is
// not dropped by every periodic re-announce.
func TestPeerStoreAddReportsNew(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	s := newPeerStore(120*time.Second, 100, 1<<30, t0)
	if !s.add([]byte("k"), p1, srcA, t0) {
		t.Fatal("first add must be new")
	}
	if s.add([]byte("k"), p1, srcA, t0.Add(time.Second)) {
		t.Fatal("refresh in the current generation is not new")
	}
	if s.add([]byte("k"), p1, srcA, t0.Add(90*time.Second)) {
		t.Fatal("refresh from the old generation is not new")
	}
	if !s.add([]byte("k"), p2, srcA, t0.Add(90*time.Second)) {
		t.Fatal("another peer under the key is new")
	}
	if !s.add([]byte("k"), p1, srcA, t0.Add(400*time.Second)) {
		t.Fatal("a peer that expired is new again")
	}
}

// OnNewPeer fires for StoreLocal and for a received announce_peer, once per
// new peer.
func TestOnNewPeerHook(t *testing.T) {
	var mu sync.Mutex
	got := map[string]int{}
	hook := func(key string) {
		mu.Lock()
		got[key]++
		mu.Unlock()
	}
	count := func(k string) int {
		mu.Lock()
		defer mu.Unlock()
		return got[k]
	}
	cfgA := testConfig()
	cfgA.OnNewPeer = hook
	a := startNode(t, cfgA)
	b := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, a)
	waitReady(t, b)

	a.StoreLocal([]byte("local"), netip.MustParseAddrPort("10.0.0.1:80"), srcA)
	a.StoreLocal([]byte("local"), netip.MustParseAddrPort("10.0.0.1:80"), srcA)
	if n := count("local"); n != 1 {
		t.Fatalf("StoreLocal twice: hook called %d times, want 1", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if n, err := b.Announce(ctx, []byte("remote"), 4000); err != nil || n != 1 {
			t.Fatalf("announce: %d %v", n, err)
		}
	}
	if n := count("remote"); n != 1 {
		t.Fatalf("announce_peer twice: hook called %d times, want 1", n)
	}
}
