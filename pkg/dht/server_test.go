package dht

import (
	"net/netip"
	"testing"
)

var nodeA = netip.MustParseAddrPort("127.0.0.1:20001")

// socketless returns a node whose handlePacket can be driven directly.
func socketless(t testing.TB) (*Node, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg := testConfig()
	cfg.Clock = clk
	n, err := newNode(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n, clk
}

func ask(t testing.TB, n *Node, from netip.AddrPort, m *msg) *msg {
	t.Helper()
	b, err := encodeMsg(m)
	if err != nil {
		t.Fatal(err)
	}
	out := n.handlePacket(b, from)
	if out == nil {
		return nil
	}
	r, err := decodeMsg(out)
	if err != nil {
		t.Fatalf("our reply does not decode: %v: %q", err, out)
	}
	return &r
}

func q(name, t string, a *args) *msg { return &msg{T: t, Y: "q", Q: name, A: a} }

const peerID = "\xcc\x66\x49\xf9\x55\x71\xaa\x0d\xee\xb6\xb2\xe4\xf6\xea\xbd\x24\x0f\x34\xa7\x72"

func wantErr(t *testing.T, r *msg, code int) {
	t.Helper()
	if r == nil || r.Y != "e" || parseError(r.E).Code != code {
		t.Fatalf("want error %d, got %+v", code, r)
	}
}

func TestServerNodePackets(t *testing.T) {
	n, _ := socketless(t)
	// Node's get_peers (B.2): token + nodes, t echoed; the querier is learned.
	out := n.handlePacket([]byte(b2GetPeersQ), nodeA)
	r, err := decodeMsg(out)
	if err != nil || r.Y != "r" || r.T != "\x00\x02" || r.R.ID != string(n.id[:]) {
		t.Fatalf("get_peers reply %+v %v", r, err)
	}
	if r.R.Token == nil || len(*r.R.Token) != 20 || r.R.Nodes == nil || r.R.Values != nil {
		t.Fatalf("token and nodes, no values: %+v", r.R)
	}
	if ns := decodeNodes(*r.R.Nodes); len(ns) != 1 || ns[0].Addr != nodeA {
		t.Fatalf("the querier itself is in nodes: %+v", ns)
	}
	// Node's announce_peer carries g2's token: ours rejects it with 203.
	out = n.handlePacket([]byte(b2AnnouncePeerQ), nodeA)
	r, _ = decodeMsg(out)
	wantErr(t, &r, 203)
	if parseError(r.E).Msg != "cannot `announce_peer` with bad token" {
		t.Fatal(parseError(r.E).Msg)
	}
}

func TestServerAnnounceAndGetPeers(t *testing.T) {
	n, _ := socketless(t)
	tok := *ask(t, n, nodeA, q("get_peers", "\x00\x01", &args{ID: peerID, InfoHash: strPtr("rpc_test")})).R.Token
	// Port from the args, IP from the UDP source.
	r := ask(t, n, nodeA, q("announce_peer", "xy", &args{ID: peerID, InfoHash: strPtr("rpc_test"), Port: i64Ptr(1337), ImpliedPort: i64Ptr(0), Token: &tok}))
	if r == nil || r.Y != "r" || r.T != "xy" {
		t.Fatalf("announce: %+v", r)
	}
	// implied_port: the UDP source port wins.
	r = ask(t, n, nodeA, q("announce_peer", "\x00\x03", &args{ID: peerID, InfoHash: strPtr("rpc_test"), Port: i64Ptr(1), ImpliedPort: i64Ptr(1), Token: &tok}))
	if r.Y != "r" {
		t.Fatalf("implied_port: %+v", r)
	}
	// The empty key is a key.
	r = ask(t, n, nodeA, q("announce_peer", "\x00\x04", &args{ID: peerID, InfoHash: strPtr(""), Port: i64Ptr(9), Token: &tok}))
	if r.Y != "r" {
		t.Fatalf("empty key: %+v", r)
	}
	r = ask(t, n, nodeA, q("get_peers", "\x00\x05", &args{ID: peerID, InfoHash: strPtr("rpc_test")}))
	if r.R.Token == nil || r.R.Nodes != nil || len(r.R.Values) != 2 {
		t.Fatalf("values and token, no nodes: %+v", r.R)
	}
	got := map[netip.AddrPort]bool{}
	for _, v := range r.R.Values {
		p, _ := decodePeer(v)
		got[p] = true
	}
	if !got[netip.MustParseAddrPort("127.0.0.1:1337")] || !got[nodeA] {
		t.Fatalf("stored peers: %v", got)
	}
	if r := ask(t, n, nodeA, q("get_peers", "\x00\x06", &args{ID: peerID, InfoHash: strPtr("")})); len(r.R.Values) != 1 {
		t.Fatal("empty key lookup")
	}
	// A token issued to another IP is refused.
	other := netip.MustParseAddrPort("10.1.1.1:5000")
	wantErr(t, ask(t, n, other, q("announce_peer", "\x00\x07", &args{ID: peerID, InfoHash: strPtr("x"), Port: i64Ptr(1), Token: &tok})), 203)
	// Invalid ports are refused (Node stays silent; we answer 203).
	for _, p := range []int64{0, -1, 65536} {
		wantErr(t, ask(t, n, nodeA, q("announce_peer", "\x00\x08", &args{ID: peerID, InfoHash: strPtr("x"), Port: i64Ptr(p), Token: &tok})), 203)
	}
	wantErr(t, ask(t, n, nodeA, q("announce_peer", "\x00\x09", &args{ID: peerID, InfoHash: strPtr("x"), Port: i64Ptr(1)})), 203)
	if s := n.Stats(); s.PeerKeys != 2 || s.Peers != 3 || s.QueriesRecv["announce_peer"] != 8 || s.ErrorsSent != 5 || s.RoutingNodes != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestServerErrorsAndUnknown(t *testing.T) {
	n, _ := socketless(t)
	r := ask(t, n, nodeA, q("vote", "z", &args{ID: peerID}))
	wantErr(t, r, 204)
	if r.T != "z" {
		t.Fatal("1-byte t echoed")
	}
	wantErr(t, ask(t, n, nodeA, &msg{T: "\x00\x01", Y: "q", Q: "ping"}), 203)
	wantErr(t, ask(t, n, nodeA, q("find_node", "\x00\x01", &args{ID: peerID})), 203)
	wantErr(t, ask(t, n, nodeA, q("get_peers", "\x00\x01", &args{ID: peerID})), 203)
	wantErr(t, ask(t, n, nodeA, q("get", "\x00\x01", &args{ID: peerID})), 203)
	wantErr(t, ask(t, n, nodeA, q("put", "\x00\x01", &args{ID: peerID})), 203)
	// Arguments of the wrong type still get an answer.
	out := n.handlePacket([]byte("d1:ad2:id20:aaaaaaaaaaaaaaaaaaaa9:info_hash0:4:port3:abc5:token1:xe1:q13:announce_peer1:t2:ab1:y1:qe"), nodeA)
	if m, err := decodeMsg(out); err != nil || m.Y != "e" || m.T != "ab" {
		t.Fatalf("malformed args: %q", out)
	}
	if r := ask(t, n, nodeA, q("ping", "\x00\x01", &args{ID: peerID})); r.Y != "r" || r.R.ID != string(n.id[:]) {
		t.Fatal("ping")
	}
	// A reply nobody waits for is a bad packet, not an answer.
	if out := n.handlePacket([]byte(b2AnnouncePeerR), nodeA); out != nil {
		t.Fatal("replies are never answered")
	}
	if s := n.Stats(); s.QueriesRecv["unknown"] != 1 || s.BadPackets != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestServerGetPut(t *testing.T) {
	n, _ := socketless(t)
	target := ImmutableTarget([]byte("hello world"))
	r := ask(t, n, nodeA, q("get", "\x00\x05", &args{ID: peerID, Target: strPtr(string(target[:]))}))
	if r.R.Token == nil || r.R.Nodes == nil || r.R.V != nil {
		t.Fatalf("get miss: %+v", r.R)
	}
	tok := *r.R.Token
	// Node's put (B.3) with our token.
	m, _ := decodeMsg([]byte(b3PutQ))
	m.A.Token = &tok
	if r := ask(t, n, nodeA, &m); r.Y != "r" {
		t.Fatalf("put: %+v", r)
	}
	r = ask(t, n, nodeA, q("get", "\x00\x07", &args{ID: peerID, Target: strPtr(string(target[:]))}))
	if string(r.R.V) != "11:hello world" || r.R.Token == nil || r.R.Nodes != nil || r.R.K != nil {
		t.Fatalf("get hit: %+v", r.R)
	}
	// Too large.
	big := make([]byte, 1001)
	wantErr(t, ask(t, n, nodeA, q("put", "\x00\x08", &args{ID: peerID, Token: &tok, V: bencodeString(big)})), 205)
	// Mutable: verified, seq rules, salt not echoed.
	priv := testKey(9)
	it := signed(priv, "mutable hello", 1, "mysalt")
	put := func(it Item) *msg {
		a := &args{ID: peerID, Token: &tok, V: bencodeString(it.V), K: strPtr(string(it.K[:])), Sig: strPtr(string(it.Sig[:])), Seq: i64Ptr(it.Seq), Salt: strPtr(string(it.Salt)), Cas: it.Cas}
		return ask(t, n, nodeA, q("put", "\x00\x09", a))
	}
	if r := put(it); r.Y != "r" {
		t.Fatalf("mutable put: %+v", r)
	}
	tgt := it.Target()
	r = ask(t, n, nodeA, q("get", "\x00\x0a", &args{ID: peerID, Target: strPtr(string(tgt[:]))}))
	if string(r.R.V) != "13:mutable hello" || *r.R.Seq != 1 || *r.R.K != string(it.K[:]) || *r.R.Sig != string(it.Sig[:]) {
		t.Fatalf("mutable get: %+v", r.R)
	}
	if got, ok := itemFromReply(r.R, tgt, []byte("mysalt")); !ok || string(got.V) != "mutable hello" {
		t.Fatal("reply verifies with the salt")
	}
	if _, ok := itemFromReply(r.R, tgt, nil); ok {
		t.Fatal("wrong salt must not verify")
	}
	wantErr(t, put(signed(priv, "older", 0, "mysalt")), 302)
	bad := signed(priv, "x", 5, "mysalt")
	bad.Seq = 6
	wantErr(t, put(bad), 206)
	cas := int64(3)
	c := signed(priv, "cas", 2, "mysalt")
	c.Cas = &cas
	wantErr(t, put(c), 301)
	// Bad token.
	wantErr(t, ask(t, n, nodeA, q("put", "\x00\x0b", &args{ID: peerID, Token: strPtr("nope"), V: []byte("1:x")})), 203)
}

func TestServerEchoAndLearning(t *testing.T) {
	n, _ := socketless(t)
	// t of any length, zero bytes included, is echoed byte for byte.
	for _, tid := range []string{"\x00", "\x00\x00\x00\x00", "abcdefgh"} {
		if r := ask(t, n, nodeA, q("ping", tid, &args{ID: peerID})); r.T != tid {
			t.Fatalf("t %q echoed as %q", tid, r.T)
		}
	}
	// Only senders with a 20-byte id are learned; they are still answered.
	other := netip.MustParseAddrPort("127.0.0.9:9")
	if r := ask(t, n, other, q("ping", "x", &args{ID: "short"})); r.Y != "r" {
		t.Fatal("short id answered")
	}
	if s := n.Stats(); s.RoutingNodes != 1 {
		t.Fatalf("routing nodes %d", s.RoutingNodes)
	}
	// find_node returns the K closest from the table, compact, querier included.
	r := ask(t, n, other, q("find_node", "y", &args{ID: "\x01" + peerID[1:], Target: strPtr(peerID)}))
	ns := decodeNodes(*r.R.Nodes)
	if len(ns) != 2 || string(ns[0].ID[:]) != peerID || ns[0].Addr != nodeA {
		t.Fatalf("find_node: %+v", ns)
	}
	// Our own id is never learned.
	ask(t, n, other, q("ping", "z", &args{ID: string(n.id[:])}))
	if s := n.Stats(); s.RoutingNodes != 2 {
		t.Fatalf("routing nodes %d", s.RoutingNodes)
	}
}
