package interop

import (
	"bytes"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
)

// goStoreHolds asks a Go grape's DHT node with a raw get_peers whether its
// peer store still holds name. The 1-byte id keeps the probe out of the
// node's routing table.
func goStoreHolds(t *testing.T, addr, name string) bool {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := fmt.Sprintf("d1:ad2:id1:x9:info_hash%d:%se1:q9:get_peers1:t2:pp1:y1:qe", len(name), name)
	if _, err := c.Write([]byte(q)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("probe of %s: %v", addr, err)
	}
	return bytes.Contains(buf[:n], []byte("6:values"))
}

// TestLookupKeepsLivePeerWithNode is grenache-grape's "should not cache
// dead peers when doing lookups" (--dpa 200) across implementations: an
// announcement made once through the Node grape is stored only by the Go
// grape, and both grapes' lookups must keep returning it while that store
// holds it, then return []. A Go [] while the store still holds it, after
// the lookup returned, is the lookup cache answering from a seen-peers
// memory that already dropped the peer.
func TestLookupKeepsLivePeerWithNode(t *testing.T) {
	t.Parallel()
	const maxAge = 200 * time.Millisecond
	g := startGo(t, "go1", nil, func(c *grape.Config) { c.PeerMaxAge = maxAge })
	n := startNode(t, "node1", 0, []string{g.dht}, "--dpa", "200")
	waitConnected(t, g, n)
	const name, want = "agree-with-node", "127.0.0.1:1337"
	start := time.Now()
	if acked := n.api.announce(t, name, 1337); acked < 1 {
		t.Fatalf("announce through Node acked by %d", acked)
	}
	gone := map[string]time.Duration{}
	var storeGone time.Duration
	for deadline := start.Add(2*maxAge + 3*time.Second); len(gone) < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still visible after %v: gone %v, store gone at %v", time.Since(start), gone, storeGone)
		}
		for _, m := range []member{g, n} {
			if _, done := gone[m.api.label]; done {
				continue
			}
			if peers := m.api.lookup(t, name); !slices.Contains(peers, want) {
				gone[m.api.label] = time.Since(start)
				if m.proc == nil && goStoreHolds(t, g.dht, name) {
					t.Fatalf("the Go grape answered %q %v after the announce while its DHT store still holds the peer", peers, gone[m.api.label])
				}
			}
		}
		if storeGone == 0 && !goStoreHolds(t, g.dht, name) {
			storeGone = time.Since(start)
		}
	}
	t.Logf("store gone after %v; first lookup without the peer: %v", storeGone, gone)
}
