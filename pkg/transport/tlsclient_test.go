package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// resumptions records, per mutual-TLS handshake the server completes,
// whether it resumed a session.
type resumptions struct {
	mu  sync.Mutex
	got []bool
}

func (r *resumptions) serverTLS(pki *testPKI) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{pki.server},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pki.pool,
		VerifyConnection: func(cs tls.ConnectionState) error {
			r.mu.Lock()
			r.got = append(r.got, cs.DidResume)
			r.mu.Unlock()
			return nil
		},
	}
}

func (r *resumptions) list() []bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]bool(nil), r.got...)
}

// A client that reconnects to a peer resumes its TLS session instead of a
// full handshake: over HTTPS after its idle connections were dropped, and
// over wss after its socket closed.
func TestTLSClientsResumeSessions(t *testing.T) {
	pki := newTestPKI(t)
	clientCfg := &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}

	var overHTTP resumptions
	// A resumed session still carries the client's certificate to handlers.
	needsCert := func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		if len(PeerCertificates(ctx)) == 0 {
			return nil, errors.New("no client certificate")
		}
		return testHandler(ctx, key, p)
	}
	addr, _ := startHTTPServerWith(t, needsCert, HTTPServerConfig{TLS: overHTTP.serverTLS(pki)})
	hc := newTestClient(t, HTTPClientConfig{TLS: clientCfg})
	for range 2 {
		if res, err := hc.Call(context.Background(), addr, "k", "hello", CallOptions{}); err != nil || string(res) != `"world"` {
			t.Fatalf("https: %s %v", res, err)
		}
		hc.Close() // the next call dials again
	}
	if got := overHTTP.list(); len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("https handshakes resumed %v, want [false true]", got)
	}

	var overWS resumptions
	wsAddr, _ := startWSServerWith(t, needsCert, WSServerConfig{TLS: overWS.serverTLS(pki)})
	wc := newTestWSClient(t, WSClientConfig{TLS: clientCfg, IdleTimeout: 20 * time.Millisecond})
	for range 2 {
		if res, err := wc.Call(context.Background(), wsAddr, "k", "hello"); err != nil || string(res) != `"world"` {
			t.Fatalf("wss: %s %v", res, err)
		}
		waitFor(t, "the idle socket to close", func() bool {
			wc.mu.RLock()
			defer wc.mu.RUnlock()
			return len(wc.conns) == 0
		})
	}
	if got := overWS.list(); len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("wss handshakes resumed %v, want [false true]", got)
	}
}

// BenchmarkMutualTLSReconnect is one call on a new connection each time,
// over mutual TLS: a full handshake (the server issues no tickets) against
// a resumed one.
//
//	go test -run '^$' -bench MutualTLSReconnect ./pkg/transport
func BenchmarkMutualTLSReconnect(b *testing.B) {
	pki := newTestPKI(b)
	for _, tc := range []struct {
		name    string
		tickets bool
	}{{"full", false}, {"resumed", true}} {
		b.Run(tc.name, func(b *testing.B) {
			srv := &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientAuth: tls.RequireAndVerifyClientCert,
				ClientCAs: pki.pool, SessionTicketsDisabled: !tc.tickets}
			addr, _ := startHTTPServerWith(b, testHandler, HTTPServerConfig{TLS: srv})
			c := newTestClient(b, HTTPClientConfig{TLS: &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}})
			b.ReportAllocs()
			start := cpuTime()
			for b.Loop() {
				if _, err := c.Call(context.Background(), addr, "k", "hello", CallOptions{}); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		})
	}
}
