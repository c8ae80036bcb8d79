package transport

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/rs/zerolog"
)

// WSServer serves Grenache RPC over WebSocket, wire-compatible with
// grenache-nodejs-ws: each text (or binary) frame [rid, key, payload] gets
// one text frame [rid, err|null, result] on the same socket. Frames that do
// not parse are ignored, as Node does. Requests on one socket run
// concurrently (up to a per-connection limit), so replies may come out of
// order; clients match them by rid. Replies finished at once leave in one
// write (see wsFrameWriter), each its own frame.
type WSServer struct {
	h           Handler
	hub         *wsHub
	maxInFlight int
	budget      *budget.Budget
	log         zerolog.Logger
	inflight    inflight
}

// NewWSServer validates cfg and returns a WebSocket RPC server dispatching
// to h; cfg's zero fields take the defaults.
func NewWSServer(h Handler, cfg WSServerConfig) (*WSServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &WSServer{h: h, maxInFlight: cfg.MaxInFlight, budget: cfg.BodyBudget, log: cfg.Logger}
	s.hub = newWSHub(s.serveConn)
	s.hub.tls, s.hub.maxMsg = cfg.TLS, cfg.MaxMessageBytes
	s.hub.srv.ErrorLog = httpErrorLog(s.log)
	return s, nil
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

// wsRequest is one parsed request frame. rid and payload alias the
// message, whose budget lease ends once the reply is queued.
type wsRequest struct {
	rid     []byte
	key     string
	payload json.RawMessage
	lease   budget.Lease
}

func (s *WSServer) serveConn(ctx context.Context, c *websocket.Conn, cork *corkConn, r *http.Request) {
	// Handlers get a context that ends with the connection (their reply
	// could not be delivered anyway), not with the server: Shutdown drains.
	base := context.Background()
	if r.TLS != nil {
		base = withPeerCerts(base, r.TLS.PeerCertificates)
	}
	connCtx, cancel := context.WithCancel(base)
	out := newWSFrameWriter(c, cork, wsWriteTimeout)
	var workers *wsWorkers
	workers = newWSWorkers(s.maxInFlight, wsWorkerRetire, func(req wsRequest) { s.answer(connCtx, out, req, workers.crowded()) })
	defer workers.stop()
	defer cancel()
	for {
		lease := s.budget.NewLease()
		msg, err := s.readMessage(ctx, c, &lease)
		if err != nil {
			lease.Release()
			if errors.Is(err, budget.ErrBusy) || errors.Is(err, budget.ErrTooLarge) {
				// Answer what is in flight, then tell the peer to go elsewhere.
				workers.stop()
				_ = c.Close(websocket.StatusTryAgainLater, TokenServerBusy)
			}
			return
		}
		var el [3][]byte
		if !json.Valid(msg) {
			lease.Release()
			continue
		}
		n, err := splitArray(msg, el[:])
		if err != nil {
			lease.Release()
			continue
		}
		req := wsRequest{rid: el[0], payload: json.RawMessage(nullJSON), lease: lease}
		var ok bool
		if req.key, ok = jsonString(el[1]); !ok && el[1] != nil {
			req.key = string(el[1])
		}
		if n > 2 {
			req.payload = el[2]
		}
		if !workers.dispatch(ctx, req) {
			lease.Release()
			return
		}
	}
}

// answer runs one request and queues its reply; crowd: see
// wsFrameWriter.send.
func (s *WSServer) answer(ctx context.Context, out *wsFrameWriter, req wsRequest, crowd bool) {
	frame := getBuf()
	b := frame.AvailableBuffer()
	if !s.inflight.add() {
		b = appendReply(b, req.rid, TokenServerClosing, true, nil)
	} else {
		// done only after the reply is queued, and a queued reply is
		// written before the socket closes: Shutdown closes sockets once
		// the count drops to zero.
		defer s.inflight.done()
		res, herr := s.call(ctx, req.key, req.payload)
		if herr != nil {
			b = appendReply(b, req.rid, herr.Error(), true, nil)
		} else {
			b = appendReply(b, req.rid, "", false, res)
		}
	}
	frame.Write(b)
	req.lease.Release()
	_ = out.send(frame, crowd)
}

// readMessage reads one whole message under l (the connection's read limit
// is also the message limit), growing with the bytes that arrive.
func (s *WSServer) readMessage(ctx context.Context, c *websocket.Conn, l *budget.Lease) ([]byte, error) {
	// The read needs no context of its own: Shutdown closes every socket,
	// which ends it, and a context would cost the library a timer per message.
	_, r, err := c.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	return budget.ReadAll(ctx, l, nil, r, s.hub.maxMsg)
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
