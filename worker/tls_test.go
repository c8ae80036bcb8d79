package worker

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// testPKI is a CA with one server certificate (for 127.0.0.1) and one client certificate,
// written as PEM files for LoadTLS.
type testPKI struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
	client                    tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, usage x509.ExtKeyUsage) ([]byte, *ecdsa.PrivateKey) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "peer"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	srvDER, srvKey := issue(2, x509.ExtKeyUsageServerAuth)
	srvKeyDER, _ := x509.MarshalECPrivateKey(srvKey)
	cliDER, cliKey := issue(3, x509.ExtKeyUsageClientAuth)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return testPKI{
		caFile:   write("ca.pem", "CERTIFICATE", caDER),
		certFile: write("server.pem", "CERTIFICATE", srvDER),
		keyFile:  write("server-key.pem", "EC PRIVATE KEY", srvKeyDER),
		pool:     pool,
		client:   tls.Certificate{Certificate: [][]byte{cliDER}, PrivateKey: cliKey},
	}
}

// A host with mutual TLS serves HTTPS and WSS on its one port to clients with a certificate
// from the CA, and refuses a client without one.
func TestHostServesMutualTLS(t *testing.T) {
	pki := newTestPKI(t)
	tc, err := LoadTLS(pki.certFile, pki.keyFile, pki.caFile, true)
	if err != nil {
		t.Fatal(err)
	}
	mux := NewMux()
	mux.HandleFunc("ping", func(context.Context, *Request) (any, error) { return "pong", nil })
	w, _ := startHost(t, mux, func(c *Config) { c.TLS = tc })
	payload := map[string]any{"action": "ping", "args": []any{}}
	ctx := context.Background()

	good := &tls.Config{RootCAs: pki.pool, Certificates: []tls.Certificate{pki.client}}
	hc := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 5 * time.Second, TLS: good})
	defer hc.Close()
	if res, err := hc.Call(ctx, w.Addr(), "svc", payload, transport.CallOptions{}); err != nil || string(res) != `"pong"` {
		t.Fatalf("https with a client certificate: %s %v", res, err)
	}
	wc := transport.NewWSClient(transport.WSClientConfig{Timeout: 5 * time.Second, TLS: good})
	defer wc.Close()
	if res, err := wc.Call(ctx, w.Addr(), "svc", payload); err != nil || string(res) != `"pong"` {
		t.Fatalf("wss with a client certificate: %s %v", res, err)
	}
	anon := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 5 * time.Second, TLS: &tls.Config{RootCAs: pki.pool}})
	defer anon.Close()
	if _, err := anon.Call(ctx, w.Addr(), "svc", payload, transport.CallOptions{}); err == nil {
		t.Fatal("a client without a certificate was served")
	}
}

// startHost runs NewService(cfg, h) on a free loopback port, announcing to a recorder.
func startHost(t *testing.T, h Handler, mod func(*Config)) (*Worker, func() error) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.Grapes = []string{newAnnounceRecorder(t).srv.URL}
	cfg.AnnounceInterval = 50 * time.Millisecond
	cfg.DrainGrace = 0
	if mod != nil {
		mod(&cfg)
	}
	w, err := NewService(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error { once.Do(func() { cancel(); runErr = <-done }); return runErr }
	t.Cleanup(func() { _ = stop() })
	return w, stop
}
