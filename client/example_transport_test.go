package client_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/internal/testpki"
	"github.com/grenache-go/grenache/pkg/transport"
)

// greet answers with the name of the client certificate when there is one.
func greet(ctx context.Context, _ string, payload json.RawMessage) (any, error) {
	who := "stranger"
	if certs := transport.PeerCertificates(ctx); len(certs) > 0 {
		who = certs[0].Subject.CommonName
	}
	return fmt.Sprintf("hello %s, you sent %s", who, payload), nil
}

// serveLoopback runs serve on a loopback port and returns the address and
// a stop function.
func serveLoopback(serve func(net.Listener) error, shutdown func(context.Context) error) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = serve(ln) }()
	return ln.Addr().String(), func() { _ = shutdown(context.Background()); <-done }, nil
}

// ExampleNew_ws calls a Grenache WebSocket RPC server (Node's
// grenache-nodejs-ws speaks the same wire) through the adaptive engine:
// one socket per peer, concurrent requests multiplexed on it.
func ExampleNew_ws() {
	srv, err := transport.NewWSServer(greet, transport.WSServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	addr, stop, err := serveLoopback(srv.Serve, srv.Shutdown)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	cfg := client.DefaultConfig()
	cfg.Transport = client.TransportWS // CLIENT_TRANSPORT=ws, --transport ws
	c, err := client.New(fixedPeers{addr}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close() // closes the sockets New opened

	res, err := c.Request(context.Background(), "rpc_greet", "over ws")
	fmt.Println(string(res), err)
	// Output:
	// "hello stranger, you sent \"over ws\"" <nil>
}

// ExampleNew_tls calls an HTTPS server that requires a client certificate
// (Node's grenache-nodejs-http `secure` option) through the adaptive
// engine. The binaries build cfg.TLS from --tls-ca, --tls-cert, --tls-key
// and --tls-server-name (transport.LoadClientTLS); the throwaway CA here
// stands in for those files.
func ExampleNew_tls() {
	pki, err := testpki.New("example CA")
	if err != nil {
		fmt.Println(err)
		return
	}
	srv, err := transport.NewHTTPServer(greet, transport.HTTPServerConfig{TLS: &tls.Config{
		Certificates: []tls.Certificate{pki.Server},
		ClientCAs:    pki.Pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	addr, stop, err := serveLoopback(srv.Serve, srv.Shutdown)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	cfg := client.DefaultConfig()
	cfg.Transport = client.TransportHTTPS // or TransportWSS for WebSocket over TLS
	cfg.TLS = &tls.Config{RootCAs: pki.Pool, Certificates: []tls.Certificate{pki.Client}}
	c, err := client.New(fixedPeers{addr}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	res, err := c.Request(context.Background(), "rpc_greet", "over mTLS")
	fmt.Println(string(res), err)

	// Without a client certificate the server refuses the handshake, and
	// the error says so.
	cfg.TLS = &tls.Config{RootCAs: pki.Pool}
	anon, err := client.New(fixedPeers{addr}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer anon.Close()
	_, err = anon.Request(context.Background(), "rpc_greet", "anonymous")
	fmt.Println(strings.Contains(err.Error(), "tls: certificate required"))
	// Output:
	// "hello client of example CA, you sent \"over mTLS\"" <nil>
	// true
}

// ExampleConfig_callers reaches two services over two wires from one
// client: Callers overrides the default transport for the services it
// names (a Grenache lookup gives host:port only, so which wire a service
// speaks is configuration).
func ExampleConfig_callers() {
	httpSrv, err := transport.NewHTTPServer(greet, transport.HTTPServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	httpAddr, stopHTTP, err := serveLoopback(httpSrv.Serve, httpSrv.Shutdown)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stopHTTP()
	wsSrv, err := transport.NewWSServer(greet, transport.WSServerConfig{})
	if err != nil {
		fmt.Println(err)
		return
	}
	wsAddr, stopWS, err := serveLoopback(wsSrv.Serve, wsSrv.Shutdown)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stopWS()

	ws := transport.NewWSClient(transport.WSClientConfig{})
	defer ws.Close()                                              // a Callers entry is its owner's to close
	cfg := client.DefaultConfig()                                 // HTTP for every service...
	cfg.Callers = map[string]transport.Caller{"rpc_ws_greet": ws} // ...but this one
	c, err := client.New(byService{"rpc_greet": {httpAddr}, "rpc_ws_greet": {wsAddr}}, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()

	for _, svc := range []string{"rpc_greet", "rpc_ws_greet"} {
		res, err := c.Request(context.Background(), svc, svc)
		fmt.Println(string(res), err)
	}
	// Output:
	// "hello stranger, you sent \"rpc_greet\"" <nil>
	// "hello stranger, you sent \"rpc_ws_greet\"" <nil>
}

// byService is a transport.Resolver with fixed addresses per service.
type byService map[string][]string

func (b byService) Lookup(_ context.Context, name string) ([]string, error) { return b[name], nil }
