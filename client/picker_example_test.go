package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// ExampleNewPicker plugs the adaptive strategy, metrics and breakers into
// transport's Requester (a *link.Link is the usual resolver; a Client's own
// Picker method shares its state instead).
func ExampleNewPicker() {
	echo := func(_ context.Context, _ string, payload json.RawMessage) (any, error) { return payload, nil }
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := transport.NewHTTPServer(echo)
	served := make(chan struct{})
	go func() { defer close(served); _ = srv.Serve(ln) }()
	defer func() { _ = srv.Shutdown(context.Background()); <-served }()

	picker, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	hc := transport.NewHTTPClient(transport.HTTPClientConfig{})
	defer hc.Close()
	q := transport.NewRequester(pickerPeers{ln.Addr().String()}, hc, picker)

	res, err := q.Request(context.Background(), "rpc_echo", "hi", transport.RequestOptions{Retry: 2})
	fmt.Println(string(res), err)
	st := picker.Stats("rpc_echo")[0]
	fmt.Println(st.State, st.Attempts, st.Successes)
	// Output:
	// "hi" <nil>
	// CLOSED 1 1
}
