package interop

import (
	"context"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/rs/zerolog"
)

// startGo starts a Go grape on loopback with free ports, joined through
// bootstrap, with the same settings the Node grapes get from nodeproc
// (peer max age 120 s, 8192-byte bodies) unless mut changes them. It is
// stopped (Run drained and returned) in t.Cleanup.
func startGo(t testing.TB, label string, bootstrap []string, mut func(*grape.Config)) member {
	t.Helper()
	cfg := grape.DefaultConfig()
	cfg.DHTHost = "127.0.0.1"
	cfg.DHTPort = 0
	cfg.APIPort = 0
	cfg.Bootstrap = bootstrap
	cfg.PeerMaxAge = 120 * time.Second
	cfg.MaxPayloadSize = 8192
	cfg.ShutdownTimeout = 2 * time.Second
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Str("grape", label).Logger()
	if mut != nil {
		mut(&cfg)
	}
	g, err := grape.New(cfg)
	if err != nil {
		t.Fatalf("grape.New(%s): %v", label, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run returned %v", label, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: Run did not return 10 s after cancel", label)
		}
		_ = g.Close()
	})
	return member{api: newGrapeAPI(t, label, "go", g.APIURL()), dht: g.DHTAddr().String()}
}

// TestMixedGoJoinsNode: a Go grape bootstrapped at two Node grapes.
func TestMixedGoJoinsNode(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	n2 := startNode(t, "node2", 0, []string{n1.dht})
	g1 := startGo(t, "go1", dhtAddrs(n1, n2), nil)
	waitConnected(t, n1, n2, g1)
	runGrapeMatrix(t, side{"node", []member{n1, n2}}, side{"go", []member{g1}})
}

// TestMixedNodeJoinsGo: two Node grapes bootstrapped at Go grapes only.
func TestMixedNodeJoinsGo(t *testing.T) {
	t.Parallel()
	g1 := startGo(t, "go1", nil, nil)
	g2 := startGo(t, "go2", []string{g1.dht}, nil)
	n1 := startNode(t, "node1", 0, []string{g1.dht})
	n2 := startNode(t, "node2", 0, []string{g1.dht})
	waitConnected(t, g1, g2, n1, n2)
	runGrapeMatrix(t, side{"go", []member{g1, g2}}, side{"node", []member{n1, n2}})
}

// TestExpiryMatchesNode: with a 10 s peer max age on both sides, an
// announcement made once through either implementation disappears from
// both within the same record-cache window. Each grape joins only the
// other, so each announcement is stored only by the other implementation.
func TestExpiryMatchesNode(t *testing.T) {
	t.Parallel()
	const maxAge = 10 * time.Second
	g := startGo(t, "go1", nil, func(c *grape.Config) { c.PeerMaxAge = maxAge })
	n := startNode(t, "node1", 0, []string{g.dht}, "--dpa", "10000")
	waitConnected(t, g, n)
	gone := measureExpiry(t, maxAge, []expiryTarget{
		{name: "expiring-from-node", port: 45001, on: n},
		{name: "expiring-from-go", port: 45002, on: g},
	}, []member{n, g})
	assertExpiryWindow(t, maxAge, gone)
	assertNodeLookupsFast(t, n, g)
}

// TestNodeLinkThroughGoGrapes: grenache-nodejs-link announcing, looking
// up, putting and getting through Go grapes only (matrix item 2).
func TestNodeLinkThroughGoGrapes(t *testing.T) {
	t.Parallel()
	g1 := startGo(t, "go1", nil, nil)
	g2 := startGo(t, "go2", []string{g1.dht}, nil)
	waitConnected(t, g1, g2)
	runNodeLink(t, g1, g2)
}
