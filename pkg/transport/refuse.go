package transport

import (
	"net/http"
	"strings"
)

// WithRefuse makes the server answer every request with 503 and
// TokenServerDraining, closing the connection, while refuse returns true.
// A service host uses it at the end of its drain: requests still reaching
// it come from callers with stale lookups, and a non-200 reply is what
// both Go and Node clients retry on another peer. The body is read first
// so the reply carries the request's rid.
func WithRefuse(refuse func() bool) HTTPServerOption {
	return func(s *HTTPServer) { s.refuse = refuse }
}

func (s *HTTPServer) refused(w http.ResponseWriter, compress bool, rid []byte) {
	w.Header()["Connection"] = []string{"close"}
	s.reply(w, http.StatusServiceUnavailable, compress, rid, TokenServerDraining, true, nil)
}

// WithUpgrade hands requests asking for a WebSocket upgrade to h (a
// WSServer), so one port serves the HTTP and the WebSocket RPC wire and one
// announcement reaches callers of either. h's connections are its own:
// Shutdown of this server does not close them; shut h down too.
func WithUpgrade(h http.Handler) HTTPServerOption {
	return func(s *HTTPServer) { s.upgrade = h }
}

func isWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header["Upgrade"] {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}
