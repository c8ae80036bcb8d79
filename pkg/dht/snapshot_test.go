package dht

import (
	"fmt"
	"testing"
	"time"
)

// The snapshot caps the names (first in byte order), counts them all, and
// gives each announcement the time it expires at the latest.
func TestPeerStoreSnapshotCapsAndExpiry(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.Now()
	s := newPeerStore(120*time.Second, 100000, 1<<30, t0) // swaps every 80 s
	for i := range 10000 {
		s.add(fmt.Appendf(nil, "name-%05d", i), p1, srcA, t0)
	}
	s.add([]byte("name-00003"), p2, srcB, t0)
	names, total := s.snapshot(50, 1, t0.Add(time.Second))
	if total != 10000 || len(names) != 50 {
		t.Fatalf("total %d, shown %d; want 10000, 50", total, len(names))
	}
	for i, n := range names {
		if want := fmt.Sprintf("name-%05d", i); n.Name != want {
			t.Fatalf("names[%d] = %q, want %q (byte order)", i, n.Name, want)
		}
	}
	if n := names[3]; n.PeersTotal != 2 || len(n.Peers) != 1 {
		t.Fatalf("name-00003: %d shown of %d, want 1 of 2", len(n.Peers), n.PeersTotal)
	}
	if e := names[0].Peers[0].Expires; !e.Equal(t0.Add(160 * time.Second)) {
		t.Fatalf("current-generation entry expires %v after t0, want 160s", e.Sub(t0))
	}
	// After one swap the entry is in the old generation: it goes at the next.
	names, _ = s.snapshot(1, 1, t0.Add(90*time.Second))
	if e := names[0].Peers[0].Expires; !e.Equal(t0.Add(160 * time.Second)) {
		t.Fatalf("old-generation entry expires %v after t0, want 160s", e.Sub(t0))
	}
	if names, total = s.snapshot(0, 0, t0); len(names) != 0 || total != 10000 {
		t.Fatalf("cap 0: %d shown, total %d", len(names), total)
	}
}

// BenchmarkPeerStoreSnapshot is the work a live-view event does under the
// node's lock with a store of 10 000 names (the page shows 200).
func BenchmarkPeerStoreSnapshot(b *testing.B) {
	clk := newFakeClock()
	s := newPeerStore(time.Hour, 100000, 1<<30, clk.Now())
	for i := range 10000 {
		s.add(fmt.Appendf(nil, "name-%05d", (i*7919)%10000), p1, srcA, clk.Now())
	}
	b.ReportAllocs()
	for b.Loop() {
		s.snapshot(200, 20, clk.Now())
	}
}
