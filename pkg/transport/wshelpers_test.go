package transport

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

type (
	tlsConfig = tls.Config
	tlsCert   = tls.Certificate
)

// httpServerForTest runs a bare WebSocket endpoint with a custom per-socket
// behaviour, for peers that misbehave in ways our servers never do.
type httpServerForTest struct{ srv *http.Server }

func (h *httpServerForTest) start(t testing.TB, ln net.Listener, fn func(*websocket.Conn)) {
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		fn(ws)
	})}
	done := make(chan struct{})
	go func() { _ = h.srv.Serve(ln); close(done) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = h.srv.Shutdown(ctx)
		<-done
	})
}
