package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/test/nodeproc"
)

// Matrix item 5: WebSocket RPC and pub/sub both ways, every peer discovered through Go grapes.

// rpcGoLink returns a Go link on grapeURL, closed when the test ends.
func rpcGoLink(t *testing.T, grapeURL string) *link.Link {
	t.Helper()
	cfg := link.DefaultConfig()
	cfg.Grapes = []string{grapeURL}
	lk, err := link.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	return lk
}

// rpcServe runs serve(ln) on a free loopback port until the test ends, stopping it with
// shutdown, and returns the port.
func rpcServe(t *testing.T, serve func(net.Listener) error, shutdown func(context.Context) error) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = shutdown(ctx)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRPCWSGoClientCallsNodeServer(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const svc = "rpc_ws_node_server"
	_, addr := rpcStartNodeServer(t, gs[0].APIURL(), svc, "ws")
	peers, err := rpcGoLink(t, gs[1].APIURL()).Lookup(context.Background(), svc)
	if err != nil || len(peers) != 1 || peers[0] != addr {
		t.Fatalf("lookup through Go grape: %v %v, want [%s]", peers, err, addr)
	}
	c := transport.NewWSClient(transport.WSClientConfig{Timeout: 5 * time.Second})
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	res, err := c.Call(ctx, addr, svc, "hello")
	if err != nil || string(res) != `"world"` {
		t.Fatalf("ws hello: %s %v", res, err)
	}
	_, err = c.Call(ctx, addr, svc, map[string]any{"fail": "ERR_WS_HANDLER"})
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_WS_HANDLER" {
		t.Fatalf("ws handler error: %v", err)
	}
	// Concurrent calls share one socket and are matched by rid, whatever order Node replies in.
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		wg.Go(func() {
			p := map[string]any{"i": i, "sleep_ms": (20 - i) * 2}
			res, err := c.Call(ctx, addr, svc, p)
			if err != nil || !rpcJSONEqual(res, rpcMustJSON(p)) {
				errs <- fmt.Errorf("call %d: %s %v", i, res, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func rpcMustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestRPCWSNodeClientCallsGoServer(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const svc = "rpc_ws_go_server"
	srv, err := transport.NewWSServer(func(_ context.Context, key string, payload json.RawMessage) (any, error) {
		if string(payload) == `"hello"` {
			return "world", nil
		}
		var p struct{ Fail string }
		if json.Unmarshal(payload, &p) == nil && p.Fail != "" {
			return nil, errors.New(p.Fail)
		}
		return map[string]any{"key": key, "echo": payload}, nil
	}, transport.WSServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	port := rpcServe(t, srv.Serve, srv.Shutdown)
	lk := rpcGoLink(t, gs[0].APIURL())
	lk.StartAnnouncing(svc, port, 500*time.Millisecond)
	rpcWaitVisible(t, gs[1].APIURL(), svc, "127.0.0.1:"+strconv.Itoa(port))

	res := rpcRunNodeClient(t, gs[1].APIURL(), svc, "ws", []rpcOp{
		{Op: "request", Payload: "hello"},
		{Op: "request", Payload: map[string]any{"fail": "ERR_GO_WS"}},
		{Op: "request", Payload: []any{1, "a"}},
		{Op: "map", Payload: "hello"},
		{Op: "request", Payload: "hello", Repeat: 30},
	})
	rpcExpectOK(t, "ws request", res[0], `"world"`)
	if res[1].rpcErr() != "ERR_GO_WS" {
		t.Errorf("ws handler error: %q", res[1].rpcErr())
	}
	rpcExpectOK(t, "ws echo", res[2], `{"key":"`+svc+`","echo":[1,"a"]}`)
	rpcExpectOK(t, "ws map", res[3], `["world"]`)
	if res[4].Err != nil || strings.Count(string(res[4].Res), `"world"`) != 30 {
		t.Errorf("30 concurrent ws requests: err %q res %s", res[4].rpcErr(), res[4].Res)
	}
}

func TestRPCPubSubGoPublisherToNodeSub(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const channel = "rpc_pub_go"
	pub, err := transport.NewPublisher(transport.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	port := rpcServe(t, pub.Serve, pub.Shutdown)
	lk := rpcGoLink(t, gs[0].APIURL())
	lk.StartAnnouncing(channel, port, 500*time.Millisecond)
	rpcWaitVisible(t, gs[1].APIURL(), channel, "127.0.0.1:"+strconv.Itoa(port))

	sub := nodeproc.Start(t, "rpc/sub.js", gs[1].APIURL(), channel)
	if _, err := sub.WaitLine(`"connected":true`, 15*time.Second); err != nil {
		t.Fatalf("Node PeerSub never connected to the Go publisher: %v", err)
	}
	// Publish until the subscriber has printed three distinct messages (it may have connected
	// between two publishes; pub/sub is at-most-once to whoever is connected).
	got := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for n := 0; len(got) < 3; n++ {
		pub.Publish(fmt.Appendf(nil, `{"n":%d,"from":"go"}`, n))
		line, err := sub.WaitLine(`{"msg":`, 500*time.Millisecond)
		if err == nil {
			var m struct{ Msg string }
			if json.Unmarshal([]byte(line), &m) != nil || !strings.HasSuffix(m.Msg, `,"from":"go"}`) {
				t.Fatalf("Node received %q", line)
			}
			got[m.Msg] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("Node PeerSub received %d messages in 10 s", len(got))
		}
	}
}

func TestRPCPubSubNodePubToGoSubscriber(t *testing.T) {
	t.Parallel()
	gs := grapetest.Cluster(t, 2)
	const channel = "rpc_pub_node"
	port := nodeproc.FreeTCPPort(t)
	p := nodeproc.Start(t, "rpc/pub.js", gs[0].APIURL(), channel, strconv.Itoa(port), "50")
	if _, err := p.WaitLine(`"ready":true`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rpcWaitVisible(t, gs[1].APIURL(), channel, addr)

	sub, err := transport.NewSubscriber(rpcGoLink(t, gs[1].APIURL()), channel, transport.SubscriberConfig{LookupInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = sub.Close()
		for range sub.Messages() { // drain until closed: no goroutine left behind
		}
	}()
	last := -1
	timeout := time.After(10 * time.Second)
	for seen := 0; seen < 3; {
		select {
		case m := <-sub.Messages():
			var body struct {
				N    int
				From string
			}
			if m.From != addr || json.Unmarshal(m.Data, &body) != nil || body.From != "node" {
				t.Fatalf("Go subscriber got %q from %s", m.Data, m.From)
			}
			if body.N <= last {
				t.Fatalf("messages out of order: %d after %d", body.N, last)
			}
			last = body.N
			seen++
		case <-timeout:
			t.Fatalf("Go subscriber received %d messages from the Node PeerPub in 10 s", last+1)
		}
	}
}
