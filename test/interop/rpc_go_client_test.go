package interop

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Matrix item 4: the Go client (link + transport.Requester / HTTPClient) calling Node
// PeerRPCServers: results, handler errors, gzip, map, timeouts.

// rpcGoRequester returns a Requester resolving through grapeURL with Node's random picking.
func rpcGoRequester(t *testing.T, grapeURL string) (*transport.Requester, *transport.HTTPClient) {
	t.Helper()
	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{grapeURL}
	lk, err := link.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	hc := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 5 * time.Second})
	t.Cleanup(hc.Close)
	return transport.NewRequester(lk, hc, transport.RandomPicker{}), hc
}

func TestRPCGoClientCallsNodeServers(t *testing.T) {
	t.Parallel()
	grape := rpcNodeGrape(t)
	const svc = "rpc_node_server"
	_, a1 := rpcStartNodeServer(t, grape, svc, "http")
	_, a2 := rpcStartNodeServer(t, grape, svc, "http")
	rpcWaitVisible(t, grape, svc, a1, a2)
	q, hc := rpcGoRequester(t, grape)
	ctx := context.Background()

	res, err := q.Request(ctx, svc, "hello", transport.RequestOptions{})
	if err != nil || string(res) != `"world"` {
		t.Fatalf("request hello: %s %v", res, err)
	}
	res, err = q.Request(ctx, svc, map[string]any{"a": 1, "s": "x"}, transport.RequestOptions{Compress: true})
	if err != nil || !rpcJSONEqual(res, []byte(`{"a":1,"s":"x"}`)) {
		t.Fatalf("request gzip echo: %s %v", res, err)
	}
	big := strings.Repeat("y", 50000)
	res, err = q.Request(ctx, svc, big, transport.RequestOptions{Compress: true})
	if err != nil || string(res) != `"`+big+`"` {
		t.Fatalf("request 50 kB gzip echo: %.40s %v", res, err)
	}

	_, err = q.Request(ctx, svc, map[string]any{"fail": "ERR_SOMETHING_FAILED"}, transport.RequestOptions{})
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_SOMETHING_FAILED" {
		t.Fatalf("handler error: %v", err)
	}
	_, err = q.Request(ctx, svc, map[string]any{"fail": "ERR_GZIPPED_FAILURE"}, transport.RequestOptions{Compress: true})
	if !errors.As(err, &re) || re.Msg != "ERR_GZIPPED_FAILURE" {
		t.Fatalf("handler error (gzip): %v", err)
	}

	all, err := q.Map(ctx, svc, map[string]any{"want_key": true}, transport.RequestOptions{Compress: true})
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

	if _, err := q.Request(ctx, "rpc_not_announced", "x", transport.RequestOptions{}); err == nil {
		t.Fatal("request to an unannounced service succeeded")
	}
}
