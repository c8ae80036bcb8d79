package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// WSServer serves Grenache RPC over WebSocket, wire-compatible with
// grenache-nodejs-ws: each text (or binary) frame [rid, key, payload] gets
// one text frame [rid, err|null, result] on the same socket. Frames that do
// not parse are ignored, as Node does. Requests on one socket run
// concurrently (up to a per-connection limit), so replies may come out of
// order; clients match them by rid.
type WSServer struct {
	h           Handler
	hub         *wsHub
	maxInFlight int
	log         zerolog.Logger
	inflight    inflight
}

// WSServerOption configures a WSServer.
type WSServerOption func(*WSServer)

// WithWSTLS serves wss:// with cfg.
func WithWSTLS(cfg *tls.Config) WSServerOption { return func(s *WSServer) { s.hub.tls = cfg } }

// WithWSMaxMessageBytes bounds one incoming frame (default 8 MiB).
func WithWSMaxMessageBytes(n int64) WSServerOption { return func(s *WSServer) { s.hub.maxMsg = n } }

// WithWSMaxInFlight bounds concurrent requests per connection (default
// 128); when reached, the server stops reading that socket until one
// finishes, pushing back on the client instead of queueing without bound.
func WithWSMaxInFlight(n int) WSServerOption { return func(s *WSServer) { s.maxInFlight = n } }

// WithWSLogger sets the logger for handler panics.
func WithWSLogger(l zerolog.Logger) WSServerOption { return func(s *WSServer) { s.log = l } }

// NewWSServer returns a WebSocket RPC server dispatching to h.
func NewWSServer(h Handler, opts ...WSServerOption) *WSServer {
	s := &WSServer{h: h, maxInFlight: 128, log: zerolog.Nop()}
	s.hub = newWSHub(s.serveConn)
	for _, o := range opts {
		o(s)
	}
	s.hub.srv.ErrorLog = httpErrorLog(s.log)
	return s
}

// Serve accepts connections on ln until Shutdown (then returns nil).
func (s *WSServer) Serve(ln net.Listener) error { return s.hub.serve(ln) }

// ServeHTTP upgrades any request to a WebSocket RPC connection, so the
// server can be mounted in another mux.
func (s *WSServer) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.hub.ServeHTTP(w, r) }

// Shutdown stops accepting, waits for in-flight requests to be answered
// (or ctx to end), then closes every connection.
func (s *WSServer) Shutdown(ctx context.Context) error {
	return s.hub.shutdown(ctx, s.inflight.drain)
}

// wsWriteTimeout bounds writing one reply, so a peer that stops reading
// cannot park handler goroutines forever.
const wsWriteTimeout = 10 * time.Second

func (s *WSServer) serveConn(ctx context.Context, c *websocket.Conn, r *http.Request) {
	// Handlers get a context that ends with the connection (their reply
	// could not be delivered anyway), not with the server: Shutdown drains.
	base := context.Background()
	if r.TLS != nil {
		base = withPeerCerts(base, r.TLS.PeerCertificates)
	}
	connCtx, cancel := context.WithCancel(base)
	sem := make(chan struct{}, s.maxInFlight)
	var conn sync.WaitGroup
	defer conn.Wait()
	defer cancel()
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			return
		}
		var el [3][]byte
		if !json.Valid(msg) {
			continue
		}
		n, err := splitArray(msg, el[:])
		if err != nil {
			continue
		}
		rid := el[0]
		key, ok := jsonString(el[1])
		if !ok && el[1] != nil {
			key = string(el[1])
		}
		payload := json.RawMessage(nullJSON)
		if n > 2 {
			payload = el[2]
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		conn.Add(1)
		go func() {
			defer func() { <-sem; conn.Done() }()
			var out []byte
			if !s.inflight.add() {
				out = appendReply(nil, rid, TokenServerClosing, true, nil)
			} else {
				// done only after the reply is written: Shutdown closes
				// sockets once the count drops to zero.
				defer s.inflight.done()
				res, herr := s.call(connCtx, key, payload)
				if herr != nil {
					out = appendReply(nil, rid, herr.Error(), true, nil)
				} else {
					out = appendReply(nil, rid, "", false, res)
				}
			}
			wctx, wcancel := context.WithTimeout(connCtx, wsWriteTimeout)
			defer wcancel()
			_ = c.Write(wctx, websocket.MessageText, out)
		}()
	}
}

// call runs the handler with panics turned into an error reply.
func (s *WSServer) call(ctx context.Context, key string, payload json.RawMessage) (res []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Str("key", key).Interface("panic", p).Msg("ws rpc handler panicked")
			res, err = nil, errPanic
		}
	}()
	v, err := s.h(ctx, key, payload)
	if err != nil {
		return nil, err
	}
	res, eerr := encodeResult(v)
	if eerr != nil {
		return nil, errEncode
	}
	return res, nil
}
