package transport

import (
	"net/http"
	"strings"
)

// refused answers a request while HTTPServerConfig.Refuse holds: 503 and
// TokenServerDraining, which Go and Node callers retry elsewhere, and the
// connection closed so the caller does not reuse it here.
func (s *HTTPServer) refused(w http.ResponseWriter, compress bool, rid []byte) {
	w.Header()["Connection"] = []string{"close"}
	s.reply(w, http.StatusServiceUnavailable, compress, rid, TokenServerDraining, true, nil)
}

// isWebSocketUpgrade reports a request for HTTPServerConfig.Upgrade.
func isWebSocketUpgrade(r *http.Request) bool {
	for _, v := range r.Header["Upgrade"] {
		if strings.EqualFold(strings.TrimSpace(v), "websocket") {
			return true
		}
	}
	return false
}
