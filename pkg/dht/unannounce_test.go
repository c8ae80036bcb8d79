package dht

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

func TestPeerStoreRemovePeer(t *testing.T) {
	clk := newFakeClock()
	s := newPeerStore(time.Minute, 100, 1<<20, clk.Now())
	a := netip.MustParseAddrPort("10.0.0.1:5000")
	b := netip.MustParseAddrPort("10.0.0.1:5001")
	s.add([]byte("k"), a, a.Addr(), clk.Now())
	clk.Advance(41 * time.Second) // a moves to the old generation
	s.add([]byte("k"), b, b.Addr(), clk.Now())
	if !s.removePeer([]byte("k"), a, clk.Now()) {
		t.Fatal("old-generation entry not removed")
	}
	if s.removePeer([]byte("k"), a, clk.Now()) {
		t.Fatal("removed twice")
	}
	if got := s.get([]byte("k"), 10, clk.Now()); len(got) != 1 || got[0] != b {
		t.Fatalf("left %v, want [%v]", got, b)
	}
	if keys, peers := s.counts(clk.Now()); keys != 1 || peers != 1 || s.bytes != len("k")+peerEntryOverhead {
		t.Fatalf("counts %d/%d bytes %d after removal", keys, peers, s.bytes)
	}
	// The removed entry's slot in its source's queue is skipped, not evicted twice.
	if s.evictOldestOf(a.Addr()) == false {
		t.Fatal("b (same source) should be evictable")
	}
}

// rawNode is a UDP socket speaking KRPC by hand: a hostile or foreign node.
type rawNode struct {
	t    *testing.T
	conn *net.UDPConn
}

func newRawNode(t *testing.T, ip string) *rawNode {
	c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(ip+":0")))
	if err != nil {
		t.Skipf("cannot bind %s: %v", ip, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawNode{t: t, conn: c}
}

func (r *rawNode) ask(to netip.AddrPort, m *msg) *msg {
	r.t.Helper()
	b, err := encodeMsg(m)
	if err != nil {
		r.t.Fatal(err)
	}
	if _, err := r.conn.WriteToUDPAddrPort(b, to); err != nil {
		r.t.Fatal(err)
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 65536)
	n, _, err := r.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		r.t.Fatalf("%s: %v", m.Q, err)
	}
	out, err := decodeMsg(buf[:n])
	if err != nil {
		r.t.Fatal(err)
	}
	return &out
}

// token gets a get_peers token for this socket's IP (a 1-byte id keeps
// the socket out of the node's routing table).
func (r *rawNode) token(to netip.AddrPort, key string) string {
	rep := r.ask(to, &msg{T: "aa", Y: "q", Q: "get_peers", A: &args{ID: "x", InfoHash: strPtr(key)}})
	if rep.R == nil || rep.R.Token == nil {
		r.t.Fatalf("no token: %+v", rep)
	}
	return *rep.R.Token
}

func (r *rawNode) unannounce(to netip.AddrPort, key string, port int64, tok string) *msg {
	return r.ask(to, &msg{T: "bb", Y: "q", Q: queryUnannounce,
		A: &args{ID: "x", InfoHash: strPtr(key), Port: i64Ptr(port), Token: strPtr(tok)}})
}

// TestUnannounceTokenAndSource: a holder drops an announcement only for
// unannounce_peer from the announcer's IP with a token issued to that IP;
// a hostile node on 127.0.0.2 can neither use a stolen token nor remove a
// record of 127.0.0.1 with its own; the announcer's Unannounce removes it.
func TestUnannounceTokenAndSource(t *testing.T) {
	var gone atomic.Int32
	cfg := testConfig()
	cfg.OnPeerGone = func(key string, peer netip.AddrPort, stored bool) {
		if key == "svc" && stored && peer.Port() == 5000 {
			gone.Add(1)
		}
	}
	holder := startNode(t, cfg)
	waitReady(t, holder)
	announcer := startNode(t, testConfig(holder.Addr().String()))
	waitReady(t, announcer)
	ctx := context.Background()
	if n, err := announcer.Announce(ctx, []byte("svc"), 5000); err != nil || n != 1 {
		t.Fatalf("announce: %d, %v", n, err)
	}
	holds := func() bool {
		holder.mu.Lock()
		defer holder.mu.Unlock()
		return len(holder.peers.get([]byte("svc"), 10, holder.cfg.Clock.Now())) == 1
	}
	if !holds() {
		t.Fatal("holder does not hold the announcement")
	}
	h := holder.Addr()
	local := newRawNode(t, "127.0.0.1")
	hostile := newRawNode(t, "127.0.0.2")
	stolen := local.token(h, "svc")

	if r := hostile.unannounce(h, "svc", 5000, stolen); r.Y != "e" {
		t.Fatalf("stolen token from 127.0.0.2 accepted: %+v", r)
	}
	if r := local.unannounce(h, "svc", 5000, "not a token"); r.Y != "e" {
		t.Fatalf("bad token accepted: %+v", r)
	}
	// Its own token is valid, but only for 127.0.0.2's records.
	if r := hostile.unannounce(h, "svc", 5000, hostile.token(h, "svc")); r.Y != "r" {
		t.Fatalf("valid unannounce_peer not acked: %+v", r)
	}
	if !holds() || gone.Load() != 0 {
		t.Fatal("a hostile node removed another IP's announcement")
	}
	if r := local.unannounce(h, "svc", 0, stolen); r.Y != "e" {
		t.Fatalf("port 0 accepted: %+v", r)
	}

	if n, err := announcer.Unannounce(ctx, []byte("svc"), 5000); err != nil || n != 1 {
		t.Fatalf("unannounce: %d, %v", n, err)
	}
	if holds() {
		t.Fatal("announcement still held after Unannounce")
	}
	if gone.Load() != 1 {
		t.Fatalf("OnPeerGone called %d times with stored, want 1", gone.Load())
	}
	if got := holder.Stats().QueriesRecv[queryUnannounce]; got < 4 {
		t.Fatalf("unannounce_peer counted %d times, want >= 4", got)
	}
}

// TestUnannounceSilentNodeNotEvicted: a node that answers get_peers but is
// silent on unannounce_peer (what a Node grape does) stays in the routing
// table and is not suspected; the round ends within QueryTimeout.
func TestUnannounceSilentNodeNotEvicted(t *testing.T) {
	silent := newRawNode(t, "127.0.0.1")
	cfg := testConfig()
	n := startNode(t, cfg)
	var id NodeID
	id[0] = 0x42
	sa := silent.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	n.learn(contact{ID: id, Addr: sa})
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // answer every query but unannounce_peer, with a token
		defer close(done)
		buf := make([]byte, 65536)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = silent.conn.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			k, from, err := silent.conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				continue
			}
			m, err := decodeMsg(buf[:k])
			if err != nil || m.Y != "q" || m.Q == queryUnannounce {
				continue
			}
			b, _ := encodeMsg(&msg{T: m.T, Y: "r", R: &reply{ID: string(id[:]), Token: strPtr("tok"), Nodes: strPtr("")}})
			_, _ = silent.conn.WriteToUDPAddrPort(b, from)
		}
	}()
	defer func() { close(stop); <-done }()
	start := time.Now()
	got, err := n.Unannounce(context.Background(), []byte("svc"), 5000)
	if err != nil || got != 0 {
		t.Fatalf("Unannounce = %d, %v; want 0 acks, no error", got, err)
	}
	if took := time.Since(start); took > cfg.QueryTimeout+2*time.Second {
		t.Fatalf("round took %v", took)
	}
	time.Sleep(cfg.QueryTimeout + 100*time.Millisecond) // any late straggler query ends too
	n.mu.Lock()
	_, inTable := n.rt.idAt(sa)
	_, suspected := n.suspects[sa]
	n.mu.Unlock()
	if !inTable || suspected {
		t.Fatalf("silent node: in table %v, suspected %v; want kept and unsuspected", inTable, suspected)
	}
}
