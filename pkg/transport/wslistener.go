package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// wsHub is the part shared by the WebSocket RPC server and the Publisher:
// an http.Server that upgrades every request on any path, plus tracking of
// the upgraded (hijacked) connections, which http.Server.Shutdown neither
// waits for nor closes.
type wsHub struct {
	srv     *http.Server
	tls     *tls.Config
	maxMsg  int64
	serveFn func(ctx context.Context, c *websocket.Conn, cork *corkConn, r *http.Request)

	ctx    context.Context // cancelled when the hub starts closing
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[*websocket.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // one per connection handler
}

func newWSHub(serve func(ctx context.Context, c *websocket.Conn, cork *corkConn, r *http.Request)) *wsHub {
	ctx, cancel := context.WithCancel(context.Background())
	h := &wsHub{serveFn: serve, maxMsg: 8 << 20, ctx: ctx, cancel: cancel, conns: make(map[*websocket.Conn]struct{})}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: httpErrorLog(zerolog.Nop())}
	return h
}

// ServeHTTP upgrades the request whatever its path (Node's ws.Server
// accepts any path; Node clients use /ws). Deflate is refused, as Node's
// server does, so frames stay plain text. The socket runs over a corkConn
// (see corkingWriter) for the server to batch its writes.
func (h *wsHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &corkingWriter{ResponseWriter: w}
	c, err := websocket.Accept(cw, r, &websocket.AcceptOptions{
		// Peers are services, not browsers: there is no cookie-bearing
		// Origin to protect, and Node clients send no Origin at all.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept already wrote an HTTP error
	}
	c.SetReadLimit(h.maxMsg)
	if !h.track(c) {
		_ = c.Close(websocket.StatusGoingAway, "shutting down")
		return
	}
	defer h.untrack(c)
	h.serveFn(h.ctx, c, cw.cork, r)
}

func (h *wsHub) track(c *websocket.Conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.wg.Add(1)
	return true
}

func (h *wsHub) untrack(c *websocket.Conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	_ = c.CloseNow()
	h.wg.Done()
}

func (h *wsHub) serve(ln net.Listener) error {
	if h.tls != nil {
		cfg := h.tls.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, cfg)
	}
	err := h.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// shutdown stops accepting, lets drain (if non-nil) finish in-flight work
// within ctx, then closes every connection and waits for their handlers.
func (h *wsHub) shutdown(ctx context.Context, drain func(context.Context) error) error {
	err := h.srv.Shutdown(ctx)
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	if drain != nil {
		if derr := drain(ctx); err == nil {
			err = derr
		}
	}
	h.cancel()
	h.mu.Lock()
	for c := range h.conns {
		// CloseNow, not Close: a graceful close waits for the peer's close
		// frame, which a stuck peer never sends.
		_ = c.CloseNow()
	}
	h.mu.Unlock()
	h.wg.Wait()
	return err
}
