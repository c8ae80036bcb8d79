package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// A server answering "hello" with "world", called over the wire directly.
// Requests by service name, with peer choice, breakers and retries, go
// through package client, which takes an HTTPClient as its Caller.
func ExampleHTTPClient() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv, _ := transport.NewHTTPServer(func(ctx context.Context, key string, payload json.RawMessage) (any, error) {
		var s string
		if json.Unmarshal(payload, &s) == nil && s == "hello" {
			return "world", nil
		}
		return nil, fmt.Errorf("ERR_UNKNOWN_PAYLOAD")
	}, transport.HTTPServerConfig{})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())

	client := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 2 * time.Second})
	defer client.Close()
	addr := ln.Addr().String()

	res, err := client.Call(context.Background(), addr, "rpc_test", "hello", transport.CallOptions{})
	fmt.Println(string(res), err)
	_, err = client.CallRaw(context.Background(), addr, "rpc_test", json.RawMessage(`42`), transport.CallOptions{})
	fmt.Println(err)
	// Output:
	// "world" <nil>
	// ERR_UNKNOWN_PAYLOAD
}
