package dht

import (
	"bytes"
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestTwoNodesAnnounceLookup(t *testing.T) {
	a := startNode(t, testConfig())
	b := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, a)
	waitReady(t, b)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	acked, err := b.Announce(ctx, []byte("rpc_test"), 1337)
	if err != nil || acked != 1 {
		t.Fatalf("announce: %d %v", acked, err)
	}
	got, err := a.Lookup(ctx, []byte("rpc_test"))
	want := netip.MustParseAddrPort("127.0.0.1:1337")
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("lookup on a: %v %v", got, err)
	}
	got, err = b.Lookup(ctx, []byte("rpc_test"))
	if err != nil || len(got) != 1 || got[0] != want {
		t.Fatalf("lookup on b: %v %v", got, err)
	}
	tg, err := a.Put(ctx, Item{V: []byte("hello world")})
	if err != nil {
		t.Fatal(err)
	}
	if tg.String() != "6d33adc2b6b2c14c3036feefb7fedbca1a880527" {
		t.Fatalf("target %s", tg)
	}
	r, ok, err := b.Get(ctx, tg, nil)
	if err != nil || !ok || string(r.Item.V) != "hello world" {
		t.Fatalf("get: %+v %v %v", r, ok, err)
	}
	// Keys are raw bytes of any length: empty, and as long as a 9000-char
	// service name (one datagram, as Node sends it).
	for _, key := range [][]byte{{}, bytes.Repeat([]byte("n"), 9000)} {
		if acked, err := a.Announce(ctx, key, 4321); err != nil || acked != 1 {
			t.Fatalf("announce %d-byte key: %d %v", len(key), acked, err)
		}
		got, err := b.Lookup(ctx, key)
		if err != nil || len(got) != 1 || got[0] != netip.MustParseAddrPort("127.0.0.1:4321") {
			t.Fatalf("lookup %d-byte key: %v %v", len(key), got, err)
		}
	}
	// Port 0 announces our own DHT port, as a Node grape does.
	if _, err := a.Announce(ctx, []byte("zero_port"), 0); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Lookup(ctx, []byte("zero_port")); len(got) != 1 || got[0].Port() != a.Addr().Port() {
		t.Fatalf("port 0: %v", got)
	}
	s := a.Stats()
	if s.QueriesSent["get_peers"] == 0 || s.QueriesRecv["find_node"] == 0 || s.BadPackets != 0 || s.ErrorsSent != 0 {
		t.Fatalf("stats a: %+v", s)
	}
}
