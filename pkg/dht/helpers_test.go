package dht

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable Clock for the pure cores.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testConfig is a config for loopback tests: short timeouts, free port.
func testConfig(bootstrap ...string) Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.Bootstrap = bootstrap
	cfg.QueryTimeout = 300 * time.Millisecond
	return cfg
}

// startNode starts a node running until the test ends.
func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = n.Close()
	})
	return n
}

func waitReady(t testing.TB, n *Node) {
	t.Helper()
	select {
	case <-n.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("node not ready")
	}
}
