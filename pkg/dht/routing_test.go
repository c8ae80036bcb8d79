package dht

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

func addrN(i int) netip.AddrPort {
	return netip.MustParseAddrPort(fmt.Sprintf("127.0.%d.%d:%d", i/250, i%250+1, 10000+i))
}

func TestRoutingTableLearnAndClosest(t *testing.T) {
	clk := newFakeClock()
	self := id(0x00)
	rt := newRoutingTable(self, K, clk.Now())
	if added, _ := rt.observe(contact{ID: self, Addr: addrN(0)}, clk.Now()); added {
		t.Fatal("own id must not enter the table")
	}
	for i := 1; i <= 10; i++ {
		if added, _ := rt.observe(contact{ID: id(byte(i)), Addr: addrN(i)}, clk.Now()); !added {
			t.Fatalf("node %d not added", i)
		}
	}
	if rt.len() != 10 {
		t.Fatalf("len %d", rt.len())
	}
	// Seeing a node again refreshes it, not a change.
	clk.Advance(time.Minute)
	if added, _ := rt.observe(contact{ID: id(3), Addr: addrN(3)}, clk.Now()); added || !rt.lastChange.Equal(clk.Now().Add(-time.Minute)) {
		t.Fatal("refresh must not count as change")
	}
	got := rt.closest([]byte{0x05}, 3)
	if len(got) != 3 || got[0].ID != id(5) || got[1].ID != id(4) || got[2].ID != id(7) {
		t.Fatalf("closest to 0x05: %v %v %v", got[0].ID, got[1].ID, got[2].ID)
	}
	// A new id at a known address replaces the old one (restarted node).
	rt.observe(contact{ID: id(0x99), Addr: addrN(3)}, clk.Now())
	if _, ok := rt.idAt(addrN(3)); !ok || rt.len() != 10 {
		t.Fatal("restart replace")
	}
	if id3, _ := rt.idAt(addrN(3)); id3 != id(0x99) {
		t.Fatal("new id at addr")
	}
	if !rt.remove(id(5), clk.Now()) || rt.remove(id(5), clk.Now()) || rt.len() != 9 {
		t.Fatal("remove")
	}
	if !rt.removeAddr(addrN(6), clk.Now()) || rt.len() != 8 {
		t.Fatal("removeAddr")
	}
}

func TestRoutingTableFullBucketAsksToPingOldest(t *testing.T) {
	clk := newFakeClock()
	self := id(0x00)
	rt := newRoutingTable(self, K, clk.Now())
	// All ids with the top bit set share bucket 0.
	for i := 0; i < K; i++ {
		clk.Advance(time.Second)
		if added, _ := rt.observe(contact{ID: id(0x80, byte(i)), Addr: addrN(i)}, clk.Now()); !added {
			t.Fatal("fill")
		}
	}
	// Every contact was heard from within pingAfter: the newcomer is
	// dropped without pinging anyone.
	if added, toPing := rt.observe(contact{ID: id(0x80, 0xff), Addr: addrN(100)}, clk.Now()); added || len(toPing) != 0 {
		t.Fatalf("full bucket of fresh contacts: added=%v toPing=%v", added, toPing)
	}
	// Past pingAfter for the oldest two only (contact i was seen at
	// i+1 s, now is K s): only they are pinged.
	clk.Advance(pingAfter - time.Duration(K-2)*time.Second)
	if _, toPing := rt.observe(contact{ID: id(0x80, 0xff), Addr: addrN(100)}, clk.Now()); len(toPing) != 2 || toPing[0].ID != id(0x80, 0) || toPing[1].ID != id(0x80, 1) {
		t.Fatalf("two stale contacts: toPing=%v", toPing)
	}
	clk.Advance(pingAfter)
	added, toPing := rt.observe(contact{ID: id(0x80, 0xff), Addr: addrN(100)}, clk.Now())
	if added || len(toPing) != pingOnFull || toPing[0].ID != id(0x80, 0) || toPing[2].ID != id(0x80, 2) {
		t.Fatalf("full bucket: added=%v toPing=%v", added, toPing)
	}
	// Refreshing the oldest moves it to the tail.
	rt.observe(contact{ID: id(0x80, 0), Addr: addrN(0)}, clk.Now())
	_, toPing = rt.observe(contact{ID: id(0x80, 0xff), Addr: addrN(100)}, clk.Now())
	if toPing[0].ID != id(0x80, 1) {
		t.Fatal("refreshed contact should not be pinged first")
	}
	// Once a dead one is evicted, the new contact fits.
	rt.remove(toPing[0].ID, clk.Now())
	if added, _ := rt.observe(contact{ID: id(0x80, 0xff), Addr: addrN(100)}, clk.Now()); !added {
		t.Fatal("replacement")
	}
	// Other buckets are unaffected by a full bucket 0.
	if added, _ := rt.observe(contact{ID: id(0x40), Addr: addrN(200)}, clk.Now()); !added {
		t.Fatal("bucket 1")
	}
}

// closest's top-n selection must agree with sorting the whole table.
func TestClosestMatchesFullSort(t *testing.T) {
	clk := newFakeClock()
	self := id(0x5a, 0xa5)
	rt := newRoutingTable(self, K, clk.Now())
	for i := 0; i < 500; i++ {
		var nid NodeID
		for j := range nid {
			nid[j] = byte((i*131 + j*17) ^ (i >> 2))
		}
		rt.observe(contact{ID: nid, Addr: addrN(i)}, clk.Now())
	}
	for _, key := range [][]byte{nil, []byte("r"), []byte("rpc_test"), make([]byte, 20), make([]byte, 9000)} {
		all := rt.all()
		sortByDistance(key, all)
		got := rt.closest(key, K)
		if len(got) != min(K, len(all)) {
			t.Fatalf("len %d", len(got))
		}
		for i := range got {
			if cmpDistance(key, &got[i].ID, &all[i].ID) != 0 {
				t.Fatalf("key %q: position %d differs", key, i)
			}
		}
	}
}
