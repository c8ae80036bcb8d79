package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/test/nodeproc"
)

// Quick WebSocket interop checks against the pinned grenache-nodejs-ws,
// using the Node fixtures in test/interop/node/rpc. The HTTP RPC matrix
// lives in test/interop.

func nodeGrapeLink(t *testing.T) (string, *link.Link) {
	t.Helper()
	g := nodeproc.StartGrape(t, nodeproc.FreeUDPPort(t), nodeproc.FreeTCPPort(t), nil)
	cfg := link.DefaultConfig()
	cfg.Grapes = []string{g.APIURL()}
	cfg.LookupCacheTTL = 0
	l, err := link.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return g.APIURL(), l
}

func waitLookup(t *testing.T, l *link.Link, name string, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		peers, _ := l.Lookup(context.Background(), name)
		for _, p := range peers {
			if p == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never announced at %s (got %v)", name, want, peers)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNodeWSServerFromGoClient(t *testing.T) {
	grape, _ := nodeGrapeLink(t)
	port := nodeproc.FreeTCPPort(t)
	srv := nodeproc.Start(t, "rpc/server.js", grape, "ws_rpc_test", strconv.Itoa(port), "ws")
	if _, err := srv.WaitLine(`"ready"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	c := newTestWSClient(t, WSClientConfig{Timeout: 5 * time.Second})
	ctx := context.Background()
	if res, err := c.Call(ctx, addr, "ws_rpc_test", "hello"); err != nil || string(res) != `"world"` {
		t.Fatalf("hello: %s %v", res, err)
	}
	if res, err := c.Call(ctx, addr, "ws_rpc_test", map[string]any{"a": 1, "s": "x"}); err != nil || string(res) != `{"a":1,"s":"x"}` {
		t.Fatalf("echo: %s %v", res, err)
	}
	_, err := c.Call(ctx, addr, "ws_rpc_test", map[string]string{"fail": "ERR_NODE_WS"})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_NODE_WS" {
		t.Fatalf("fail: %v", err)
	}
}

func TestNodeWSClientToGoServer(t *testing.T) {
	grape, l := nodeGrapeLink(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewWSServer(testHandler, WSServerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() { _ = s.Shutdown(context.Background()); <-done }()
	port := ln.Addr().(*net.TCPAddr).Port
	l.StartAnnouncing("ws_go_srv", port, 200*time.Millisecond)
	waitLookup(t, l, "ws_go_srv", "127.0.0.1:"+strconv.Itoa(port))

	ops := `[{"op":"request","payload":"hello"},{"op":"request","payload":{"fail":true}},{"op":"request","payload":{"x":[1,2]},"repeat":20}]`
	cl := nodeproc.Start(t, "rpc/client.js", grape, "ws_go_srv", "ws", ops)
	want := []string{
		`"err":null,"res":"world"`,
		`"err":"ERR_SOMETHING_FAILED"`,
		`"err":null,"res":[{"x":[1,2]}`,
	}
	for i, w := range want {
		line, err := cl.WaitLine(`"i":`+strconv.Itoa(i), 15*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(line, w) {
			t.Fatalf("op %d: %s, want %s", i, line, w)
		}
	}
}

func TestNodePublisherToGoSubscriber(t *testing.T) {
	grape, l := nodeGrapeLink(t)
	port := nodeproc.FreeTCPPort(t)
	pub := nodeproc.Start(t, "rpc/pub.js", grape, "ws_pub_node", strconv.Itoa(port), "50")
	if _, err := pub.WaitLine(`"ready"`, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitLookup(t, l, "ws_pub_node", "127.0.0.1:"+strconv.Itoa(port))
	s, err := NewSubscriber(l, "ws_pub_node", SubscriberConfig{LookupInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	select {
	case m := <-s.Messages():
		var v struct {
			N    int    `json:"n"`
			From string `json:"from"`
		}
		if err := json.Unmarshal(m.Data, &v); err != nil || v.From != "node" {
			t.Fatalf("message %q: %v", m.Data, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message from the Node publisher")
	}
}

func TestGoPublisherToNodeSubscriber(t *testing.T) {
	grape, l := nodeGrapeLink(t)
	addr, p, _ := startPublisher(t, "127.0.0.1:0")
	port, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	l.StartAnnouncing("ws_pub_go", port, 200*time.Millisecond)
	waitLookup(t, l, "ws_pub_go", addr)
	sub := nodeproc.Start(t, "rpc/sub.js", grape, "ws_pub_go")
	if _, err := sub.WaitLine(`"connected"`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	pubDone := make(chan struct{})
	go func() {
		defer close(pubDone)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				p.Publish([]byte(`{"n":3,"hint":"gossip"}`))
			}
		}
	}()
	line, err := sub.WaitLine(`"msg"`, 10*time.Second)
	close(stop)
	<-pubDone
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, `{\"n\":3,\"hint\":\"gossip\"}`) {
		t.Fatalf("Node subscriber got %s", line)
	}
}
