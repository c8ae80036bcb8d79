package dht

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
)

// freeUDPAddr reserves a loopback port and frees it again for a node that
// starts later (its port answers ICMP port unreachable meanwhile).
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// A grape started before its bootstrap peer joins as soon as the peer is
// up: it retries with a short backoff instead of waiting for the next
// maintenance tick (a minute) with an empty table.
func TestJoinRetriesUntilBootstrapPeerIsUp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a walk to a port that is not up ends at once only where ICMP errors are read (Linux)")
	}
	const qt = 2 * time.Second
	bAddr := freeUDPAddr(t)
	ca := testConfig(bAddr)
	ca.QueryTimeout = qt
	a := startNode(t, ca)
	time.Sleep(300 * time.Millisecond) // a few failed walks, backoff grown
	cb := testConfig()
	cb.Addr = bAddr
	cb.QueryTimeout = qt
	started := time.Now()
	b := startNode(t, cb)
	b.StoreLocal([]byte("svc"), netip.MustParseAddrPort("127.0.0.1:1337"), netip.MustParseAddr("127.0.0.1"))
	waitFor(t, 5*time.Second, func() bool { return a.Stats().RoutingNodes > 0 })
	joined := time.Since(started)
	got, err := a.Lookup(context.Background(), []byte("svc"))
	seen := time.Since(started)
	if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:1337")) {
		t.Fatalf("lookup on the early node: %v %v", got, err)
	}
	// The next retry comes at most 1.5 x joinRetryMax (600 ms) after the
	// late node started; 1 s leaves 400 ms for a loaded host. The Node
	// grape waits its 2 s query timeout and then a maintenance tick.
	if seen > qt/2 {
		t.Fatalf("the early node saw the late one %v after it started (joined after %v), want under %v", seen, joined, qt/2)
	}
	t.Logf("early node joined %v and found the name %v after the late one started", joined, seen)
}

// Node's grape suite ("should emit a ready event"): grape 1 bootstraps at
// grape 2, which starts right after it. Grape 1 used to be ready only after
// its query to the absent grape 2 timed out (2 s, as in Node); now it is
// ready as soon as grape 2 answers a retry.
func TestReadyAsSoonAsLateBootstrapPeerAnswers(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a walk to a port that is not up ends at once only where ICMP errors are read (Linux)")
	}
	const qt = 2 * time.Second
	addr1, addr2 := freeUDPAddr(t), freeUDPAddr(t)
	c1 := testConfig(addr2)
	c1.Addr, c1.QueryTimeout = addr1, qt
	c2 := testConfig(addr1)
	c2.Addr, c2.QueryTimeout = addr2, qt
	start := time.Now()
	g1 := startNode(t, c1)
	time.Sleep(20 * time.Millisecond) // grape 2 starts after grape 1's first walk
	startNode(t, c2)
	waitReady(t, g1)
	d := time.Since(start)
	if g1.Stats().RoutingNodes == 0 {
		t.Fatal("ready without having joined")
	}
	if d > qt/2 {
		t.Fatalf("grape 1 ready after %v, want well under the %v query timeout", d, qt)
	}
	t.Logf("grape 1 ready after %v", d)
}

// With bootstrap peers that never come up, Ready still closes, one
// QueryTimeout after Run started (when a Node grape's first walk gives up).
func TestReadyAfterQueryTimeoutWhenNobodyAnswers(t *testing.T) {
	cfg := testConfig(freeUDPAddr(t))
	start := time.Now()
	n := startNode(t, cfg)
	waitReady(t, n)
	if d := time.Since(start); d < cfg.QueryTimeout || d > 5*cfg.QueryTimeout {
		t.Fatalf("ready after %v, want about one QueryTimeout (%v)", d, cfg.QueryTimeout)
	}
	// And it keeps trying in the background (so a late peer is joined).
	waitFor(t, time.Second, func() bool { return n.Stats().Unreachable+n.Stats().QueryTimeouts > 2 })
}
