package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// fixedPeers is a transport.Resolver answering every lookup with the same
// addresses; real programs pass a *link.Link instead.
type fixedPeers []string

func (f fixedPeers) Lookup(context.Context, string) ([]string, error) { return f, nil }

// Example starts a Grenache RPC server on loopback and calls it through the
// adaptive client.
func Example() {
	upper := func(ctx context.Context, key string, payload json.RawMessage) (any, error) {
		var s string
		if err := json.Unmarshal(payload, &s); err != nil {
			return nil, err
		}
		return strings.ToUpper(s), nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := transport.NewHTTPServer(upper, transport.HTTPServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown(context.Background()); <-done }()

	cfg := client.DefaultConfig() // or client.PlainConfig() for Node's behaviour
	c, err := client.New(fixedPeers{ln.Addr().String()}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	res, err := c.Request(context.Background(), "rpc_upper", "hello")
	fmt.Println(string(res), err)
	all, err := c.Map(context.Background(), "rpc_upper", "grenache")
	fmt.Println(len(all), string(all[0]), err)
	st := c.Stats("rpc_upper")[0]
	fmt.Println(st.State, st.Attempts, st.Successes)
	// Output:
	// "HELLO" <nil>
	// 1 "GRENACHE" <nil>
	// CLOSED 2 2
}

// Validate (New calls it) names the Config field and what it allows; the
// client binary reports the same error under its flag and variable.
func ExampleConfig_Validate() {
	cfg := client.DefaultConfig()
	cfg.BreakerMaxCooldown = 5 * time.Second // below the 10 s cooldown
	err := cfg.Validate()
	var ce *client.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Field)
	}
	fmt.Println(err)
	// Output:
	// BreakerMaxCooldown
	// invalid client.Config.BreakerMaxCooldown 5s; allowed the breaker cooldown (10s)..24h0m0s
}
