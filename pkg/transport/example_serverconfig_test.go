package transport_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/pkg/validate"
)

// One port serving the HTTP and the WebSocket RPC wire, as a service host
// does: the WSServer is the HTTPServer's Upgrade. Fields left zero take
// the defaults; a negative one is refused with a *validate.FieldError that
// names it.
func ExampleHTTPServerConfig() {
	echo := func(_ context.Context, _ string, p json.RawMessage) (any, error) { return p, nil }

	_, err := transport.NewHTTPServer(echo, transport.HTTPServerConfig{MaxBodyBytes: -1})
	var fe *validate.FieldError
	fmt.Println(errors.As(err, &fe), fe.Field, fe.Allowed)

	ws, _ := transport.NewWSServer(echo, transport.WSServerConfig{MaxInFlight: 32})
	cfg := transport.DefaultHTTPServerConfig()
	cfg.MaxBodyBytes = 1 << 20
	cfg.Upgrade = ws
	srv, _ := transport.NewHTTPServer(echo, cfg)

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go func() { _ = srv.Serve(ln) }()
	defer ws.Shutdown(context.Background())
	defer srv.Shutdown(context.Background())
	addr := ln.Addr().String()

	hc := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 2 * time.Second})
	defer hc.Close()
	wc := transport.NewWSClient(transport.WSClientConfig{Timeout: 2 * time.Second})
	defer wc.Close()
	overHTTP, _ := hc.Call(context.Background(), addr, "echo", "over http", transport.CallOptions{})
	overWS, _ := wc.Call(context.Background(), addr, "echo", "over ws")
	fmt.Println(string(overHTTP), string(overWS))
	// Output:
	// true MaxBodyBytes >= 0
	// "over http" "over ws"
}
