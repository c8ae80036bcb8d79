package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/testpki"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/worker"
)

// transportWorker runs a worker of the built-in jobs (it echoes any
// payload) announced as service to the grape at url, serving HTTP and WS on
// one port, over mutual TLS when pki is not nil.
func transportWorker(t *testing.T, url, service string, pki *testpki.PKI) {
	t.Helper()
	cfg := worker.DefaultConfig()
	cfg.Service, cfg.Bind, cfg.Port = service, "127.0.0.1", 0
	cfg.Grapes = []string{url}
	cfg.AnnounceInterval = 100 * time.Millisecond
	cfg.DrainGrace = 0
	if pki != nil {
		cfg.TLS = pki.ServerTLS(true)
	}
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	l, err := link.New(link.Config{Grapes: []string{url}, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if peers, _ := l.Lookup(context.Background(), service); len(peers) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not visible", service)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCallEveryTransport calls a plain worker over http and ws, and a
// mutual-TLS worker over https and wss, with the --tls-* files; a client
// without a certificate, or with one from another CA, fails with an error
// that names TLS, within its timeout.
func TestCallEveryTransport(t *testing.T) {
	url := cluster(t, 0)
	pki, err := testpki.New("cmd/client test CA")
	if err != nil {
		t.Fatal(err)
	}
	files, err := pki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	other, err := testpki.New("another CA")
	if err != nil {
		t.Fatal(err)
	}
	otherFiles, err := other.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	transportWorker(t, url, "plainsvc", nil)
	transportWorker(t, url, "tlssvc", pki)

	for _, tr := range []string{"http", "ws"} {
		code, out, errs := runClient(t, map[string]string{"CLIENT_TRANSPORT": tr}, "call", "--grape", url, "plainsvc", `{"over":"`+tr+`"}`)
		if code != 0 || strings.TrimSpace(out) != `{"over":"`+tr+`"}` {
			t.Errorf("%s: code %d out %q err %q", tr, code, out, errs)
		}
	}
	mtls := []string{"--tls-ca", files.CA, "--tls-cert", files.ClientCert, "--tls-key", files.ClientKey}
	for _, tr := range []string{"https", "wss"} {
		args := append([]string{"call", "--grape", url, "--transport", tr, "--map"}, mtls...)
		code, out, errs := runClient(t, nil, append(args, "tlssvc", `[1,"`+tr+`"]`)...)
		if code != 0 || strings.TrimSpace(out) != `[[1,"`+tr+`"]]` {
			t.Errorf("%s: code %d out %q err %q", tr, code, out, errs)
		}
	}
	// The variables work as the flags do, and --tls-server-name replaces the IP in the check.
	code, out, errs := runClient(t, map[string]string{"CLIENT_TRANSPORT": "https", "CLIENT_TLS_CA": files.CA,
		"CLIENT_TLS_CERT": files.ClientCert, "CLIENT_TLS_KEY": files.ClientKey, "CLIENT_TLS_SERVER_NAME": "localhost"},
		"call", "--grape", url, "tlssvc", `"by name"`)
	if code != 0 || strings.TrimSpace(out) != `"by name"` {
		t.Errorf("https by variables: code %d out %q err %q", code, out, errs)
	}

	wrong := []struct {
		what string
		args []string
	}{
		{"no client certificate", []string{"--tls-ca", files.CA}},
		{"client certificate of another CA", []string{"--tls-ca", files.CA, "--tls-cert", otherFiles.ClientCert, "--tls-key", otherFiles.ClientKey}},
		{"server of an untrusted CA", []string{"--tls-ca", otherFiles.CA, "--tls-cert", files.ClientCert, "--tls-key", files.ClientKey}},
		{"server name mismatch", append([]string{"--tls-server-name", "elsewhere.example"}, mtls...)},
	}
	for _, w := range wrong {
		start := time.Now()
		args := append([]string{"call", "--grape", url, "--transport", "https", "--timeout", "3s"}, w.args...)
		code, _, errs := runClient(t, nil, append(args, "tlssvc", `1`)...)
		if code != 1 || !strings.Contains(errs, "tls") && !strings.Contains(errs, "certificate") {
			t.Errorf("%s: code %d, stderr %q; want exit 1 naming tls or the certificate", w.what, code, errs)
		}
		t.Logf("%s: %s", w.what, strings.TrimSpace(errs))
		if d := time.Since(start); d > 3*time.Second+time.Second {
			t.Errorf("%s: took %v, beyond the 3 s timeout", w.what, d)
		}
	}
}

// TestTransportSettingsErrors: an incomplete key pair, TLS files with a
// plain transport and an unknown transport are settings errors naming the
// flag, the variable and what is allowed.
func TestTransportSettingsErrors(t *testing.T) {
	cases := []struct {
		vars map[string]string
		args []string
		want []string
	}{
		{nil, []string{"call", "--transport", "quic", "svc", "1"}, []string{"--transport", "CLIENT_TRANSPORT", "http, https, ws, wss"}},
		{map[string]string{"CLIENT_TLS_CERT": "c.pem"}, []string{"call", "--transport", "https", "svc", "1"}, []string{"--tls-cert", "--tls-key", "CLIENT_TLS_KEY", "both"}},
		{nil, []string{"call", "--tls-ca", "ca.pem", "svc", "1"}, []string{"--transport", "CLIENT_TRANSPORT", "CLIENT_TLS_CA", "https or wss"}},
		{nil, []string{"call", "--transport", "wss", "--tls-ca", "/nonexistent/ca.pem", "svc", "1"}, []string{"--tls-ca", "CLIENT_TLS_CA", "PEM"}},
	}
	for _, c := range cases {
		code, _, errs := runClient(t, c.vars, c.args...)
		if code != 2 {
			t.Fatalf("%v: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errs, w)
			}
		}
	}
}
