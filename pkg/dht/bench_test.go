package dht

import (
	"fmt"
	"net/netip"
	"testing"
)

// benchNode is a socketless node with a populated routing table (200
// contacts) and 10 peers stored under "stored".
func benchNode(b *testing.B) (*Node, string) {
	n, _ := socketless(b)
	n.mu.Lock()
	for i := 0; i < 200; i++ {
		var id NodeID
		copy(id[:], fmt.Sprintf("node-%015d", i))
		id[0] = byte(i * 37)
		n.rt.observe(contact{ID: id, Addr: addrN(i)}, n.cfg.Clock.Now())
	}
	for i := 0; i < 10; i++ {
		n.peers.add([]byte("stored"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(2000+i)), n.cfg.Clock.Now())
	}
	n.mu.Unlock()
	tok := *ask(b, n, nodeA, q("get_peers", "\x00\x01", &args{ID: peerID, InfoHash: strPtr("x")})).R.Token
	return n, tok
}

// BenchmarkHandleGetPeers measures the server hot path: decode a Node
// get_peers packet, compute the token, pick the K closest nodes, encode.
func BenchmarkHandleGetPeers(b *testing.B) {
	for _, tc := range []struct{ name, key string }{{"nodes", "rpc_test"}, {"values", "stored"}} {
		b.Run(tc.name, func(b *testing.B) {
			n, _ := benchNode(b)
			pkt, _ := encodeMsg(q("get_peers", "\x00\x02", &args{ID: peerID, InfoHash: strPtr(tc.key)}))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if n.handlePacket(pkt, nodeA) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}

// BenchmarkHandleAnnouncePeer measures token check + store of an announce.
func BenchmarkHandleAnnouncePeer(b *testing.B) {
	n, tok := benchNode(b)
	pkt, _ := encodeMsg(q("announce_peer", "\x00\x03", &args{ID: peerID, InfoHash: strPtr("rpc_test"), Port: i64Ptr(1337), ImpliedPort: i64Ptr(0), Token: &tok}))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n.handlePacket(pkt, nodeA) == nil {
			b.Fatal("no reply")
		}
	}
}
