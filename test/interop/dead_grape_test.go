package interop

import (
	"context"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/test/nodeproc"
	"github.com/rs/zerolog"
)

// A grape process is killed on a host that stays up (here: loopback, whose
// closed port answers ICMP port unreachable). The next lookup of a name
// nobody announced, on a Go survivor, must not wait the dead node's 2 s
// query timeout; the Node survivor's time is logged for comparison (it
// waits the timeout: about 2.2 s). The issue measured 4.0 s on a Go
// survivor before ICMP errors were read and the walk's retry was removed.
func TestKilledGrapeGoSurvivorDoesNotWait(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ICMP errors are read on Linux only")
	}
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	g1 := startGo(t, "go1", []string{n1.dht}, nil)
	victim := startNode(t, "victim", 0, []string{n1.dht})
	waitConnected(t, n1, g1, victim)
	victim.proc.Kill()
	<-victim.proc.Exited()
	const queryTimeout = 2 * time.Second // both grapes' default
	for i, m := range []member{g1, n1} {
		name := "nobody_announced_" + strconv.Itoa(i) + "_" + strconv.FormatInt(time.Now().UnixNano(), 36)
		start := time.Now()
		if got := m.api.lookup(t, name); len(got) != 0 {
			t.Fatalf("%s: lookup of an unannounced name: %v", m.api.label, got)
		}
		d := time.Since(start)
		t.Logf("%s survivor: lookup of an unannounced name %v after the kill", m.api.label, d)
		// Expected a few ms; a quarter of the timeout still fails whenever
		// the dead node's timeout was waited, and leaves room for load.
		if m.api.kind == "go" && d > queryTimeout/4 {
			t.Errorf("%s: lookup took %v after the kill, want under %v", m.api.label, d, queryTimeout/4)
		}
	}
}

// Node's grape suite "should emit a ready event": grape 1 bootstraps at
// grape 2, which starts right after it. A Node grape 1 is ready after its
// 2 s query timeout; a Go grape 1 is ready as soon as grape 2 (here a Node
// grape) answers its bootstrap retry.
func TestGoGrapeReadyWhenLateNodePeerComesUp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("a walk to a port that is not up ends at once only where ICMP errors are read (Linux)")
	}
	t.Parallel()
	port2 := nodeproc.FreeUDPPort(t)
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.DHTPort, cfg.APIPort = "127.0.0.1", 0, 0
	cfg.Bootstrap = []string{"127.0.0.1:" + strconv.Itoa(port2)}
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	// Ready falls back to one QueryTimeout after start: make that fallback
	// far off, so a slow node start cannot be mistaken for a fast join.
	cfg.QueryTimeout = 10 * time.Second
	g, err := grape.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- g.Run(ctx) }()
	defer func() { cancel(); <-done; _ = g.Close() }()
	// The Node grape takes a few hundred ms to start (node itself).
	startNode(t, "node2", port2, []string{g.DHTAddr().String()})
	up := time.Since(start)
	select {
	case <-g.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("go grape never ready")
	}
	ready := time.Since(start)
	t.Logf("node grape 2 up %v after go grape 1 started; go grape 1 ready %v after it started", up, ready)
	// The retry backoff is at most 400 ms (600 ms jittered): a second of
	// slack past the Node grape's start; the fallback would be at 10 s.
	if ready > up+time.Second {
		t.Fatalf("go grape 1 ready after %v, node grape 2 up after %v: want within 1 s of it", ready, up)
	}
}
