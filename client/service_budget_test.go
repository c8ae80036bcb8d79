package client

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// A hostile lookup answer (a grape's reply may be 1 MiB of addresses of any
// length) cannot grow a service's peer table past MaxPeers peers of at most
// maxPeerAddr bytes: over-long addresses are skipped, the rest capped. The
// heap it holds stays within MaxPeers × (maxPeerAddr + peerBytesBound).
func TestServicePeerTableBounded(t *testing.T) {
	const maxPeers, peerBytesBound = 1024, 1024 // ~520 B per peer measured (amd64)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var addrs []string
	for i := range 4 * maxPeers {
		host := fmt.Sprintf("h%06d-", i)
		addrs = append(addrs, host+strings.Repeat("h", maxPeerAddr-len(host)-6)+":65535")
	}
	addrs = append([]string{strings.Repeat("x", 1<<16) + ":1"}, addrs...)
	s := newService("svc")
	s.update(addrs, maxPeers, 0)
	s.update(addrs[maxPeers:], maxPeers, 0) // every peer replaced: the old ones retire
	addrs = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(s.snapshot()); n != maxPeers || len(s.byAddr) != maxPeers || len(s.retired) > maxPeers {
		t.Fatalf("%d peers, %d by address, %d retired; bound %d", n, len(s.byAddr), len(s.retired), maxPeers)
	}
	for a := range s.byAddr {
		if len(a) > maxPeerAddr {
			t.Fatalf("a %d-byte address was kept", len(a))
		}
	}
	// Current peers and as many retired ones.
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if bound := int64(2 * maxPeers * (maxPeerAddr + peerBytesBound)); held > bound {
		t.Errorf("the peer table holds %d heap bytes, bound %d", held, bound)
	}
	t.Logf("%d heap bytes for %d current and %d retired peers", held, len(s.byAddr), len(s.retired))
	runtime.KeepAlive(s)
}
