package transport

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// StreamRequest is one streamed request as grenache-nodejs-http's
// PeerRPCClient.stream sends it: rid and key in the _gr header, an action
// and its args in the _a and _ar headers by convention, and the raw body.
type StreamRequest struct {
	// RID is the first element of _gr as raw JSON (a quoted UUID from Node
	// and Go clients; "null" when absent). Reply echoes it.
	RID json.RawMessage
	// Key is the service name from _gr (its JSON text when not a string).
	Key string
	// Action is the _a header ("" when absent), as Node's meta.action.
	Action string
	// Args is the _ar header when it is valid JSON, else {} (Node's
	// meta.args falls back to {} the same way).
	Args json.RawMessage
	// Compress reports grc-compress: gzip. The body is handed over as sent:
	// Node's stream handlers do not gunzip either.
	Compress bool
	// Header holds every request header (content-type and custom ones).
	Header http.Header
	// Body is the request body, read from the socket as the handler reads
	// it, never buffered whole. A peer silent for longer than the server's
	// stream idle timeout fails the read.
	Body io.Reader
}

// StreamHandler serves one streamed request, writing its reply to w as it
// goes (chunked on the wire). Reply
// writes the [rid, err, result] triple Node's handler.reply writes. Each
// Write goes out at once; wrap w in a bufio.Writer for many small writes. When
// the handler returns an error before writing anything, the server replies
// [rid, err.Error(), null] itself; after a partial reply it aborts the
// connection instead, so the caller sees a truncated stream rather than a
// reply that looks complete. The handler may write its reply before it has
// read the whole body (the connection is full duplex), as Node's example
// server does.
type StreamHandler func(ctx context.Context, req *StreamRequest, w io.Writer) error

// Reply writes [rid, err|null, result] to w, the reply Node's stream
// handler.reply sends (never gzipped: Node's stream path does not compress
// replies).
func (r *StreamRequest) Reply(w io.Writer, result any, err error) error {
	var b []byte
	if err != nil {
		b = appendReply(nil, r.RID, err.Error(), true, nil)
	} else {
		res, eerr := encodeResult(result)
		if eerr != nil {
			b = appendReply(nil, r.RID, TokenResultEncode, true, nil)
		} else {
			b = appendReply(nil, r.RID, "", false, res)
		}
	}
	_, werr := w.Write(b)
	return werr
}

// DefaultStreamIdleTimeout is how long a streamed request's body may stay
// silent before the server gives up on it (the whole-request ReadTimeout
// does not apply to streams, which may run for hours).
const DefaultStreamIdleTimeout = 60 * time.Second

var (
	headerAction = textproto.CanonicalMIMEHeaderKey("_a")
	headerArgs   = textproto.CanonicalMIMEHeaderKey("_ar")
)

// isStream reports a request PeerRPCClient.stream sent. Node's server
// calls any chunked request a stream (meta.isStream); we also ask for _gr
// so a chunked buffered triple from a proxy still reaches the buffered
// handler, and a stream always has its rid and key.
func isStream(r *http.Request) bool {
	if len(r.Header[headerGR]) == 0 {
		return false
	}
	for _, te := range r.TransferEncoding {
		if strings.EqualFold(te, "chunked") {
			return true
		}
	}
	return false
}

// serveStream dispatches a streamed request to the stream handler.
func (s *HTTPServer) serveStream(w http.ResponseWriter, r *http.Request, compress bool, rid, key []byte) {
	if s.refuse != nil && s.refuse() {
		s.refused(w, false, rid)
		return
	}
	rc := http.NewResponseController(w)
	// Full duplex lets the handler answer before the body ends; the
	// per-read deadline replaces the whole-request ReadTimeout.
	_ = rc.EnableFullDuplex()
	req := &StreamRequest{
		RID:      rid,
		Compress: compress,
		Header:   r.Header,
		Args:     json.RawMessage("{}"), // its own: a handler may keep or change it
		Body:     &idleReader{r: r.Body, rc: rc, idle: s.streamIdle},
	}
	req.Key, _ = jsonString(key)
	if req.Key == "" && key != nil {
		req.Key = string(key)
	}
	if v := r.Header[headerAction]; len(v) > 0 {
		req.Action = v[0]
	}
	if v := r.Header[headerArgs]; len(v) > 0 && json.Valid([]byte(v[0])) {
		req.Args = json.RawMessage(v[0])
	}
	ctx := r.Context()
	if r.TLS != nil {
		ctx = withPeerCerts(ctx, r.TLS.PeerCertificates)
	}
	cw := &streamWriter{w: w, rc: rc}
	if err := s.callStream(ctx, req, cw); err != nil {
		if cw.n > 0 {
			// A partial reply must not end like a complete one.
			panic(http.ErrAbortHandler)
		}
		_ = req.Reply(cw, nil, err)
	}
}

// callStream runs the stream handler, turning a panic into an error.
func (s *HTTPServer) callStream(ctx context.Context, req *StreamRequest, w io.Writer) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error().Str("key", req.Key).Interface("panic", p).Msg("stream handler panicked")
			err = errPanic
		}
	}()
	return s.stream(ctx, req, w)
}

// idleReader moves the connection's read deadline forward on every read,
// so a stream may last as long as it keeps moving.
type idleReader struct {
	r    io.Reader
	rc   *http.ResponseController
	idle time.Duration
}

func (ir *idleReader) Read(p []byte) (int, error) {
	_ = ir.rc.SetReadDeadline(time.Now().Add(ir.idle))
	return ir.r.Read(p)
}

// streamWriter sends each Write to the peer at once, as Node's
// res.write does (a reply written before the body ends must reach a
// client that is still uploading), and tells serveStream whether the
// handler wrote anything.
type streamWriter struct {
	w  io.Writer
	rc *http.ResponseController
	n  int64
}

func (c *streamWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}
