package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"

	"github.com/coder/websocket"
)

// dial opens a socket to addr and upgrades it at /ws. The connection under
// the WebSocket is a corkConn, above TLS for wss:// so that a batch is one
// record too. The handshake goes through a transport of its own, which can
// only hand out the one connection dialled here: the socket and its cork
// are then known to belong together.
func (c *WSClient) dial(ctx context.Context, addr string) (*websocket.Conn, *corkConn, error) {
	var cork *corkConn
	dial := func(ctx context.Context, network, hostport string) (net.Conn, error) {
		conn, err := c.dialer.DialContext(ctx, network, hostport)
		if err != nil {
			return nil, err
		}
		if c.tls != nil {
			cfg := c.tls
			if cfg.ServerName == "" {
				// What net/http would verify: the host part of the address.
				host, _, _ := net.SplitHostPort(hostport)
				cfg = cfg.Clone()
				cfg.ServerName = host
			}
			tc := tls.Client(conn, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				_ = conn.Close()
				return nil, err
			}
			conn = tc
		}
		cork = &corkConn{Conn: conn}
		return cork, nil
	}
	tr := &http.Transport{Proxy: nil, DialContext: dial}
	if c.tls != nil {
		tr.DialTLSContext = dial
	}
	ws, _, err := websocket.Dial(ctx, c.scheme+addr+"/ws", &websocket.DialOptions{
		HTTPClient:      &http.Client{Transport: tr},
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, nil, err
	}
	if cork == nil { // not expected: the transport dials through dial above
		_ = ws.CloseNow()
		return nil, nil, errors.New("websocket dial: connection not opened by the client's dialer")
	}
	return ws, cork, nil
}
