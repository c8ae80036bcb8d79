package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"testing"
	"time"
)

// testHandler mirrors the Node fixture: "hello" -> "world",
// {"fail":true} -> ERR_SOMETHING_FAILED, {"sleep":ms} sleeps, anything else
// is echoed.
func testHandler(ctx context.Context, key string, payload json.RawMessage) (any, error) {
	if string(payload) == `"hello"` {
		return "world", nil
	}
	var p struct {
		Fail  bool `json:"fail"`
		Sleep int  `json:"sleep"`
		Panic bool `json:"panic"`
	}
	_ = json.Unmarshal(payload, &p)
	switch {
	case p.Fail:
		return nil, errors.New("ERR_SOMETHING_FAILED")
	case p.Panic:
		panic("boom")
	case p.Sleep > 0:
		select {
		case <-time.After(time.Duration(p.Sleep) * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return payload, nil
}

// startHTTPServer serves h with the default config on a free loopback
// port and shuts it down (with a drain) at cleanup. It returns
// "127.0.0.1:port".
func startHTTPServer(t testing.TB, h Handler) (string, *HTTPServer) {
	t.Helper()
	return startHTTPServerWith(t, h, HTTPServerConfig{})
}

// startHTTPServerWith is startHTTPServer with cfg.
func startHTTPServerWith(t testing.TB, h Handler, cfg HTTPServerConfig) (string, *HTTPServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewHTTPServer(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String(), s
}

// staticResolver is a Resolver over a fixed address list.
type staticResolver []string

func (s staticResolver) Lookup(context.Context, string) ([]string, error) {
	return append([]string(nil), s...), nil
}

// deadAddr returns a loopback address that refuses connections.
func deadAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	_ = ln.Close()
	return a
}

func newTestClient(t testing.TB, cfg HTTPClientConfig) *HTTPClient {
	c := NewHTTPClient(cfg)
	t.Cleanup(c.Close)
	return c
}
