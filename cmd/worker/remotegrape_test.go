package main

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
)

func TestRemoteGrapes(t *testing.T) {
	own := netip.MustParseAddr("10.0.0.1")
	isLocal := func(a netip.Addr) bool { return a.IsLoopback() || a == own }
	names := map[string][]netip.Addr{
		"localhost": {netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.1")},
		"me":        {netip.MustParseAddr("10.0.0.9"), own}, // one of them is ours: local
		"grape-2":   {netip.MustParseAddr("10.0.0.2")},
	}
	resolve := func(h string) ([]netip.Addr, error) {
		if a, ok := names[h]; ok {
			return a, nil
		}
		return nil, errors.New("no such host")
	}
	grapes := []string{
		"http://127.0.0.1:30001",
		"http://10.0.0.1:30001",
		"http://[::ffff:10.0.0.1]:30001", // mapped: still ours
		"http://localhost:30001",
		"http://me:30001",
		"http://10.0.0.2:30001",
		"https://grape-2:30001",
		"http://unknown:30001", // cannot tell: not reported
		"::not a url",
	}
	got := remoteGrapes(grapes, isLocal, resolve)
	want := []string{"http://10.0.0.2:30001", "https://grape-2:30001"}
	if !slices.Equal(got, want) {
		t.Fatalf("remoteGrapes = %v, want %v", got, want)
	}
}

func TestLocalAddrsHoldsLoopback(t *testing.T) {
	isLocal := localAddrs()
	for _, a := range []string{"127.0.0.1", "::1", "0.0.0.0"} {
		if !isLocal(netip.MustParseAddr(a)) {
			t.Errorf("%s is not local", a)
		}
	}
	// 192.0.2.0/24 is TEST-NET-1, assigned to no machine.
	if isLocal(netip.MustParseAddr("192.0.2.1")) {
		t.Error("192.0.2.1 (TEST-NET-1) is local")
	}
}
