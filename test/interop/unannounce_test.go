package interop

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
)

// TestMixedUnannounce: Go grapes send unannounce_peer to Node grapes too
// (they cannot tell them apart). A Node grape does not know the query and
// stays silent: it keeps serving lookups and announces without stalls, it
// keeps the record until it expires (so every grape, walking it, may still
// answer it until then: the cluster stays correct, only not faster), and
// the Go grapes neither wait a QueryTimeout for it nor evict it. The Go
// holder drops the record at once.
func TestMixedUnannounce(t *testing.T) {
	t.Parallel()
	go1 := startGo(t, "go1", nil, nil)
	n1 := startNode(t, "node1", 0, []string{go1.dht})
	go2 := startGo(t, "go2", []string{go1.dht}, nil)
	n2 := startNode(t, "node2", 0, []string{go1.dht})
	all := []member{go1, go2, n1, n2}
	waitConnected(t, all...)
	const name, port = "mixed-unannounce", 45101
	rec := "127.0.0.1:45101"
	if n := go1.api.announce(t, name, port); n != 3 {
		t.Fatalf("announce acked by %d nodes, want 3", n)
	}
	for _, m := range all {
		waitLookup(t, m, name, rec)
	}
	routing := goStatus(t, go1).RoutingNodes
	for i := range 5 { // a flapping service: Node grapes are asked every time
		start := time.Now()
		status, body := go1.api.call(t, "unannounce", []any{name, port})
		took := time.Since(start)
		// go2 acks; the Node grapes stay silent, which costs the straggler
		// grace after the first ack, not their QueryTimeout.
		if status != http.StatusOK || string(body) != "1" {
			t.Fatalf("unannounce %d: status %d body %s, want 1", i, status, body)
		}
		t.Logf("unannounce %d took %v", i, took)
		if took >= time.Second {
			t.Errorf("unannounce %d took %v: waited for the silent Node grapes", i, took)
		}
	}
	if grapetest.StoreHolds(t, go2.dht, name) {
		t.Error("the Go holder still stores the announcement")
	}
	for _, n := range []member{n1, n2} {
		if !grapetest.StoreHolds(t, n.dht, name) {
			t.Errorf("%s dropped the record: a Node grape should keep it until it expires", n.api.label)
		}
		// bittorrent-dht's DEBUG line: the query reached it, and it went on.
		if !strings.Contains(n.proc.Output(), "received unannounce_peer query") {
			t.Errorf("%s never received unannounce_peer: the test proves nothing", n.api.label)
		}
	}
	// Node grapes keep serving: lookups (still answering the record, from
	// their stores), and an announce through them, seen by everyone.
	for range 10 {
		for _, n := range []member{n1, n2} {
			if !slices.Contains(n.api.lookup(t, name), rec) {
				t.Fatalf("%s lost the record before its expiry", n.api.label)
			}
		}
	}
	if got := n1.api.announce(t, "after-unannounce", 45102); got < 1 {
		t.Fatalf("announce through node1 acked by %d", got)
	}
	for _, m := range all {
		waitLookup(t, m, "after-unannounce", "127.0.0.1:45102")
	}
	if got := goStatus(t, go1).RoutingNodes; got < routing {
		t.Errorf("go1 knows %d nodes after the unannounces, %d before: it evicted the silent Node grapes", got, routing)
	}
	assertNodeLookupsFast(t, all...)
}

// waitLookup polls m's /lookup until it returns rec (10 s).
func waitLookup(t *testing.T, m member, name, rec string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !slices.Contains(m.api.lookup(t, name), rec) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: lookup %q never returned %s", m.api.label, name, rec)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goStatus reads a Go member's /status.
func goStatus(t *testing.T, m member) (st struct {
	RoutingNodes int `json:"routing_nodes"`
}) {
	t.Helper()
	resp, err := m.api.c.Get(m.api.url + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatalf("%s /status: %v", m.api.label, err)
	}
	return st
}
