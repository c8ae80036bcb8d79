package dht

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// A lone grape that bootstraps from itself works (protocol §3.8): it
// answers its own queries over UDP loopback and stores its own announces.
func TestSingleNodeBootstrapsFromItself(t *testing.T) {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	cfg := testConfig(addr)
	cfg.Addr = addr
	n := startNode(t, cfg)
	waitReady(t, n)
	ctx := context.Background()
	acked, err := n.Announce(ctx, []byte("solo"), 1337)
	if err != nil || acked != 1 {
		t.Fatalf("announce: %d %v", acked, err)
	}
	got, err := n.Lookup(ctx, []byte("solo"))
	if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:1337")) {
		t.Fatalf("lookup: %v %v", got, err)
	}
	if _, err := n.Put(ctx, Item{V: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if s := n.Stats(); s.RoutingNodes != 0 {
		t.Fatalf("own id must never enter the routing table: %d", s.RoutingNodes)
	}
}

// With a dead bootstrap node: Ready still fires, Announce and Put say
// "No nodes to query" after one QueryTimeout, Lookup gives the local store.
func TestDeadBootstrap(t *testing.T) {
	pc, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	dead := pc.LocalAddr().String()
	pc.Close()
	n := startNode(t, testConfig(dead))
	waitReady(t, n)
	ctx := context.Background()
	start := time.Now()
	if _, err := n.Announce(ctx, []byte("x"), 1); !errors.Is(err, ErrNoNodes) || err.Error() != "No nodes to query" {
		t.Fatalf("announce: %v", err)
	}
	if d := time.Since(start); d > 3*n.cfg.QueryTimeout {
		t.Fatalf("announce took %v", d)
	}
	if _, err := n.Put(ctx, Item{V: []byte("x")}); !errors.Is(err, ErrNoNodes) {
		t.Fatalf("put: %v", err)
	}
	n.StoreLocal([]byte("x"), netip.MustParseAddrPort("10.0.0.1:80"), srcA)
	got, err := n.Lookup(ctx, []byte("x"))
	if err != nil || len(got) != 1 || got[0] != netip.MustParseAddrPort("10.0.0.1:80") {
		t.Fatalf("lookup: %v %v", got, err)
	}
	// The put is still stored locally (as on a Node grape).
	if r, ok, err := n.Get(ctx, ImmutableTarget([]byte("x")), nil); !ok || !r.Local || r.Token != nil || r.From != n.ID() || err != nil {
		t.Fatalf("local get: %+v %v %v", r, ok, err)
	}
	// The bootstrap query failed: by ICMP port unreachable where the
	// system reports it (Linux), else by its own timeout.
	waitFor(t, 10*time.Second, func() bool { s := n.Stats(); return s.QueryTimeouts+s.Unreachable > 0 })
}

func TestNoBootstrapNoNodes(t *testing.T) {
	n := startNode(t, testConfig())
	waitReady(t, n)
	ctx := context.Background()
	if _, err := n.Announce(ctx, []byte("x"), 1); !errors.Is(err, ErrNoNodes) {
		t.Fatal(err)
	}
	if _, ok, err := n.Get(ctx, Target{1}, nil); ok || !errors.Is(err, ErrNoNodes) {
		t.Fatal(ok, err)
	}
	if got, err := n.Lookup(ctx, []byte("x")); err != nil || len(got) != 0 {
		t.Fatal(got, err)
	}
}

func TestCloseWithoutRunAndTwice(t *testing.T) {
	n, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-n.Ready():
	default:
		t.Fatal("Ready closes on Close")
	}
	if _, err := New(Config{Addr: "127.0.0.1:0"}); err == nil {
		t.Fatal("zero Concurrency/QueryTimeout must be rejected")
	}
}

// Run returns, and the node closes, when its context ends, even mid-walk.
func TestRunStopsOnCancel(t *testing.T) {
	pc, _ := net.ListenPacket("udp4", "127.0.0.1:0")
	dead := pc.LocalAddr().String()
	pc.Close()
	cfg := testConfig(dead)
	cfg.QueryTimeout = 10 * time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- n.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return")
	}
	n.Close()
}

// A cached per-key table whose tokens are refused (the storing node's
// secrets changed) is dropped and the walk redone, instead of failing for
// the table's 5 minutes as Node does.
func TestAnnounceRefreshesRefusedTokens(t *testing.T) {
	a := startNode(t, testConfig())
	b := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, b)
	ctx := context.Background()
	if n, err := b.Announce(ctx, []byte("k"), 1); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	walks := b.Stats().QueriesSent["get_peers"]
	if n, err := b.Announce(ctx, []byte("k"), 1); err != nil || n != 1 || b.Stats().QueriesSent["get_peers"] != walks {
		t.Fatal("second announce must reuse the cached table", n, err)
	}
	a.mu.Lock()
	a.tokens.random(a.tokens.cur[:])
	a.tokens.random(a.tokens.prev[:])
	a.mu.Unlock()
	if n, err := b.Announce(ctx, []byte("k"), 2); err != nil || n != 1 {
		t.Fatal("announce after token change", n, err)
	}
	if b.Stats().QueriesSent["get_peers"] == walks {
		t.Fatal("a fresh walk was expected")
	}
	if got, _ := b.Lookup(ctx, []byte("k")); !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:2")) {
		t.Fatal(got)
	}
}

func TestMutablePutGetOverNetwork(t *testing.T) {
	a := startNode(t, testConfig())
	b := startNode(t, testConfig(a.Addr().String()))
	c := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, b)
	waitReady(t, c)
	ctx := context.Background()
	priv := testKey(7)
	it := signed(priv, "mutable hello", 1, "mysalt")
	tg, err := b.Put(ctx, it)
	if err != nil || tg != it.Target() {
		t.Fatal(tg, err)
	}
	// A stale seq is refused by every storing node: 302 comes back.
	old := signed(priv, "older", 0, "mysalt")
	d := startNode(t, testConfig(a.Addr().String()))
	waitReady(t, d)
	var ke *Error
	if _, err := d.Put(ctx, old); !errors.As(err, &ke) || ke.Code != 302 {
		t.Fatalf("stale put: %v", err)
	}
	// c stored it as one of the closest; make c ask the others by
	// dropping its local copy.
	c.mu.Lock()
	c.values = newValueStore(10, 1<<30)
	c.mu.Unlock()
	r, ok, err := c.Get(ctx, tg, []byte("mysalt"))
	if err != nil || !ok || r.Local || string(r.Item.V) != "mutable hello" || r.Item.Seq != 1 || r.Token == nil || r.From == c.ID() {
		t.Fatalf("get: %+v %v %v", r, ok, err)
	}
	if !bytes.Equal(r.Item.K[:], it.K[:]) {
		t.Fatal("k")
	}
	// d still holds the stale seq-0 copy locally; a remote get must prefer
	// the highest seq.
	e := startNode(t, testConfig(d.Addr().String()))
	waitReady(t, e)
	if r, ok, _ := e.Get(ctx, tg, []byte("mysalt")); !ok || r.Item.Seq != 1 {
		t.Fatalf("highest seq wins: %+v", r)
	}
	// Wrong salt: the reply does not verify, so nothing is found.
	if _, ok, _ := c.Get(ctx, tg, []byte("other")); ok {
		t.Fatal("unverifiable reply accepted")
	}
	// Values of 1000 bytes and more are refused locally, with Node's text.
	if _, err := d.Put(ctx, Item{V: make([]byte, 1000)}); err == nil || err.Error() != "v must be less than 1000 bytes in put()" {
		t.Fatal(err)
	}
	if _, ok, err := d.Get(ctx, ImmutableTarget([]byte("nobody has this")), nil); ok || err != nil {
		t.Fatal("not found is ok=false, err=nil", ok, err)
	}
}

// Liveness: with nothing changing for NodeLiveness, every node is pinged
// and the dead are evicted; an empty table re-bootstraps, so a node whose
// only peer restarted finds it again.
func TestLivenessEvictsAndRebootstraps(t *testing.T) {
	aCfg := testConfig()
	a, err := New(aCfg)
	if err != nil {
		t.Fatal(err)
	}
	aAddr := a.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	aDone := make(chan struct{})
	go func() { defer close(aDone); _ = a.Run(ctx) }()

	cfg := testConfig(aAddr)
	cfg.NodeLiveness = 200 * time.Millisecond
	cfg.QueryTimeout = 100 * time.Millisecond
	b := startNode(t, cfg)
	waitReady(t, b)
	if b.Stats().RoutingNodes != 1 {
		t.Fatal("b knows a")
	}
	cancel()
	<-aDone
	a.Close()
	waitFor(t, 10*time.Second, func() bool { return b.Stats().RoutingNodes == 0 })

	aCfg.Addr = aAddr
	a2 := startNode(t, aCfg)
	waitFor(t, 10*time.Second, func() bool { return b.Stats().RoutingNodes == 1 })
	b.mu.Lock()
	_, ok := b.rt.idAt(a2.Addr())
	b.mu.Unlock()
	if !ok {
		t.Fatal("b re-learned a2")
	}
}

// A full bucket pings its oldest contacts; a dead one is replaced by the
// newcomer.
func TestFullBucketReplacesDeadContact(t *testing.T) {
	x := startNode(t, testConfig())
	z := startNode(t, testConfig())
	waitReady(t, x)
	// Fill z's bucket in x's table with 20 dead contacts (closed ports).
	// The sockets stay open until every port is taken, so no two contacts
	// get the same port (the kernel may hand a closed port out again: the
	// contact's address would then replace another's, and the setup check
	// below failed about once in a few hundred runs); closed, they are dead.
	var addrs []netip.AddrPort
	var pcs []net.PacketConn
	for range K {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pcs = append(pcs, pc)
		addrs = append(addrs, pc.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	for _, pc := range pcs {
		pc.Close()
	}
	x.mu.Lock()
	for i, addr := range addrs {
		id := z.ID()
		id[19] ^= byte(i + 1)
		// Last heard from long ago: a full bucket pings only contacts
		// older than pingAfter.
		x.rt.observe(contact{ID: id, Addr: addr}, x.cfg.Clock.Now().Add(-2*pingAfter))
	}
	x.mu.Unlock()
	if x.Stats().RoutingNodes != K {
		t.Fatal("setup")
	}
	if _, err := z.query(context.Background(), contact{Addr: x.Addr()}, "ping", &args{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool {
		x.mu.Lock()
		defer x.mu.Unlock()
		id, ok := x.rt.idAt(z.Addr())
		return ok && id == z.ID()
	})
	if s := x.Stats(); s.RoutingNodes != K || s.QueriesSent["ping"] == 0 {
		t.Fatalf("one dead contact replaced: %+v", s)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The case that costs a Node grape 2.3 s (protocol §3.1): one of three
// nodes dies. Our first lookup waits only the straggler grace; the next
// ones do not wait for the suspect at all, even before its query times out.
func TestDeadNodeDoesNotStallLookups(t *testing.T) {
	cfg := testConfig()
	cfg.QueryTimeout = 2 * time.Second
	a := startNode(t, cfg)
	cb := testConfig(a.Addr().String())
	cb.QueryTimeout = cfg.QueryTimeout
	b := startNode(t, cb)
	c, err := New(cb)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	waitReady(t, b)
	waitReady(t, c)
	if _, err := b.Announce(context.Background(), []byte("svc"), 1337); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	c.Close()
	want := netip.MustParseAddrPort("127.0.0.1:1337")
	for i, bound := range []time.Duration{cfg.QueryTimeout / 4, cfg.QueryTimeout / 10, cfg.QueryTimeout / 10} {
		start := time.Now()
		got, err := a.Lookup(context.Background(), []byte("svc"))
		d := time.Since(start)
		if err != nil || !slices.Contains(got, want) {
			t.Fatalf("lookup %d: %v %v", i, got, err)
		}
		if d >= bound {
			t.Fatalf("lookup %d took %v, want under %v (QueryTimeout %v)", i, d, bound, cfg.QueryTimeout)
		}
		t.Logf("lookup %d after the kill: %v", i, d)
	}
}

// A whole cluster starting at once (after a power cut): node i knows only
// node i-1. A node's first contact is often the newcomer that bootstrapped
// through it; the join walk must still ask the bootstrap list, or the
// chain breaks (seen by helper "grape": lookups answered [] forever).
func TestSimultaneousStartChain(t *testing.T) {
	for run := 0; run < 5; run++ {
		var nodes []*Node
		for i := 0; i < 4; i++ {
			cfg := testConfig()
			if i > 0 {
				cfg.Bootstrap = []string{nodes[i-1].Addr().String()}
			}
			n, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, n)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Add(1)
			go func() { defer wg.Done(); _ = n.Run(ctx) }()
		}
		for _, n := range nodes {
			waitReady(t, n)
		}
		key := []byte("after_power_cut")
		if _, err := nodes[0].Announce(ctx, key, 1234); err != nil {
			t.Fatal(err)
		}
		got, err := nodes[3].Lookup(ctx, key)
		cancel()
		wg.Wait()
		if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:1234")) {
			t.Fatalf("run %d: lookup on the last node: %v %v", run, got, err)
		}
	}
}

// Every grape bootstrapped at all the others (a common deployment), one
// dies: survivors know fewer nodes than the bootstrap list, so every walk
// asks the dead entry again. Only the first walk may wait for it (found by
// helper "interop": every lookup took the 200 ms grace floor).
const deadBootQueryTimeout = 2 * time.Second

func TestDeadBootstrapEntryWaitedForOnce(t *testing.T) {
	var pcs []net.PacketConn
	var addrs []string
	for i := 0; i < 5; i++ {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pcs = append(pcs, pc)
		addrs = append(addrs, pc.LocalAddr().String())
	}
	for _, pc := range pcs {
		pc.Close()
	}
	var nodes []*Node
	var victimCancel context.CancelFunc
	victimDone := make(chan struct{})
	for i, a := range addrs {
		cfg := testConfig()
		cfg.QueryTimeout = deadBootQueryTimeout
		cfg.Addr = a
		for j, b := range addrs {
			if j != i {
				cfg.Bootstrap = append(cfg.Bootstrap, b)
			}
		}
		if i < 4 {
			nodes = append(nodes, startNode(t, cfg))
			continue
		}
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var ctx context.Context
		ctx, victimCancel = context.WithCancel(context.Background())
		go func() { defer close(victimDone); _ = v.Run(ctx) }()
		defer v.Close()
	}
	for _, n := range nodes {
		waitReady(t, n)
	}
	ctx := context.Background()
	if _, err := nodes[0].Announce(ctx, []byte("svc"), 1337); err != nil {
		t.Fatal(err)
	}
	victimCancel()
	<-victimDone
	for round := 0; round < 3; round++ {
		for i, n := range nodes {
			start := time.Now()
			got, err := n.Lookup(ctx, []byte("svc"))
			d := time.Since(start)
			if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:1337")) {
				t.Fatalf("lookup on %d: %v %v", i, got, err)
			}
			// Waiting the dead entry out again would cost the whole
			// QueryTimeout (2 s); a quarter of it leaves room for a loaded
			// CI host (lookups of 100-180 ms were seen at load 12-15).
			if round > 0 && d > deadBootQueryTimeout/4 {
				t.Fatalf("round %d lookup on %d took %v: the dead bootstrap entry is waited for again", round, i, d)
			}
		}
	}
}
