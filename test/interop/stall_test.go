package interop

import (
	"crypto/rand"
	"net"
	"testing"
	"time"
)

// TestStallDetectorCatchesSilentNode proves the "no stalls" assertion can
// fail: a DHT node that pings a Node grape (so it enters the routing
// table) and then never answers makes that grape's next lookup wait out
// the 2 s KRPC timeout, which stalledNodeLookups must flag. This is exactly
// what a Go node that drops a query would cause.
func TestStallDetectorCatchesSilentNode(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	n2 := startNode(t, "node2", 0, []string{n1.dht})
	waitConnected(t, n1, n2)

	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	id := make([]byte, 20)
	_, _ = rand.Read(id)
	ping := "d1:ad2:id20:" + string(id) + "e1:q4:ping1:t2:zz1:y1:qe"
	to, err := net.ResolveUDPAddr("udp4", n1.dht)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := silent.WriteTo([]byte(ping), to); err != nil {
		t.Fatal(err)
	}
	// Wait for the pong: the grape has now added us to its routing table.
	_ = silent.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1500)
	if _, _, err := silent.ReadFrom(buf); err != nil {
		t.Fatalf("no pong from %s: %v", n1.dht, err)
	}

	start := time.Now()
	n1.api.lookup(t, "stall-probe")
	took := time.Since(start)
	if took < stallLookup {
		t.Fatalf("lookup with a silent node in the table took %v; expected the ~2 s KRPC timeout", took)
	}
	if slow := stalledNodeLookups(n1); len(slow) != 1 {
		t.Fatalf("stalledNodeLookups = %v, want the one stalled lookup (%v)", slow, took)
	}
	t.Logf("stalled lookup took %v", took.Round(time.Millisecond))
	// The stall diagnosis names the silent node as a stranger that queried n1.
	known := map[string]bool{n1.dht: true, n2.dht: true}
	if f := foreignQueriers(n1, known); f[silent.LocalAddr().String()] != 1 || len(f) != 1 {
		t.Errorf("foreignQueriers(node1) = %v, want only the silent node %v", f, silent.LocalAddr())
	}
}
