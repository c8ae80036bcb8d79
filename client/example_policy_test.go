package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// lowestLatency is a custom policy: of two random eligible peers, the one
// with the lower latency estimate, a peer not measured yet first. It reads
// peers only through client.Peers and client.PeerView.
type lowestLatency struct{}

func (lowestLatency) Pick(ps client.Peers) int {
	x := ps.Random(-1)
	if x < 0 {
		return -1
	}
	y := ps.Random(x)
	if y >= 0 && ps.Peer(y).Latency() < ps.Peer(x).Latency() {
		return y
	}
	return x
}

// A program registers its policies from an init function, as database/sql
// drivers do (registering a name twice panics).
func init() {
	client.RegisterPolicy("lowest-latency", func() client.Policy { return lowestLatency{} },
		"the lower latency of two random peers")
}

// ExampleRegisterPolicy plugs a policy of one's own into the engine: once
// registered (see the init function above) its name is a valid
// Config.Strategy and CLIENT_STRATEGY, and Policies lists it.
func ExampleRegisterPolicy() {
	cfg := client.DefaultConfig()
	cfg.Strategy = "lowest-latency"
	fmt.Println(cfg.Validate())
	for _, p := range client.Policies() {
		if p.Name == "lowest-latency" {
			fmt.Println(p.Name+":", p.Help)
		}
	}
	// Output:
	// <nil>
	// lowest-latency: the lower latency of two random peers
}

// ExampleNew_caller runs the engine over an explicit HTTP Caller, shared
// by two clients: the default adaptive one and Node's plain behaviour
// (PlainConfig). Setting TLS in HTTPClientConfig gives HTTPS or mutual TLS
// with the same code; a *transport.WSClient is a Caller for WebSocket
// services.
func ExampleNew_caller() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := transport.NewHTTPServer(func(_ context.Context, _ string, p json.RawMessage) (any, error) { return p, nil }, transport.HTTPServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown(context.Background()); <-done }()

	wire := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 2 * time.Second})
	defer wire.Close() // a Caller passed in Config is the caller's to close
	peers := fixedPeers{ln.Addr().String()}

	for _, cfg := range []client.Config{client.DefaultConfig(), client.PlainConfig()} {
		cfg.Caller = wire
		c, err := client.New(peers, cfg)
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := c.Request(context.Background(), "rpc_echo", map[string]int{"n": 1})
		fmt.Println(cfg.Strategy, string(res), err)
		_ = c.Close()
	}
	// Output:
	// adaptive {"n":1} <nil>
	// random {"n":1} <nil>
}
