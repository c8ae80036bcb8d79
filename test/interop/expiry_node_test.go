package interop

import (
	"testing"
	"time"
)

func TestExpiryNodeControl(t *testing.T) {
	t.Parallel()
	const maxAge = 10 * time.Second
	n1 := startNode(t, "node1", 0, nil, "--dpa", "10000")
	n2 := startNode(t, "node2", 0, []string{n1.dht}, "--dpa", "10000")
	waitConnected(t, n1, n2)
	gone := measureExpiry(t, maxAge, []expiryTarget{
		{name: "expiring-from-node1", port: 45001, on: n1},
		{name: "expiring-from-node2", port: 45002, on: n2},
	}, []member{n1, n2})
	assertExpiryWindow(t, maxAge, gone)
	assertNodeLookupsFast(t, n1, n2)
}
