package dht

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/internal/hostile"
)

// maxItem is a mutable BEP44 item of the largest size a put may carry:
// a 999-byte value and a 64-byte salt.
func maxItem(priv ed25519.PrivateKey, i int, vlen int) Item {
	v := make([]byte, vlen)
	copy(v, fmt.Sprint(i))
	salt := make([]byte, maxSaltLen)
	copy(salt, fmt.Sprint(i))
	it := signed(priv, string(v), 1, string(salt))
	return it
}

// Filled with maximum-size items, the value store stays within its byte
// budget; and what it charges bounds the heap it really uses.
func TestValueStoreByteBudget(t *testing.T) {
	priv := testKey(3)
	const budget = 1 << 20
	s := newValueStore(1<<20, budget)
	for i := 0; i < 2000; i++ {
		if _, err := s.put(maxItem(priv, i, maxValueLen-1)); err != nil {
			t.Fatal(err)
		}
		if s.bytes > budget {
			t.Fatalf("after %d puts: %d bytes charged, budget %d", i+1, s.bytes, budget)
		}
	}
	if want := budget / (maxValueLen - 1 + maxSaltLen + valueItemOverhead); s.len() != want {
		t.Fatalf("%d items kept, want %d", s.len(), want)
	}

	// Honesty: tiny items, so the per-item overhead dominates.
	const n = 5000
	items := make([]Item, n)
	for i := range items {
		items[i] = maxItem(priv, i, 1)
		items[i].Salt = items[i].Salt[:1]
		items[i].Salt[0] = byte(i)
		items[i] = signed(priv, string(items[i].V), 1, fmt.Sprint(i))
	}
	var charged int
	used := hostile.HeapGrowth(func() any {
		s := newValueStore(n, 1<<40)
		for _, it := range items {
			if _, err := s.put(it); err != nil {
				t.Fatal(err)
			}
		}
		charged = s.bytes
		return s
	})
	t.Logf("%d items: %d heap bytes, %d per item; charged %d", n, used, used/n, charged)
	if used > int64(charged) {
		t.Fatalf("heap grew %d bytes, more than the %d charged: raise valueItemOverhead", used, charged)
	}
}

// Filled with maximum-size keys and tokens, the lookup tables stay within
// their byte budget; what they charge bounds the heap they use; and a token
// longer than maxTokenLen never gets into a table.
func TestLookupTablesByteBudget(t *testing.T) {
	clk := newFakeClock()
	full := func(tok int) []responder {
		rs := make([]responder, 2*K)
		for i := range rs {
			rs[i] = responder{contact: contact{ID: id(byte(i)), Addr: addrN(i)}, token: make([]byte, tok)}
		}
		return rs
	}
	const budget = 2 << 20
	l := newLookupTables(1<<20, budget)
	key := make([]byte, maxKeyLen)
	for i := 0; i < 200; i++ {
		key[0], key[1] = byte(i), byte(i>>8)
		l.set(key, full(maxTokenLen), clk.Now())
		if l.bytes > budget {
			t.Fatalf("after %d tables: %d bytes charged, budget %d", i+1, l.bytes, budget)
		}
	}
	if want := budget / tableCost(string(key), full(maxTokenLen)); l.ll.Len() != want {
		t.Fatalf("%d tables kept, want %d", l.ll.Len(), want)
	}

	for _, per := range []int{1, K} {
		const n = 5000
		var charged int
		used := hostile.HeapGrowth(func() any {
			l := newLookupTables(n, 1<<40)
			for i := 0; i < n; i++ {
				rs := make([]responder, 0, 2*K) // spare capacity, as walks leave it
				for j := 0; j < per; j++ {
					rs = append(rs, responder{contact: contact{ID: id(byte(j)), Addr: addrN(j)}, token: make([]byte, 20)})
				}
				l.set([]byte(fmt.Sprint(i)), rs, clk.Now())
			}
			charged = l.bytes
			return l
		})
		t.Logf("%d tables of %d responders: %d heap bytes, %d per table; charged %d", n, per, used, used/n, charged)
		if used > int64(charged) {
			t.Fatalf("heap grew %d bytes, more than the %d charged: raise tableOverhead/responderOverhead", used, charged)
		}
	}
}

// The suspects memory holds at most maxSuspects fixed-size records however
// many addresses fail: its byte bound is maxSuspects times one record.
func TestSuspectsBounded(t *testing.T) {
	n, err := newNode(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3*maxSuspects; i++ {
		n.markSuspect(netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 1, byte(i >> 8), byte(i)}), 1), i%2 == 0)
		if len(n.suspects) > maxSuspects {
			t.Fatalf("%d suspects, bound %d", len(n.suspects), maxSuspects)
		}
	}
}

// A token longer than maxTokenLen is not kept from a walk's reply (it
// would sit in a lookup table for 5 minutes), a normal one is.
func TestWalkDropsOversizedTokens(t *testing.T) {
	for _, tc := range []struct {
		tokLen int
		kept   bool
	}{{20, true}, {maxTokenLen + 1, false}, {60000, false}} {
		peer := rawPeer(t, "127.0.0.2")
		cfg := testConfig(peer.LocalAddr().String())
		x, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []responder, 1)
		go func() {
			rs, _ := x.walk(context.Background(), walkSpec{q: "get_peers", key: []byte("k"),
				args: func() *args { return &args{InfoHash: strPtr("k")} }})
			done <- rs
		}()
		_, m, from := readMsg(t, peer)
		var pid NodeID
		pid[0] = 0x42
		rep, _ := encodeMsg(&msg{T: m.T, Y: "r", R: &reply{ID: string(pid[:]), Token: strPtr(strings.Repeat("t", tc.tokLen))}})
		if _, err := peer.WriteToUDP(rep, from); err != nil {
			t.Fatal(err)
		}
		rs := <-done
		_ = x.Close()
		if len(rs) != 1 {
			t.Fatalf("token of %d bytes: %d responders", tc.tokLen, len(rs))
		}
		if kept := rs[0].token != nil; kept != tc.kept {
			t.Errorf("token of %d bytes: kept %v, want %v", tc.tokLen, kept, tc.kept)
		}
	}
}

// The routing table holds fixed-size contacts, at most K per bucket, and
// its address index never outgrows it, however many nodes speak to us.
func TestRoutingTableBounded(t *testing.T) {
	clk := newFakeClock()
	var self NodeID
	rt := newRoutingTable(self, K, clk.Now())
	for i := 0; i < 100000; i++ {
		var id NodeID
		copy(id[:], fmt.Sprintf("%020d", i*7919))
		id[0] = byte(i)
		id[1] = byte(i >> 8)
		rt.observe(contact{ID: id, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 1)}, clk.Now())
	}
	if n := rt.len(); n > len(rt.buckets)*K || len(rt.byAddr) != n {
		t.Fatalf("%d contacts, %d addresses; bound %d", n, len(rt.byAddr), len(rt.buckets)*K)
	}
}
