package gossip

import (
	"testing"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/pkg/link"
)

// The whole Go stack: two gossipers announce their publishers through real
// Go grapes (each on its own grape), find each other by lookup and exchange
// hints over WebSocket pub/sub.
func TestGossipOverGoGrapes(t *testing.T) {
	grapes := grapetest.Cluster(t, 2)
	links := make([]*link.Link, 2)
	for i := range links {
		cfg := link.DefaultConfig()
		cfg.Grapes = []string{grapes[i].APIURL()}
		l, err := link.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		links[i] = l
	}
	a, err := New(fastConfig(t, "a"), "svc", links[0], links[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(fastConfig(t, "b"), "svc", links[1], links[1])
	if err != nil {
		t.Fatal(err)
	}
	startGossiper(t, a)
	startGossiper(t, b)
	// a's breaker for the peer is open
	observeFixed(t, a, peerStats("127.0.0.1:7001", 1, 1, client.Open))
	waitFor(t, "b to hear a's open breaker", func() bool {
		d, _ := b.Book().Pressure("127.0.0.1:7001")
		return d > 0.4
	})
	waitFor(t, "a to hear b", func() bool { return a.Counters().Applied >= 1 })
}
