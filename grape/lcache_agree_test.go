package grape

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The lookup cache must never answer from a seen-peers memory that has
// dropped what its walk found while the DHT still holds it (Node's test
// "should not cache dead peers when doing lookups", protocol §2.6). The
// fake DHT holds the announcement until hold, the latest a real store can
// (4M/3), then drops it; lookups every step of injected time must see the
// peer until then, and [] once the memory's lingering (at most 2M/3 after
// the last walk) is over.
func TestLookupCacheAgreesWithSeenPeers(t *testing.T) {
	for _, tc := range []struct {
		name         string
		maxAge, step time.Duration
	}{
		{"dpa200", 200 * time.Millisecond, 5 * time.Millisecond},
		{"default", 120 * time.Second, 50 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := &testClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
			g, node := startFake(t, func(c *Config) {
				c.Clock = clk
				c.PeerMaxAge = tc.maxAge
				c.Bind = "" // the fake DHT is the only place the peer lives
			})
			if body, err := callAPI(g, "announce", `["svc",5555]`); err != nil || body != "1" {
				t.Fatalf("announce: %q %v", body, err)
			}
			start := clk.Now()
			hold := start.Add(4 * tc.maxAge / 3)
			const want = `["127.0.0.1:5555"]`
			var gone time.Time
			for clk.Now().Before(hold.Add(2*tc.maxAge/3 + tc.step)) {
				clk.Advance(tc.step)
				if !clk.Now().Before(hold) {
					node.mu.Lock()
					delete(node.peers, "svc")
					node.mu.Unlock()
				}
				r := g.lookupName(context.Background(), "svc", nil)
				body := string(r.body)
				switch {
				case clk.Now().Before(hold) && body != want:
					t.Fatalf("%v after the announce, with the DHT still holding it, lookup answered %s (memory gen %d)",
						clk.Now().Sub(start), body, g.seen.Gen())
				case body == "[]" && gone.IsZero():
					gone = clk.Now()
				case body != "[]" && !gone.IsZero():
					t.Fatalf("peer back at %v after it was gone", clk.Now().Sub(start))
				case body != "[]" && body != want:
					t.Fatalf("lookup answered %s", body)
				}
			}
			if gone.IsZero() {
				t.Fatalf("still visible %v after the DHT dropped it", clk.Now().Sub(hold))
			}
			t.Logf("DHT dropped it at %v, lookups answer [] from %v", hold.Sub(start), gone.Sub(start))
		})
	}
}

// Rotations for size count too: a flood of other names that rotates the
// memory twice makes the next lookup of a cached name walk, not answer [].
func TestLookupCacheAgreesAfterSizeRotation(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	g, _ := startFake(t, func(c *Config) { c.Clock = clk; c.Bind = "" })
	if body, err := callAPI(g, "announce", `["svc",5555]`); err != nil || body != "1" {
		t.Fatalf("announce: %q %v", body, err)
	}
	clk.Advance(time.Millisecond)
	if r := g.lookupName(context.Background(), "svc", nil); string(r.body) != `["127.0.0.1:5555"]` {
		t.Fatalf("first lookup: %s", r.body)
	}
	for i := 0; i < 2*seenPeersMax+2; i++ {
		g.seen.Add("flood-"+strings.Repeat("x", i%7), "127.0.0.1:"+strconv.Itoa(i))
	}
	if g.seen.Gen() < 2 {
		t.Fatalf("flood rotated the memory %d times, want 2", g.seen.Gen())
	}
	if r := g.lookupName(context.Background(), "svc", nil); string(r.body) != `["127.0.0.1:5555"]` {
		t.Fatalf("lookup after the memory dropped the walk's records: %s", r.body)
	}
}
