package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestClientRoundTrip(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	c := newTestClient(t, HTTPClientConfig{})
	for _, compress := range []bool{false, true} {
		res, err := c.Call(context.Background(), addr, "rpc_test", "hello", CallOptions{Compress: compress})
		if err != nil || string(res) != `"world"` {
			t.Fatalf("compress=%v: %s %v", compress, res, err)
		}
		res, err = c.Call(context.Background(), addr, "rpc_test", map[string]any{"echo": map[string]any{"a": 1}}, CallOptions{Compress: compress})
		if err != nil || string(res) != `{"echo":{"a":1}}` {
			t.Fatalf("compress=%v echo: %s %v", compress, res, err)
		}
		res, err = c.Call(context.Background(), addr, "rpc_test", json.RawMessage(`[1,"two"]`), CallOptions{Compress: compress})
		if err != nil || string(res) != `[1,"two"]` {
			t.Fatalf("compress=%v raw: %s %v", compress, res, err)
		}
	}
}

func TestClientRemoteError(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	c := newTestClient(t, HTTPClientConfig{})
	_, err := c.Call(context.Background(), addr, "k", map[string]bool{"fail": true}, CallOptions{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_SOMETHING_FAILED" {
		t.Fatalf("err %v, want RemoteError", err)
	}
	if errors.Is(err, ErrTransport) || errors.Is(err, ErrTimeout) {
		t.Fatal("a handler error must not look like a transport failure")
	}
}

func TestClientTimeoutTyped(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	c := newTestClient(t, HTTPClientConfig{Timeout: 50 * time.Millisecond})
	start := time.Now()
	_, err := c.Call(context.Background(), addr, "k", map[string]int{"sleep": 2000}, CallOptions{})
	if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// A per-call timeout overrides the default; the caller's deadline too.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	c2 := newTestClient(t, HTTPClientConfig{Timeout: time.Minute})
	if _, err := c2.Call(ctx, addr, "k", map[string]int{"sleep": 2000}, CallOptions{}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("caller deadline: %v", err)
	}
	if _, err := c2.Call(context.Background(), addr, "k", map[string]int{"sleep": 2000}, CallOptions{Timeout: 30 * time.Millisecond}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("per-call timeout: %v", err)
	}
}

func TestClientSilentPeerTimesOut(t *testing.T) {
	// A peer that accepts and never answers (Node's reaction to garbage).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- conn
		}
	}()
	defer func() {
		ln.Close()
		for c := range conns {
			c.Close()
		}
	}()
	c := newTestClient(t, HTTPClientConfig{Timeout: 50 * time.Millisecond})
	if _, err := c.Call(context.Background(), ln.Addr().String(), "k", "hello", CallOptions{}); !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
}

func TestClientDeadPeerIsTransportError(t *testing.T) {
	c := newTestClient(t, HTTPClientConfig{})
	_, err := c.Call(context.Background(), deadAddr(t), "k", "hello", CallOptions{})
	var ce *CallError
	if !errors.Is(err, ErrTransport) || errors.Is(err, ErrTimeout) || !errors.As(err, &ce) {
		t.Fatalf("err %v, want ErrTransport", err)
	}
}

func TestClientNon200AndBadReplies(t *testing.T) {
	replies := map[string]func(w http.ResponseWriter){
		"status": func(w http.ResponseWriter) { w.WriteHeader(503); _, _ = w.Write([]byte("busy")) },
		"json":   func(w http.ResponseWriter) { _, _ = w.Write([]byte("not json")) },
		"rid":    func(w http.ResponseWriter) { _, _ = w.Write([]byte(`["other",null,1]`)) },
	}
	for name, reply := range replies {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reply(w) })}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = srv.Serve(ln) }()
		c := newTestClient(t, HTTPClientConfig{})
		_, err = c.Call(context.Background(), ln.Addr().String(), "k", "hello", CallOptions{})
		_ = srv.Close()
		if !errors.Is(err, ErrTransport) {
			t.Errorf("%s: err %v, want ErrTransport", name, err)
		}
		var se *StatusError
		if name == "status" && (!errors.As(err, &se) || se.Status != 503 || se.Body != "busy") {
			t.Errorf("status: %v", err)
		}
	}
}

func TestClientStatusBodyOfGzipRequest(t *testing.T) {
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{MaxBodyBytes: 16})
	c := newTestClient(t, HTTPClientConfig{})
	_, err := c.Call(context.Background(), addr, "k", strings.Repeat("x", 100), CallOptions{Compress: true})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 413 || se.Body != `[null,"ERR_REQUEST_TOO_LARGE",null]` {
		t.Fatalf("err %v", err)
	}
}

func TestClientReusesConnections(t *testing.T) {
	var dials int
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingListener{Listener: ln, n: &dials}
	s, err := NewHTTPServer(testHandler, HTTPServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(counting) }()
	defer func() { _ = s.Shutdown(context.Background()); <-done }()
	c := newTestClient(t, HTTPClientConfig{})
	for range 50 {
		if _, err := c.Call(context.Background(), ln.Addr().String(), "k", "hello", CallOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if dials != 1 {
		t.Fatalf("%d connections for 50 sequential calls, want 1", dials)
	}
}

type countingListener struct {
	net.Listener
	n *int
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		*l.n++ // Accept runs on one goroutine only
	}
	return c, err
}

func TestClientTLSAndMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	// Server-only TLS.
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{TLS: &tls.Config{Certificates: []tls.Certificate{pki.server}}})
	c := newTestClient(t, HTTPClientConfig{TLS: &tls.Config{RootCAs: pki.pool}})
	if res, err := c.Call(context.Background(), addr, "k", "hello", CallOptions{Compress: true}); err != nil || string(res) != `"world"` {
		t.Fatalf("tls: %s %v", res, err)
	}
	untrusting := newTestClient(t, HTTPClientConfig{TLS: &tls.Config{}})
	if _, err := untrusting.Call(context.Background(), addr, "k", "hello", CallOptions{}); !errors.Is(err, ErrTransport) {
		t.Fatalf("untrusted server cert accepted: %v", err)
	}
	plain := newTestClient(t, HTTPClientConfig{})
	if _, err := plain.Call(context.Background(), addr, "k", "hello", CallOptions{}); err == nil {
		t.Fatal("plain HTTP client talked to a TLS server")
	}

	// Mutual TLS: the server requires a client cert signed by the CA.
	certCN := make(chan string, 1)
	mtlsAddr, _ := startHTTPServerWith(t, func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		if certs := PeerCertificates(ctx); len(certs) > 0 {
			certCN <- certs[0].Subject.CommonName
		}
		return testHandler(ctx, key, p)
	}, HTTPServerConfig{TLS: &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
	}})
	withCert := newTestClient(t, HTTPClientConfig{TLS: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}})
	if res, err := withCert.Call(context.Background(), mtlsAddr, "k", "hello", CallOptions{}); err != nil || string(res) != `"world"` {
		t.Fatalf("mtls: %s %v", res, err)
	}
	select {
	case cn := <-certCN:
		if cn != "peer" {
			t.Fatalf("handler saw client cert CN %q", cn)
		}
	default:
		t.Fatal("handler did not see the client certificate")
	}
	if _, err := c.Call(context.Background(), mtlsAddr, "k", "hello", CallOptions{}); !errors.Is(err, ErrTransport) || !strings.Contains(err.Error(), "certificate") && !strings.Contains(err.Error(), "tls") {
		t.Fatalf("client without cert: %v", err)
	}
}

func TestShutdownDrainsInFlight(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s, err := NewHTTPServer(func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		return "late but answered", nil
	}, HTTPServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	c := newTestClient(t, HTTPClientConfig{})
	res := make(chan error, 1)
	go func() {
		r, err := c.Call(context.Background(), ln.Addr().String(), "k", nil, CallOptions{})
		if err == nil && string(r) != `"late but answered"` {
			err = errors.New(string(r))
		}
		res <- err
	}()
	<-started
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatalf("in-flight call failed across Shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(context.Background(), ln.Addr().String(), "k", nil, CallOptions{}); err == nil {
		t.Fatal("server still answering after Shutdown")
	}
}
