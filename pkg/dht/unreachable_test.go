package dht

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// ICMP matching is pure logic: a quoted query fails only its own
// transaction; a quote cut short fails every query pending to that port.
func TestFailUnreachableMatchesTransaction(t *testing.T) {
	n, err := newNode(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	dead := netip.MustParseAddrPort("127.0.0.9:4000")
	other := netip.MustParseAddrPort("127.0.0.9:4001")
	add := func(tid uint16, to netip.AddrPort) *pending {
		p := &pending{to: contact{Addr: to}, ch: make(chan *msg, 1)}
		n.pending[tid] = p
		return p
	}
	p1, p2, p3 := add(1, dead), add(2, dead), add(3, other)
	failed := func(p *pending) bool {
		select {
		case m := <-p.ch:
			return m == unreachableMsg
		default:
			return false
		}
	}
	q, _ := encodeMsg(&msg{T: tidBytes(2), Y: "q", Q: "ping", A: &args{ID: string(n.id[:])}})
	n.failUnreachable(unreachable{to: dead, payload: q})
	if failed(p1) || !failed(p2) || failed(p3) || len(n.pending) != 2 {
		t.Fatalf("whole quote: want only tid 2 failed, pending %v", n.pending)
	}
	n.failUnreachable(unreachable{to: dead, payload: q[:10]})
	if !failed(p1) || failed(p3) || len(n.pending) != 1 {
		t.Fatalf("cut quote: want every query to %v failed, pending %v", dead, n.pending)
	}
}

// startTrio starts three connected nodes with the given QueryTimeout; the
// third runs under its own context so the test can kill it.
func startTrio(t *testing.T, qt time.Duration) (a, b, c *Node, kill func()) {
	t.Helper()
	ca := testConfig()
	ca.QueryTimeout = qt
	a = startNode(t, ca)
	cb := testConfig(a.Addr().String())
	cb.QueryTimeout = qt
	b = startNode(t, cb)
	c, err := New(cb)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; _ = c.Close() })
	waitReady(t, b)
	waitReady(t, c)
	waitFor(t, 5*time.Second, func() bool { return a.Stats().RoutingNodes == 2 && b.Stats().RoutingNodes == 2 })
	return a, b, c, func() { cancel(); <-done; _ = c.Close() }
}

// A grape process dies on a host that is still up (loopback answers ICMP
// port unreachable for the closed port): the survivors' next lookup of a
// name nobody announced must not wait the dead node's QueryTimeout. Before
// ICMP errors were read it took one (Node) or two (the old retry) of them.
func TestKilledNodeFailsAtOnceByICMP(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors are read on Linux only; elsewhere a dead port costs one QueryTimeout")
	}
	const qt = 2 * time.Second
	a, b, _, kill := startTrio(t, qt)
	kill()
	for _, n := range []*Node{a, b} {
		start := time.Now()
		got, err := n.Lookup(context.Background(), []byte("nobody announced this"))
		d := time.Since(start)
		if err != nil || len(got) != 0 {
			t.Fatalf("lookup: %v %v", got, err)
		}
		// Expected: a few ms. A quarter of the timeout leaves room for a
		// loaded host and still fails whenever the timeout was waited.
		if d > qt/4 {
			t.Fatalf("lookup on %v took %v after the kill, want under %v (QueryTimeout %v)", n.Addr(), d, qt/4, qt)
		}
		if s := n.Stats(); s.Unreachable == 0 || s.QueryTimeouts != 0 {
			t.Fatalf("want the dead node failed by ICMP, not a timeout: %+v", s)
		}
		t.Logf("lookup on a survivor after the kill: %v", d)
	}
}

// silentPeer is a real UDP socket on a host that is gone: it reads every
// datagram and never answers (no ICMP either). It counts what it read.
func silentPeer(t *testing.T) (netip.AddrPort, <-chan struct{}) {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{}, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			if _, _, err := pc.ReadFromUDP(buf); err != nil {
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { pc.Close(); <-done })
	return pc.LocalAddr().(*net.UDPAddr).AddrPort(), got
}

// A node whose host is gone (nothing answers, not even ICMP) costs a walk
// that finds nothing one QueryTimeout, as on a Node grape, not two: the
// walk used to ask it again after its first timeout (4.0 s vs Node's 2.2 s
// measured across network namespaces).
func TestSilentNodeCostsOneQueryTimeout(t *testing.T) {
	const qt = 400 * time.Millisecond
	a, b, _, _ := startTrio(t, qt)
	_ = b
	silent, got := silentPeer(t)
	id := a.ID()
	id[0] ^= 0xff
	a.mu.Lock()
	a.rt.observe(contact{ID: id, Addr: silent}, a.cfg.Clock.Now())
	a.mu.Unlock()
	start := time.Now()
	res, err := a.Lookup(context.Background(), []byte("nobody announced this"))
	d := time.Since(start)
	if err != nil || len(res) != 0 {
		t.Fatalf("lookup: %v %v", res, err)
	}
	// At least the timeout (the silent node may hold the name, so a walk
	// that found nothing waits for it), and well under two of them.
	if d < qt || d > qt*3/2 {
		t.Fatalf("lookup took %v, want one QueryTimeout (%v) and less than 1.5 of them", d, qt)
	}
	asked := 0
	for len(got) > 0 {
		<-got
		asked++
	}
	if asked != 1 {
		t.Fatalf("the silent node was asked %d times, want once", asked)
	}
	t.Logf("lookup with a silent node: %v (QueryTimeout %v)", d, qt)
}

// A query's timeout gets its second chance only while our read path is
// behind: a reply queued in our own socket is then still taken.
func TestTimeoutSecondChanceOnlyWhenBehind(t *testing.T) {
	cfg := testConfig()
	cfg.QueryTimeout = 200 * time.Millisecond
	x := startNode(t, cfg)
	peer := rawPeer(t, "127.0.0.1")
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	// Healthy: one timeout, one datagram.
	start := time.Now()
	if _, err := x.query(context.Background(), contact{Addr: to}, "ping", &args{}); !errors.Is(err, errTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	if d := time.Since(start); d > 2*cfg.QueryTimeout-cfg.QueryTimeout/4 {
		t.Fatalf("a healthy timeout took %v, want one QueryTimeout (%v)", d, cfg.QueryTimeout)
	}
	readMsg(t, peer)
	_ = peer.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := peer.ReadFromUDP(make([]byte, 2048)); err == nil {
		t.Fatal("a healthy timeout must not send the query again")
	}
	// Behind: the read loop is (made to look) busy with a datagram when the
	// timer fires, so the query is sent again, and its reply is taken.
	x.inPacket.Store(true)
	defer x.inPacket.Store(false)
	ch := make(chan error, 1)
	go func() {
		_, err := x.query(context.Background(), contact{Addr: to}, "ping", &args{})
		ch <- err
	}()
	_, m1, _ := readMsg(t, peer)
	_, m2, from := readMsg(t, peer) // the second send, after one timeout
	if m1.T != m2.T {
		t.Fatalf("the second send must reuse the transaction id: %q %q", m1.T, m2.T)
	}
	var zid NodeID
	zid[0] = 0x42
	rep, _ := encodeMsg(&msg{T: m2.T, Y: "r", R: &reply{ID: string(zid[:])}})
	if _, err := peer.WriteToUDP(rep, from); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatalf("the reply after the second send must count: %v", err)
	}
}

// With IP_RECVERR the kernel also hands an ICMP error to the next sendto
// on the socket, whatever its destination, and drops that datagram: send
// must drain the error (failing the query it concerns) and send again.
// No read loop runs here, so the send is the one that meets the error.
func TestSendSurvivesPendingICMPError(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors are read on Linux only")
	}
	n, err := newNode(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	n.conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.conn.Close()
	if err := enableUnreachable(n.conn); err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(freeUDPAddr(t))
	p := &pending{to: contact{Addr: closed}, ch: make(chan *msg, 1)}
	n.pending[7] = p
	q, _ := encodeMsg(&msg{T: tidBytes(7), Y: "q", Q: "ping", A: &args{ID: string(n.id[:])}})
	if err := n.send(q, closed); err != nil {
		t.Fatal(err)
	}
	peer := rawPeer(t, "127.0.0.1")
	to := peer.LocalAddr().(*net.UDPAddr).AddrPort()
	time.Sleep(20 * time.Millisecond) // the ICMP error is queued by now (loopback)
	if err := n.send([]byte("d1:y1:qe"), to); err != nil {
		t.Fatalf("send after an ICMP error for another destination: %v", err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, _, err := peer.ReadFromUDP(make([]byte, 64)); err != nil {
		t.Fatalf("the datagram was lost: %v", err)
	}
	select {
	case m := <-p.ch:
		if m != unreachableMsg {
			t.Fatalf("got %v", m)
		}
	default:
		t.Fatal("the query to the closed port was not failed")
	}
}
