package grape_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// With --dpa 200 (the grenache-grape test "should not cache dead peers when
// doing lookups"), lookups on both grapes keep returning an announced peer
// as long as some DHT store holds it, and return [] after it expired. A
// lookup that answers [] while a store still holds the announcement after
// the lookup ended is the bug: its cache answered from a seen-peers memory
// that had already dropped what the walk found.
func TestLookupKeepsLivePeerAtShortMaxAge(t *testing.T) {
	const m = 200 * time.Millisecond
	gs := grapetest.Cluster(t, 2, grapetest.WithPeerMaxAge(m), grapetest.WithConfig(func(_ int, c *grape.Config) {
		c.Bind = "" // no self-store: only the DHT stores hold it
	}))
	const name = "agree-short-maxage"
	start := time.Now()
	if body, err := grapetest.Call(gs[0].APIURL(), "announce", fmt.Sprintf(`[%q,1337]`, name)); err != nil || body == "0" {
		t.Fatalf("announce: %q %v", body, err)
	}
	held := func() bool {
		for _, g := range gs {
			if grapetest.StoreHolds(t, g.DHTAddr().String(), name) {
				return true
			}
		}
		return false
	}
	gone := make([]time.Duration, len(gs))
	visible := 0
	var storeGone time.Duration
	for deadline := start.Add(2*m + 3*time.Second); ; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still visible after %v (gone at %v, store gone at %v)", time.Since(start), gone, storeGone)
		}
		all := true
		for i, g := range gs {
			if gone[i] != 0 {
				continue
			}
			body, err := grapetest.Call(g.APIURL(), "lookup", fmt.Sprintf("%q", name))
			if err != nil {
				t.Fatal(err)
			}
			switch body {
			case `["127.0.0.1:1337"]`:
				visible++
				all = false
			case "[]":
				gone[i] = time.Since(start)
				if held() {
					t.Fatalf("grape %d answered [] %v after the announce while a DHT store still holds it", i, gone[i])
				}
			default:
				t.Fatalf("lookup answered %s", body)
			}
		}
		if storeGone == 0 && !held() {
			storeGone = time.Since(start)
		}
		if all {
			break
		}
	}
	// Node's test asks for more than 10 rounds; on a loaded machine a
	// round can take longer than 2M/3 / 10, so only a first answer per
	// grape is required here: the bound that matters is the one above.
	if visible < len(gs) {
		t.Errorf("visible in %d lookups only", visible)
	}
	t.Logf("store gone after %v; lookups [] after %v (visible in %d lookups)", storeGone, gone, visible)
}
