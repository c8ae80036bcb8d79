package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"

	"github.com/coder/websocket"

	"github.com/grenache-go/grenache/internal/testpki"
	"github.com/grenache-go/grenache/pkg/transport"
)

// -transport tls and ws: the same closed loop over HTTPS with mutual TLS or over
// WebSocket, for the Go client against a Go worker beside a bare Go pair on the
// same wire (scripts/bench-rpc-transports.sh).

// clientTLS loads the client side of mutual TLS from the files testpki wrote in dir.
func clientTLS(dir string) (*tls.Config, error) {
	return transport.LoadClientTLS(filepath.Join(dir, "ca.pem"), filepath.Join(dir, "client.pem"),
		filepath.Join(dir, "client-key.pem"), "")
}

// engineCaller is the Caller the Go client engine uses for transport tr.
func engineCaller(tr, pkiDir string) (transport.Caller, func(), error) {
	switch tr {
	case "http":
		hc := transport.NewHTTPClient(transport.HTTPClientConfig{})
		return hc, hc.Close, nil
	case "tls":
		tc, err := clientTLS(pkiDir)
		if err != nil {
			return nil, nil, err
		}
		hc := transport.NewHTTPClient(transport.HTTPClientConfig{TLS: tc})
		return hc, hc.Close, nil
	case "ws":
		ws := transport.NewWSClient(transport.WSClientConfig{})
		return ws, func() { _ = ws.Close() }, nil
	}
	return nil, nil, fmt.Errorf("unknown -transport %q; allowed http, tls, ws", tr)
}

// bareWS is the ceiling of the WebSocket rows: one socket per in-flight slot,
// each writing one frame and reading the echoed frame, no rid matching.
type bareWS struct {
	url   string
	mu    sync.Mutex
	free  []*websocket.Conn
	conns []*websocket.Conn
}

func (b *bareWS) call(ctx context.Context, body []byte) error {
	b.mu.Lock()
	var c *websocket.Conn
	if n := len(b.free); n > 0 {
		c, b.free = b.free[n-1], b.free[:n-1]
	}
	b.mu.Unlock()
	if c == nil {
		var err error
		c, _, err = websocket.Dial(ctx, b.url, &websocket.DialOptions{HTTPClient: &http.Client{}, CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.conns = append(b.conns, c)
		b.mu.Unlock()
	}
	if err := c.Write(ctx, websocket.MessageText, body); err != nil {
		return err
	}
	_, msg, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if len(msg) == 0 {
		return errors.New("empty frame")
	}
	b.mu.Lock()
	b.free = append(b.free, c)
	b.mu.Unlock()
	return nil
}

func (b *bareWS) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		_ = c.CloseNow()
	}
}

// wsURL turns the bare target http://host:port/ into ws://host:port/ws.
func wsURL(target string) string {
	return "ws://" + strings.TrimSuffix(strings.TrimPrefix(target, "http://"), "/") + "/ws"
}

// writeTestPKI writes the certificates of the -transport tls rows.
func writeTestPKI(dir string) error {
	pki, err := testpki.New("bench-rpc CA")
	if err != nil {
		return err
	}
	_, err = pki.Write(dir)
	return err
}
