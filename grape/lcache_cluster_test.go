package grape_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// With the lookup cache on (a long TTL, so only invalidation can make the
// new peer appear), a name every grape just looked up and cached as empty
// is visible everywhere right after an announce through one grape: the
// announcing grape drops its entry itself, the others when the
// announce_peer lands in their store.
func TestAnnounceVisibleDespiteLookupCache(t *testing.T) {
	gs := grapetest.Cluster(t, 3, grapetest.WithConfig(func(_ int, cfg *grape.Config) {
		cfg.LookupCacheTTL = time.Minute
	}))
	const name = "cached-then-announced"
	for _, g := range gs {
		if body, err := grapetest.Call(g.APIURL(), "lookup", fmt.Sprintf("%q", name)); err != nil || body != "[]" {
			t.Fatalf("lookup before announce on %s: %q %v", g.APIURL(), body, err)
		}
	}
	if body, err := grapetest.Call(gs[1].APIURL(), "announce", fmt.Sprintf(`[%q,4321]`, name)); err != nil || body != "2" {
		t.Fatalf("announce: %q %v", body, err)
	}
	for _, g := range gs {
		if body, _ := grapetest.Call(g.APIURL(), "lookup", fmt.Sprintf("%q", name)); body != `["127.0.0.1:4321"]` {
			t.Errorf("lookup right after announce on %s: %s", g.APIURL(), body)
		}
	}
}
