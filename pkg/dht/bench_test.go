package dht

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/anacrolix/torrent/bencode"
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
		n.peers.add([]byte("stored"), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(2000+i)), srcA, n.cfg.Clock.Now())
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

// getPeersReplies are the two get_peers reply shapes a walk receives: K
// compact nodes with a token, or 100 peers with a token.
func getPeersReplies() map[string]*msg {
	ms := fastCaseMsgs()
	return map[string]*msg{"nodes": ms["get_peers reply nodes"], "values100": ms["get_peers reply values100"]}
}

// BenchmarkEncodeGetPeersReply compares the hand-written encoder (fast)
// with the reflection-based library it replaced.
func BenchmarkEncodeGetPeersReply(b *testing.B) {
	ms := getPeersReplies()
	for _, name := range []string{"nodes", "values100"} {
		m := ms[name]
		for _, c := range []struct {
			impl string
			enc  func(*msg) ([]byte, error)
		}{{"fast", encodeMsg}, {"library", func(m *msg) ([]byte, error) { return bencode.Marshal(m) }}} {
			b.Run(name+"/"+c.impl, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.enc(m); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkDecodeGetPeersReply compares the hand-written decoder (fast)
// with the library's reflection path (the fallback).
func BenchmarkDecodeGetPeersReply(b *testing.B) {
	ms := getPeersReplies()
	for _, name := range []string{"nodes", "values100"} {
		pkt := bencode.MustMarshal(ms[name])
		b.Run(name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := decodeMsgFast(pkt); !ok {
					b.Fatal("refused")
				}
			}
		})
		b.Run(name+"/library", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := libDecode(pkt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeerStoreFloodAdd measures one add to a full store (10000
// entries) from a source flooding unique names: the eviction of the
// flooder's oldest entry plus the insert, with an honest source holding 10.
func BenchmarkPeerStoreFloodAdd(b *testing.B) {
	clk := newFakeClock()
	s := newPeerStore(120e9, 10000, 32<<20, clk.Now())
	for i := 0; i < 10; i++ {
		s.add([]byte("svc"), netip.AddrPortFrom(srcA, uint16(1000+i)), srcA, clk.Now())
	}
	flood := netip.AddrPortFrom(srcB, 5000)
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "flood-%020d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s.add(keys[i&(len(keys)-1)], flood, srcB, clk.Now())
		i++
	}
	if len(s.get([]byte("svc"), 100, clk.Now())) != 10 {
		b.Fatal("the flood evicted the honest source")
	}
}
