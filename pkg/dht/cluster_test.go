package dht

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
)

// cluster starts n nodes on 127.0.0.1, all bootstrapped through the first,
// and waits until every one has finished its bootstrap walk.
func cluster(t *testing.T, n int, qt time.Duration) []*Node {
	t.Helper()
	first := testConfig()
	first.QueryTimeout = qt
	nodes := []*Node{startNode(t, first)}
	for i := 1; i < n; i++ {
		cfg := testConfig(nodes[0].Addr().String())
		cfg.QueryTimeout = qt
		nodes = append(nodes, startNode(t, cfg))
	}
	for _, nd := range nodes {
		waitReady(t, nd)
	}
	return nodes
}

func TestCluster50(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	const size = 50
	qt := 500 * time.Millisecond
	nodes := cluster(t, size, qt)
	// A budget for the whole test, not a latency bound (those are asserted
	// below): on a loaded 2-core host under -race the ~450 walks take long.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Announce 5 services through 5 different nodes, put 3 values.
	type svc struct {
		key  string
		peer netip.AddrPort
	}
	var svcs []svc
	for i := 0; i < 5; i++ {
		key := fmt.Sprintf("svc_%d", i)
		if i == 4 {
			key = "" // the empty name is a key too
		}
		port := 4000 + i
		acked, err := nodes[i*7].Announce(ctx, []byte(key), port)
		if err != nil || acked < 1 {
			t.Fatalf("announce %q: %d %v", key, acked, err)
		}
		svcs = append(svcs, svc{key, netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))})
	}
	var targets []Target
	for i := 0; i < 3; i++ {
		tg, err := nodes[i*11+1].Put(ctx, Item{V: []byte(fmt.Sprintf("value %d", i))})
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
		targets = append(targets, tg)
	}

	// Lookups from every node, 4 nodes at a time (2 cores under -race).
	lookupAll := func(alive []*Node) (slowest time.Duration) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, 4)
		for _, nd := range alive {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				for _, s := range svcs {
					start := time.Now()
					got, err := nd.Lookup(ctx, []byte(s.key))
					d := time.Since(start)
					mu.Lock()
					slowest = max(slowest, d)
					mu.Unlock()
					// No retry: under load live nodes answer late (or
					// miss a QueryTimeout), and a walk that has found
					// nothing must wait for them rather than report "none".
					if err != nil || !slices.Contains(got, s.peer) {
						t.Errorf("lookup %q on %s: %v %v", s.key, nd.Addr(), got, err)
					}
				}
			}()
		}
		wg.Wait()
		return slowest
	}
	slowest := lookupAll(nodes)
	var timeouts uint64
	for _, nd := range nodes {
		timeouts += nd.Stats().QueryTimeouts
	}
	t.Logf("all %d nodes see all %d announces; slowest lookup %v; %d query timeouts", size, len(svcs), slowest, timeouts)

	for _, nd := range nodes {
		for i, tg := range targets {
			r, ok, err := nd.Get(ctx, tg, nil)
			if err != nil || !ok || string(r.Item.V) != fmt.Sprintf("value %d", i) {
				t.Fatalf("get %s on %s: %+v %v %v", tg, nd.Addr(), r, ok, err)
			}
		}
	}

	// Kill a quarter of the nodes (not the bootstrap node), then look up
	// again from the survivors: every lookup must still find every service,
	// and must not wait out the dead nodes' QueryTimeout.
	var alive []*Node
	for i, nd := range nodes {
		if i%4 == 3 {
			_ = nd.Close()
		} else {
			alive = append(alive, nd)
		}
	}
	// The first lookups after the kill meet dead nodes that nobody has
	// evicted yet; each must still end well before their QueryTimeout.
	slowest = 0
	for i, nd := range alive[:10] {
		s := svcs[i%len(svcs)]
		start := time.Now()
		got, err := nd.Lookup(ctx, []byte(s.key))
		d := time.Since(start)
		if err != nil || !slices.Contains(got, s.peer) {
			t.Errorf("lookup %q after kill: %v %v", s.key, got, err)
		}
		if d >= qt {
			t.Errorf("lookup %d after the kill took %v, not under QueryTimeout %v: dead nodes stall walks", i, d, qt)
		}
		slowest = max(slowest, d)
	}
	t.Logf("after killing %d of %d: slowest of 10 sequential lookups %v (QueryTimeout %v)", size-len(alive), size, slowest, qt)
	slowest = lookupAll(alive)
	t.Logf("then every survivor found every service; slowest lookup %v", slowest)
	// Announces still work and reach the survivors.
	acked, err := alive[5].Announce(ctx, []byte("after_kill"), 5000)
	if err != nil || acked < 1 {
		t.Fatalf("announce after kill: %d %v", acked, err)
	}
	got, err := alive[len(alive)-1].Lookup(ctx, []byte("after_kill"))
	if err != nil || !slices.Contains(got, netip.MustParseAddrPort("127.0.0.1:5000")) {
		t.Fatalf("lookup after kill: %v %v", got, err)
	}
}
