package dht

import (
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
	t.Logf("stats a: %+v", a.Stats())
}
