package dht

import (
	"net/netip"
	"testing"
)

// FuzzDecodeKRPC feeds arbitrary datagrams to the decoder and the full
// server-side handler: nothing may panic, and whatever we send back must be
// a well-formed KRPC message echoing the query's t. The seed corpus in
// testdata/fuzz holds the Node grape packets of protocol Appendix B.2/B.3.
func FuzzDecodeKRPC(f *testing.F) {
	for _, s := range []string{b2FindNodeQ, b2GetPeersQ, b2GetPeersR, b2AnnouncePeerQ, b2AnnouncePeerR, b2GetPeersRValues, b3PutQ} {
		f.Add([]byte(s))
	}
	// Small stores keep each execution cheap however much state the
	// fuzzer piles up in this one node.
	cfg := testConfig()
	cfg.Clock = newFakeClock()
	cfg.MaxPeers, cfg.MaxValues = 64, 64
	n, err := newNode(cfg)
	if err != nil {
		f.Fatal(err)
	}
	from := netip.MustParseAddrPort("127.0.0.1:20002")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMsg(b)
		if err == nil && m.R != nil {
			if m.R.Nodes != nil {
				_ = decodeNodes(*m.R.Nodes)
			}
			for _, v := range m.R.Values {
				_, _ = decodePeer(v)
			}
			_, _ = itemFromReply(m.R, Target{}, nil)
		}
		if err == nil && m.E != nil {
			_ = parseError(m.E)
		}
		out := n.handlePacket(b, from)
		if out == nil {
			return
		}
		r, err := decodeMsg(out)
		if err != nil {
			t.Fatalf("our reply does not decode: %v: %q", err, out)
		}
		if r.Y != "r" && r.Y != "e" {
			t.Fatalf("reply y=%q", r.Y)
		}
	})
}
