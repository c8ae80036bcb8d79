package interop

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/internal/testpki"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/worker"
)

// Issue 14, point 2: the adaptive client on every transport against Node servers, and the
// Go worker serving WS and mutual TLS to Node clients. Certificates are generated per test.

// rpcPKI generates a CA with a server and a client certificate, writes them to a temp dir
// and returns them with the secure JSON the Node fixtures take, for the server or the
// client side.
func rpcPKI(t *testing.T, name string) (pki *testpki.PKI, serverJSON, clientJSON string) {
	t.Helper()
	pki, err := testpki.New(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := pki.Write(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sj, _ := json.Marshal(map[string]string{"key": f.ServerKey, "cert": f.ServerCert, "ca": f.CA})
	cj, _ := json.Marshal(map[string]string{"key": f.ClientKey, "cert": f.ClientCert, "ca": f.CA})
	return pki, string(sj), string(cj)
}

// rpcAdaptive is the adaptive client (default policy, breakers, retries) over transport tr.
func rpcAdaptive(t *testing.T, grapeURL, tr string, tc *tls.Config) *client.Client {
	t.Helper()
	cfg := client.DefaultConfig()
	cfg.Transport = tr
	cfg.TLS = tc
	cfg.RequestTimeout = 5 * time.Second
	c, err := client.New(rpcGoLink(t, grapeURL), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// rpcExpectCalls checks a request, a handler error and a map against node/rpc/server.js.
func rpcExpectCalls(t *testing.T, c *client.Client, svc string) {
	t.Helper()
	ctx := context.Background()
	res, err := c.Request(ctx, svc, "hello")
	if err != nil || string(res) != `"world"` {
		t.Fatalf("request: %s %v", res, err)
	}
	_, err = c.Request(ctx, svc, map[string]any{"fail": "ERR_NODE_HANDLER"})
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_NODE_HANDLER" {
		t.Errorf("handler error: %v", err)
	}
	all, err := c.Map(ctx, svc, map[string]any{"sleep_ms": 5, "n": 1})
	if err != nil || len(all) != 1 || !rpcJSONEqual(all[0], []byte(`{"sleep_ms":5,"n":1}`)) {
		t.Errorf("map: %s %v", all, err)
	}
	st := c.Stats(svc)
	if len(st) != 1 || st[0].Successes < 2 {
		t.Errorf("the engine did not record the calls: %+v", st)
	}
}

func TestRPCAdaptiveClientWSToNodeServer(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const svc = "rpc_adaptive_ws_node"
	rpcStartNodeServer(t, gs[0].APIURL(), svc, "ws")
	rpcExpectCalls(t, rpcAdaptive(t, gs[1].APIURL(), client.TransportWS, nil), svc)
}

func TestRPCAdaptiveClientMutualTLSToNodeServer(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const svc = "rpc_adaptive_mtls_node"
	pki, serverJSON, _ := rpcPKI(t, "interop CA")
	rpcStartNodeServer(t, gs[0].APIURL(), svc, "http", serverJSON)
	rpcExpectCalls(t, rpcAdaptive(t, gs[1].APIURL(), client.TransportHTTPS, pki.ClientTLS(true)), svc)

	// Wrong certificates fail with an error naming TLS or the certificate, well within the
	// request timeout (5 s), instead of hanging.
	other, _, _ := rpcPKI(t, "another CA")
	untrusted := pki.ClientTLS(true)
	untrusted.RootCAs = other.Pool
	foreignCert := pki.ClientTLS(false)
	foreignCert.Certificates = other.ClientTLS(true).Certificates
	for _, w := range []struct {
		what string
		tc   *tls.Config
	}{
		{"client certificate of another CA", foreignCert},
		{"no client certificate", pki.ClientTLS(false)},
		{"server certificate of an untrusted CA", untrusted},
	} {
		c := rpcAdaptive(t, gs[1].APIURL(), client.TransportHTTPS, w.tc)
		start := time.Now()
		_, err := c.Request(context.Background(), svc, "hello")
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "tls") && !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: err %v, want one naming tls or the certificate", w.what, err)
		}
		if took > 4*time.Second {
			t.Errorf("%s: failed after %v, want well within the 5 s timeout", w.what, took)
		}
		t.Logf("%s: %v (%v)", w.what, err, took.Round(time.Millisecond))
	}
}

func TestRPCGoWorkerServesWSAndTLSToNodeClients(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	pki, _, clientJSON := rpcPKI(t, "worker CA")
	// WebSocket is on by default, on the RPC port. No drain grace: nobody calls after the test.
	rpcStartWorker(t, gs[0].APIURL(), "rpc_worker_ws", func(c *worker.Config) { c.DrainGrace = 0 })
	rpcStartWorker(t, gs[0].APIURL(), "rpc_worker_mtls", func(c *worker.Config) { c.TLS, c.DrainGrace = pki.ServerTLS(true), 0 })
	rpcWaitVisible(t, gs[1].APIURL(), "rpc_worker_ws")
	rpcWaitVisible(t, gs[1].APIURL(), "rpc_worker_mtls")

	ops := []rpcOp{
		{Op: "request", Payload: map[string]any{"job": "echo", "n": 1}},
		{Op: "map", Payload: []any{1, "a"}},
		{Op: "request", Payload: "hello", Repeat: 20},
	}
	for _, tc := range []struct{ svc, kind, secure string }{
		{"rpc_worker_ws", "ws", ""},
		{"rpc_worker_mtls", "http", clientJSON},
	} {
		var extra []string
		if tc.secure != "" {
			extra = []string{tc.secure}
		}
		res := rpcRunNodeClient(t, gs[1].APIURL(), tc.svc, tc.kind, ops, extra...)
		rpcExpectOK(t, tc.svc+" request", res[0], `{"job":"echo","n":1}`)
		rpcExpectOK(t, tc.svc+" map", res[1], `[[1,"a"]]`)
		if res[2].Err != nil || strings.Count(string(res[2].Res), `"hello"`) != 20 {
			t.Errorf("%s: 20 concurrent requests: err %q res %s", tc.svc, res[2].rpcErr(), res[2].Res)
		}
	}
}
