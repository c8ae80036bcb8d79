package interop

import (
	"strings"
	"testing"

	"github.com/grenache-go/grenache/grape/grapetest"
)

// Matrix item 2: Node link, Node RPC servers and Node RPC clients working through Go grapes
// only, over HTTP and WebSocket transports; a Go worker joins the same service so one Node
// map fans out to a Node server and a Go worker at once.

func TestRPCNodePeersThroughGoGrapes(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	announceVia, lookupVia := gs[0].APIURL(), gs[1].APIURL()

	for _, kind := range []string{"http", "ws"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			svc := "rpc_gograpes_" + kind
			_, addr := rpcStartNodeServer(t, announceVia, svc, kind)
			rpcWaitVisible(t, lookupVia, svc, addr)
			res := rpcRunNodeClient(t, lookupVia, svc, kind, []rpcOp{
				{Op: "request", Payload: "hello"},
				{Op: "request", Payload: map[string]any{"fail": "ERR_THROUGH_GO_GRAPES"}},
				{Op: "map", Payload: "hello"},
				{Op: "request", Payload: map[string]any{"nested": []any{1, "two", nil}}, Compress: kind == "http"},
			})
			rpcExpectOK(t, "request hello", res[0], `"world"`)
			if res[1].rpcErr() != "ERR_THROUGH_GO_GRAPES" {
				t.Errorf("handler error: %q", res[1].rpcErr())
			}
			rpcExpectOK(t, "map", res[2], `["world"]`)
			rpcExpectOK(t, "echo", res[3], `{"nested":[1,"two",null]}`)
		})
	}

	t.Run("mixed map", func(t *testing.T) {
		t.Parallel()
		const svc = "rpc_gograpes_mixed"
		_, nodeAddr := rpcStartNodeServer(t, announceVia, svc, "http")
		w := rpcStartWorker(t, announceVia, svc, nil)
		rpcWaitVisible(t, lookupVia, svc, nodeAddr, w.Addr())
		res := rpcRunNodeClient(t, lookupVia, svc, "http", []rpcOp{
			{Op: "map", Payload: "hello", Compress: true},
		})
		// The Node server answers "world", the Go worker echoes "hello"; order follows the lookup.
		if res[0].Err != nil || !(strings.Contains(string(res[0].Res), `"world"`) && strings.Contains(string(res[0].Res), `"hello"`)) {
			t.Errorf("mixed map: err %q res %s", res[0].rpcErr(), res[0].Res)
		}
	})
}
