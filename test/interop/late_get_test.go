package interop

import (
	"testing"
)

// A grape that joins after a put does not hold the value, so its /get must
// walk the DHT and take the item from a remote node's BEP44 `get` reply
// (grenache-protocol.md §2.7, B.5): the reply then carries the remote
// node's id and the token it issued (non-null). These two tests make each
// implementation answer the other's BEP44 get over KRPC.

// TestLateNodeGrapeGetsFromGoGrapes: Go grapes hold the value; a Node
// grape joining later fetches it from them.
func TestLateNodeGrapeGetsFromGoGrapes(t *testing.T) {
	t.Parallel()
	g1 := startGo(t, "go1", nil, nil)
	g2 := startGo(t, "go2", []string{g1.dht}, nil)
	waitConnected(t, g1, g2)
	const v = "put on a Go grape before the Node grape joined"
	target := g1.api.put(t, v)
	late := startNode(t, "late-node", 0, []string{g1.dht})
	checkRemoteGet(t, late, target, v)
	assertNodeLookupsFast(t, late)
}

// TestLateGoGrapeGetsFromNodeGrapes: Node grapes hold the value; a Go
// grape joining later fetches it from them.
func TestLateGoGrapeGetsFromNodeGrapes(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	n2 := startNode(t, "node2", 0, []string{n1.dht})
	waitConnected(t, n1, n2)
	const v = "put on a Node grape before the Go grape joined"
	target := n1.api.put(t, v)
	late := startGo(t, "late-go", []string{n1.dht, n2.dht}, nil)
	checkRemoteGet(t, late, target, v)
}

// checkRemoteGet gets target through m and checks the item came from a
// remote node: right value, a token, and an id that is not m's own.
func checkRemoteGet(t *testing.T, m member, target, v string) {
	t.Helper()
	r, ok := m.api.get(t, target)
	if !ok || r.V != v {
		t.Fatalf("%s /get %s = %+v (found %v), want v %q", m.api.label, target, r, ok, v)
	}
	if r.Token == nil || len(*r.Token) != 40 {
		t.Errorf("%s /get answered from a remote node must carry its 20-byte token, got %v", m.api.label, r.Token)
	}
	// A second get still works (now possibly answered from a cached
	// table); the value must not change.
	if r2, ok := m.api.get(t, target); !ok || r2.V != v {
		t.Errorf("%s second /get = %+v (found %v)", m.api.label, r2, ok)
	}
	// An unknown target is an empty 200 body on both implementations.
	if _, ok := m.api.get(t, immutableTarget("never put anywhere")); ok {
		t.Errorf("%s /get of an unknown target found something", m.api.label)
	}
}
