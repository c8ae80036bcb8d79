package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// HTTPServerConfig.Refuse: while it says so, every request gets 503 with TokenServerDraining and its rid,
// a transport failure to the client (so the caller retries elsewhere); then normal service.
func TestHTTPServerRefuses(t *testing.T) {
	var refusing atomic.Bool
	refusing.Store(true)
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{Refuse: refusing.Load})
	c := newTestClient(t, HTTPClientConfig{Timeout: 5 * time.Second})
	_, err := c.Call(context.Background(), addr, "svc", "hello", CallOptions{})
	var se *StatusError
	if !errors.Is(err, ErrTransport) || !errors.As(err, &se) || se.Status != http.StatusServiceUnavailable ||
		!strings.Contains(se.Body, `,"`+TokenServerDraining+`",null]`) {
		t.Fatalf("refusing: %v", err)
	}
	refusing.Store(false)
	if _, err := c.Call(context.Background(), addr, "svc", "hello", CallOptions{}); err != nil {
		t.Fatalf("after refusing: %v", err)
	}
}

// HTTPServerConfig.Upgrade: WebSocket upgrades on the HTTP port reach the WS server; plain requests do not.
func TestHTTPServerHandsUpgradesToWS(t *testing.T) {
	ws, err := NewWSServer(func(context.Context, string, json.RawMessage) (any, error) { return "from ws", nil }, WSServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = ws.Shutdown(ctx)
	})
	addr, _ := startHTTPServerWith(t, func(context.Context, string, json.RawMessage) (any, error) { return "from http", nil }, HTTPServerConfig{Upgrade: ws})
	hc := newTestClient(t, HTTPClientConfig{Timeout: 5 * time.Second})
	if res, err := hc.Call(context.Background(), addr, "svc", 1, CallOptions{}); err != nil || string(res) != `"from http"` {
		t.Fatalf("http: %s %v", res, err)
	}
	wc := NewWSClient(WSClientConfig{Timeout: 5 * time.Second})
	defer wc.Close()
	if res, err := wc.Call(context.Background(), addr, "svc", 1); err != nil || string(res) != `"from ws"` {
		t.Fatalf("ws: %s %v", res, err)
	}
}
