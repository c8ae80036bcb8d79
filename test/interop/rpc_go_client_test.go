package interop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Matrix item 4: the Go client (the client engine with PlainConfig, Node's
// behaviour, over HTTPClient) calling Node PeerRPCServers: results, handler
// errors, gzip, map, timeouts.

// rpcGoClients returns two plain clients resolving through grapeURL over one
// HTTP client, the second gzipping its requests.
func rpcGoClients(t *testing.T, grapeURL string) (plain, gz *client.Client, hc *transport.HTTPClient) {
	t.Helper()
	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{grapeURL}
	lk, err := link.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	hc = transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 5 * time.Second})
	t.Cleanup(hc.Close)
	mk := func(compress bool) *client.Client {
		cfg := client.PlainConfig()
		cfg.Caller, cfg.Compress = hc, compress
		c, err := client.New(lk, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	return mk(false), mk(true), hc
}

func TestRPCGoClientCallsNodeServers(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	const svc = "rpc_node_server"
	_, a1 := rpcStartNodeServer(t, grape, svc, "http")
	_, a2 := rpcStartNodeServer(t, grape, svc, "http")
	rpcWaitVisible(t, grape, svc, a1, a2)
	q, qz, hc := rpcGoClients(t, grape)
	ctx := context.Background()

	res, err := q.Request(ctx, svc, "hello")
	if err != nil || string(res) != `"world"` {
		t.Fatalf("request hello: %s %v", res, err)
	}
	res, err = qz.Request(ctx, svc, map[string]any{"a": 1, "s": "x"})
	if err != nil || !rpcJSONEqual(res, []byte(`{"a":1,"s":"x"}`)) {
		t.Fatalf("request gzip echo: %s %v", res, err)
	}
	big := strings.Repeat("y", 50000)
	res, err = qz.Request(ctx, svc, big)
	if err != nil || string(res) != `"`+big+`"` {
		t.Fatalf("request 50 kB gzip echo: %.40s %v", res, err)
	}

	_, err = q.Request(ctx, svc, map[string]any{"fail": "ERR_SOMETHING_FAILED"})
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_SOMETHING_FAILED" {
		t.Fatalf("handler error: %v", err)
	}
	_, err = qz.Request(ctx, svc, map[string]any{"fail": "ERR_GZIPPED_FAILURE"})
	if !errors.As(err, &re) || re.Msg != "ERR_GZIPPED_FAILURE" {
		t.Fatalf("handler error (gzip): %v", err)
	}

	all, err := qz.Map(ctx, svc, map[string]any{"want_key": true})
	if err != nil || len(all) != 2 {
		t.Fatalf("map: %v %v", all, err)
	}
	for _, r := range all {
		if !rpcJSONEqual(r, []byte(`{"key":"`+svc+`","payload":{"want_key":true}}`)) {
			t.Errorf("map element %s", r)
		}
	}

	// Direct calls to each Node server: both answer, and a slow one times out on our side.
	for _, addr := range []string{a1, a2} {
		res, err := hc.Call(ctx, addr, svc, "hello", transport.CallOptions{Compress: true})
		if err != nil || string(res) != `"world"` {
			t.Errorf("call %s: %s %v", addr, res, err)
		}
	}
	start := time.Now()
	_, err = hc.Call(ctx, a1, svc, map[string]any{"sleep_ms": 2000}, transport.CallOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, transport.ErrTimeout) || time.Since(start) > time.Second {
		t.Fatalf("slow Node server: %v after %v, want ErrTimeout after ~200ms", err, time.Since(start))
	}

	if _, err := q.Request(ctx, "rpc_not_announced", "x"); err == nil {
		t.Fatal("request to an unannounced service succeeded")
	}
}
