package grape

import (
	"net/http"
	"strconv"
)

// reply is one HTTP answer in Node's shape: a status and raw body bytes.
type reply struct {
	status  int
	body    []byte
	outcome string // metrics label
	close   bool   // close the connection after it (the body may be half read)
}

// Outcome labels of grape_http_requests_total.
const (
	outcomeOK         = "ok"
	outcomeNotFound   = "not_found"   // 200 "ERR_REQ_NOTFOUND"
	outcomeAppError   = "app_error"   // 200 JSON-string error
	outcomeDHTError   = "dht_error"   // KRPC status code
	outcomeTooLarge   = "too_large"   // 413
	outcomeBadRequest = "bad_request" // 500 raw text
	outcomeEmpty      = "empty"       // /get miss
	outcomeBusy       = "busy"        // 503, body budget spent
)

func okJSON(body []byte) reply { return reply{status: http.StatusOK, body: body, outcome: outcomeOK} }

// appError is Node's `JSON.stringify(err.message)` with status 200.
func appError(msg string) reply {
	return reply{status: http.StatusOK, body: jsonString(msg), outcome: outcomeAppError}
}

// rawError is a thrown error that reached Node's catch: status 500 and
// the message as plain text.
func rawError(msg string) reply {
	return reply{status: http.StatusInternalServerError, body: []byte(msg), outcome: outcomeBadRequest}
}

var (
	replyNotFound = reply{status: http.StatusOK, body: jsonString("ERR_REQ_NOTFOUND"), outcome: outcomeNotFound}
	replyTooLarge = reply{status: http.StatusRequestEntityTooLarge, body: []byte("ERR_GRAPE_PAYLOAD_SIZE"), outcome: outcomeTooLarge}
	replyInvalid  = reply{status: http.StatusInternalServerError, body: []byte("ERR_GRAPE_PAYLOAD_INVALID"), outcome: outcomeBadRequest}
	replyEmpty    = reply{status: http.StatusOK, body: nil, outcome: outcomeEmpty}
	// replyBusy answers a body that got no room in the body budget within
	// its wait, in the shape of Node's other raw errors. It closes the
	// connection: net/http would otherwise wait for the unread rest of the
	// body before replying, which a stalled client never sends.
	replyBusy = reply{status: http.StatusServiceUnavailable, body: []byte("ERR_GRAPE_BUSY"), outcome: outcomeBusy, close: true}
)

// write sends the reply with exactly Node's headers: no Content-Type (Go
// would sniff one), a Content-Length, and keep-alive advertised like Node's
// http server does (net/http replaces it with "close" when it must close).
// The header values are shared read-only slices: net/http copies the map
// before it edits it, and never writes into a value slice.
func (rp reply) write(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Type"] = nil
	h["Content-Length"] = contentLength(len(rp.body))
	if rp.close {
		h["Connection"] = hdrClose
	} else {
		h["Connection"] = hdrKeepAlive
		h["Keep-Alive"] = hdrKeepAliveTimeout
	}
	w.WriteHeader(rp.status)
	_, _ = w.Write(rp.body)
}

var (
	hdrKeepAlive        = []string{"keep-alive"}
	hdrClose            = []string{"close"}
	hdrKeepAliveTimeout = []string{"timeout=5"}
	smallLengths        = func() (t [1024][]string) {
		for i := range t {
			t[i] = []string{strconv.Itoa(i)}
		}
		return t
	}()
)

// contentLength is the header value for n, shared for small bodies.
func contentLength(n int) []string {
	if n < len(smallLengths) {
		return smallLengths[n]
	}
	return []string{strconv.Itoa(n)}
}
