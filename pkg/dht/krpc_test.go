package dht

import (
	"bytes"
	"net/netip"
	"testing"
)

// Every packet two Node grapes exchanged must decode and re-encode to the
// same bytes: same key order, no extra keys (v, ro, ip), t echoed as is.
func TestKRPCRoundTripNodePackets(t *testing.T) {
	for name, raw := range map[string]string{
		"find_node q": b2FindNodeQ, "get_peers q": b2GetPeersQ, "get_peers r": b2GetPeersR,
		"announce_peer q": b2AnnouncePeerQ, "announce_peer r": b2AnnouncePeerR,
		"get_peers r values": b2GetPeersRValues, "put q": b3PutQ,
	} {
		m, err := decodeMsg([]byte(raw))
		if err != nil {
			t.Fatalf("%s: decode: %v", name, err)
		}
		out, err := encodeMsg(&m)
		if err != nil {
			t.Fatalf("%s: encode: %v", name, err)
		}
		if !bytes.Equal(out, []byte(raw)) {
			t.Errorf("%s: re-encoded differs\n got %q\nwant %q", name, out, raw)
		}
	}
}

func TestKRPCDecodeFields(t *testing.T) {
	m, err := decodeMsg([]byte(b2AnnouncePeerQ))
	if err != nil {
		t.Fatal(err)
	}
	if m.Y != "q" || m.Q != "announce_peer" || m.T != "\x00\x03" || *m.A.InfoHash != "rpc_test" ||
		*m.A.Port != 1337 || *m.A.ImpliedPort != 0 || len(*m.A.Token) != 20 || len(m.A.ID) != 20 {
		t.Fatalf("fields: %+v %+v", m, m.A)
	}
	m, err = decodeMsg([]byte(b2GetPeersRValues))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := decodePeer(m.R.Values[0])
	if !ok || p != netip.MustParseAddrPort("127.0.0.1:1337") {
		t.Fatalf("values: %v", m.R.Values)
	}
	m, err = decodeMsg([]byte(b2GetPeersR))
	if err != nil {
		t.Fatal(err)
	}
	ns := decodeNodes(*m.R.Nodes)
	if len(ns) != 1 || ns[0].Addr != netip.MustParseAddrPort("127.0.0.1:20001") || ns[0].ID.String() != "cc6649f95571aa0deeb6b2e4f6eabd240f34a772" {
		t.Fatalf("nodes: %+v", ns)
	}
	if encodeNodes(ns) != *m.R.Nodes {
		t.Fatal("nodes re-encode differs")
	}
}

func TestTIDs(t *testing.T) {
	if tidBytes(1) != "\x00\x01" || tidBytes(0x1234) != "\x12\x34" {
		t.Fatal("tid encoding is 2-byte big endian")
	}
	for _, bad := range []string{"", "\x00", "\x00\x00", "\x00\x01\x02"} {
		if _, ok := parseTID(bad); ok {
			t.Errorf("parseTID(%q) accepted", bad)
		}
	}
	if id, ok := parseTID("\x01\x00"); !ok || id != 256 {
		t.Fatal("parseTID")
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, b := range []string{"", "x", "le", "i1e", "d1:t", "d1:y1:qe" + "x", "d1:ad2:id99999999999:xe1:y1:qe"} {
		if _, err := decodeMsg([]byte(b)); err == nil {
			t.Errorf("decodeMsg(%q) accepted", b)
		}
	}
}

func TestBencodeString(t *testing.T) {
	if string(bencodeString([]byte("hello world"))) != "11:hello world" {
		t.Fatal()
	}
	if v, ok := unbencodeString([]byte("0:")); !ok || len(v) != 0 {
		t.Fatal("empty string")
	}
	if _, ok := unbencodeString([]byte("i3e")); ok {
		t.Fatal("int is not a string")
	}
}
