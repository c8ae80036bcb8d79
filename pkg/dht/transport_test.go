package dht

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// rawPeer is a hand-driven UDP endpoint for checking what we send and how
// we treat replies.
func rawPeer(t *testing.T, ip string) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func readMsg(t *testing.T, c *net.UDPConn) ([]byte, msg, *net.UDPAddr) {
	t.Helper()
	buf := make([]byte, 65536)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeMsg(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return buf[:n], m, from
}

func TestQueryWireAndReplyChecks(t *testing.T) {
	x := startNode(t, testConfig())
	peer := rawPeer(t, "127.0.0.2")
	other := rawPeer(t, "127.0.0.1")    // another IP
	samePort := rawPeer(t, "127.0.0.2") // same IP, another port
	pa := peer.LocalAddr().(*net.UDPAddr).AddrPort()

	type out struct {
		res result
		err error
	}
	ask := func(c contact) chan out {
		ch := make(chan out, 1)
		go func() {
			r, err := x.query(context.Background(), c, "ping", &args{})
			ch <- out{r, err}
		}()
		return ch
	}
	ch := ask(contact{Addr: pa})
	raw, m, from := readMsg(t, peer)
	// Sorted keys, no v/ro/ip, 2-byte non-zero t, our id.
	if !bytes.HasPrefix(raw, []byte("d1:ad2:id20:")) || !bytes.HasSuffix(raw, []byte("e1:q4:ping1:t2:"+m.T+"1:y1:qe")) {
		t.Fatalf("query bytes %q", raw)
	}
	if len(m.T) != 2 || m.T == "\x00\x00" || m.A.ID != string(x.id[:]) {
		t.Fatalf("query %+v", m)
	}
	var zid NodeID
	zid[0] = 0x77
	rep, _ := encodeMsg(&msg{T: m.T, Y: "r", R: &reply{ID: string(zid[:])}})
	// From another IP: ignored, counted as a bad packet.
	if _, err := other.WriteToUDP(rep, from); err != nil {
		t.Fatal(err)
	}
	// Unknown t: ignored.
	bad, _ := encodeMsg(&msg{T: "zz", Y: "r", R: &reply{ID: string(zid[:])}})
	_, _ = peer.WriteToUDP(bad, from)
	time.Sleep(50 * time.Millisecond)
	select {
	case o := <-ch:
		t.Fatalf("reply from another IP accepted: %+v", o)
	default:
	}
	// Same IP, other port: accepted (Node does not check the port either).
	if _, err := samePort.WriteToUDP(rep, from); err != nil {
		t.Fatal(err)
	}
	o := <-ch
	if o.err != nil || o.res.from.ID != zid {
		t.Fatalf("reply: %+v", o)
	}
	if s := x.Stats(); s.BadPackets != 2 || s.QueriesSent["ping"] != 1 {
		t.Fatalf("stats %+v", s)
	}
	// Now zid is known at pa: a reply carrying another id is refused and
	// the node dropped, as Node does.
	ch = ask(contact{ID: zid, Addr: pa})
	_, m, from = readMsg(t, peer)
	var wrong NodeID
	wrong[0] = 0x78
	rep, _ = encodeMsg(&msg{T: m.T, Y: "r", R: &reply{ID: string(wrong[:])}})
	_, _ = peer.WriteToUDP(rep, from)
	if o := <-ch; !errors.Is(o.err, errUnexpectedNode) {
		t.Fatalf("wrong id: %+v", o)
	}
	x.mu.Lock()
	_, known := x.rt.idAt(pa)
	x.mu.Unlock()
	if known {
		t.Fatal("node with a changed id must be dropped")
	}
	// A KRPC error reply surfaces as *Error.
	ch = ask(contact{Addr: pa})
	_, m, from = readMsg(t, peer)
	rep, _ = encodeMsg(&msg{T: m.T, Y: "e", E: krpcError(302, "sequence number less than current")})
	_, _ = peer.WriteToUDP(rep, from)
	var ke *Error
	if o := <-ch; !errors.As(o.err, &ke) || ke.Code != 302 || !strings.Contains(ke.Error(), "sequence") {
		t.Fatalf("error reply: %+v", o)
	}
}

// A hostile reply with a huge nodes list cannot grow a walk beyond its bounds.
func TestWalkBoundsHostileNodes(t *testing.T) {
	peer := rawPeer(t, "127.0.0.2")
	cfg := testConfig(peer.LocalAddr().String())
	x := startNode(t, cfg)
	// Answer the bootstrap find_node with 2000 made-up nodes.
	_, m, from := readMsg(t, peer)
	var cs []contact
	for i := 0; i < 2000; i++ {
		var id NodeID
		id[0], id[1] = byte(i>>8), byte(i)
		cs = append(cs, contact{ID: id, Addr: addrN(i)})
	}
	var pid NodeID
	pid[5] = 1
	rep, _ := encodeMsg(&msg{T: m.T, Y: "r", R: &reply{ID: string(pid[:]), Nodes: strPtr(encodeNodes(cs))}})
	_, _ = peer.WriteToUDP(rep, from)
	waitReady(t, x)
	// The walk asked at most K + Concurrency of the listed nodes, none of
	// which answer; they time out in the background.
	if s := x.Stats(); s.QueriesSent["find_node"] > 1+maxNodesPerRep {
		t.Fatalf("walk asked %d nodes", s.QueriesSent["find_node"])
	}
}

// Our announce and put are byte-compatible with Node's (Appendix B.2/B.3):
// the same keys in the same order, implied_port 0, the raw name as
// info_hash, v as a byte string.
func TestAnnounceAndPutBytesMatchNode(t *testing.T) {
	peer := rawPeer(t, "127.0.0.2")
	x := startNode(t, testConfig(peer.LocalAddr().String()))
	var pid NodeID
	copy(pid[:], "\x26\x99\x18\xf6\xe8\x7b\x29\x3b\xfd\xda\xb1\x84\x44\x9a\x4c\xea\x51\xb6\xb4\xa4")
	tok := "\xa5\xf6\xca\x4a\x38\xa5\x21\xd3\xb8\x1f\x68\x5b\x97\x6e\x95\x28\x8f\x08\x16\x99"
	answer := func(m msg, from *net.UDPAddr, r *reply) {
		r.ID = string(pid[:])
		b, _ := encodeMsg(&msg{T: m.T, Y: "r", R: r})
		_, _ = peer.WriteToUDP(b, from)
	}
	_, m, from := readMsg(t, peer) // the join walk
	answer(m, from, &reply{Nodes: strPtr("")})
	waitReady(t, x)

	acked := make(chan int, 1)
	go func() { n, _ := x.Announce(context.Background(), []byte("rpc_test"), 1337); acked <- n }()
	raw, m, from := readMsg(t, peer)
	want := strings.NewReplacer("\x00\x02", m.T, "\xccfI\xf9Uq\xaa\x0d\xee\xb6\xb2\xe4\xf6\xea\xbd$\x0f4\xa7r", string(x.id[:])).Replace(b2GetPeersQ)
	if string(raw) != want {
		t.Fatalf("get_peers\n got %q\nwant %q", raw, want)
	}
	answer(m, from, &reply{Token: &tok, Nodes: strPtr("")})
	raw, m, from = readMsg(t, peer)
	want = strings.NewReplacer("\x00\x03", m.T, "\xccfI\xf9Uq\xaa\x0d\xee\xb6\xb2\xe4\xf6\xea\xbd$\x0f4\xa7r", string(x.id[:])).Replace(b2AnnouncePeerQ)
	if string(raw) != want {
		t.Fatalf("announce_peer\n got %q\nwant %q", raw, want)
	}
	answer(m, from, &reply{})
	if n := <-acked; n != 1 {
		t.Fatalf("acked %d", n)
	}

	put := make(chan error, 1)
	go func() { _, err := x.Put(context.Background(), Item{V: []byte("hello world")}); put <- err }()
	_, m, from = readMsg(t, peer) // get for the target
	tg := ImmutableTarget([]byte("hello world"))
	if m.Q != "get" || m.A.Target == nil || *m.A.Target != string(tg[:]) {
		t.Fatalf("get: %+v", m)
	}
	answer(m, from, &reply{Token: &tok, Nodes: strPtr("")})
	raw, m, from = readMsg(t, peer)
	want = strings.NewReplacer("\x00\x06", m.T, "\xccfI\xf9Uq\xaa\x0d\xee\xb6\xb2\xe4\xf6\xea\xbd$\x0f4\xa7r", string(x.id[:])).Replace(b3PutQ)
	if string(raw) != want {
		t.Fatalf("put\n got %q\nwant %q", raw, want)
	}
	answer(m, from, &reply{})
	if err := <-put; err != nil {
		t.Fatal(err)
	}
}
