package interop

import (
	"slices"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

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
				if m.proc == nil && grapetest.StoreHolds(t, g.dht, name) {
					t.Fatalf("the Go grape answered %q %v after the announce while its DHT store still holds the peer", peers, gone[m.api.label])
				}
			}
		}
		if storeGone == 0 && !grapetest.StoreHolds(t, g.dht, name) {
			storeGone = time.Since(start)
		}
	}
	t.Logf("store gone after %v; first lookup without the peer: %v", storeGone, gone)
}
