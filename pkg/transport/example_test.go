package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// staticPeers resolves every service to a fixed list (a *link.Link does
// the real lookup through a grape).
type staticPeers []string

func (s staticPeers) Lookup(context.Context, string) ([]string, error) { return s, nil }

// A server answering "hello" with "world", called by name through a
// Requester.
func ExampleRequester() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	srv := transport.NewHTTPServer(func(ctx context.Context, key string, payload json.RawMessage) (any, error) {
		var s string
		if json.Unmarshal(payload, &s) == nil && s == "hello" {
			return "world", nil
		}
		return nil, fmt.Errorf("ERR_UNKNOWN_PAYLOAD")
	})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown(context.Background())

	client := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 2 * time.Second})
	defer client.Close()
	req := transport.NewRequester(staticPeers{ln.Addr().String()}, client, transport.RandomPicker{})

	res, err := req.Request(context.Background(), "rpc_test", "hello", transport.RequestOptions{Retry: 2})
	fmt.Println(string(res), err)
	_, err = req.Request(context.Background(), "rpc_test", 42, transport.RequestOptions{})
	fmt.Println(err)
	// Output:
	// "world" <nil>
	// ERR_UNKNOWN_PAYLOAD
}
