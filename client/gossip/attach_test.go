package gossip

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// serveWorker runs a real Grenache HTTP worker of svc on loopback,
// announced in reg, answering with h until the test ends; it returns its
// address.
func serveWorker(t *testing.T, reg *registry, svc string, h transport.Handler) string {
	t.Helper()
	srv, err := transport.NewHTTPServer(h, transport.HTTPServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()); <-done })
	_, port, _ := splitPort(ln.Addr().String())
	reg.StartAnnouncing(svc, port, time.Second)
	return "127.0.0.1:" + strconv.Itoa(port)
}

// Attach end to end: a real client's own outcomes on a failing worker are
// what its gossiper publishes, and another gossiper's advice says so.
func TestAttachedClientPublishesItsOwnMetrics(t *testing.T) {
	reg := newRegistry()
	good := serveWorker(t, reg, "svc", func(context.Context, string, json.RawMessage) (any, error) { return "ok", nil })
	bad := serveWorker(t, reg, "svc", func(context.Context, string, json.RawMessage) (any, error) {
		return nil, errors.New("ERR_BROKEN")
	})
	busy, err := New(fastConfig(t, "busy"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := New(fastConfig(t, "quiet"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := Attach(busy, reg, client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	startGossiper(t, busy)
	startGossiper(t, quiet)
	waitFor(t, "the quiet gossiper to be advised against the failing worker", func() bool {
		for range 10 {
			_, _ = c.Request(context.Background(), "svc", json.RawMessage(`{}`))
		}
		return quiet.Advise("svc", bad, time.Now()).Weight > 0
	})
	if a := quiet.Advise("svc", good, time.Now()); a != (client.HintAdvice{}) {
		t.Fatalf("the healthy worker was advised against: %+v", a)
	}
	if _, err := Attach(busy, reg, client.DefaultConfig()); err == nil {
		t.Fatal("a second client attached to one gossiper")
	}
	cfg := client.DefaultConfig()
	cfg.Hints = quiet
	if _, err := Attach(quiet, reg, cfg); err == nil {
		t.Fatal("Attach replaced a hint source already in the config")
	}
}
