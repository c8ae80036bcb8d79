package transport

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/rs/zerolog"
)

// headerGR and headerCompress are looked up in canonical form directly in
// the header map, skipping Header.Get's per-call canonicalisation.
var (
	headerGR       = textproto.CanonicalMIMEHeaderKey("_gr")
	headerCompress = textproto.CanonicalMIMEHeaderKey("grc-compress")
)

// grParseErrorBody is Node's exact 500 body for an unparseable _gr header
// (35 bytes, with the spaces JSON.stringify does not add: it is a literal).
const grParseErrorBody = `[null, "ERR_HEADER_PARSE_GR", null]`

// HTTPServer serves Grenache RPC over HTTP, wire-compatible with
// grenache-nodejs-http's PeerRPCServer. It ignores method, path, query and
// Content-Type; takes rid and key from the _gr header when present; gunzips
// requests marked grc-compress: gzip and gzips their replies; and always
// answers, even garbage, so clients without a timeout never hang.
type HTTPServer struct {
	h       Handler
	srv     *http.Server
	tls     *tls.Config
	maxBody int64
	budget  *budget.Budget
	log     zerolog.Logger
	refuse  func() bool  // see HTTPServerConfig.Refuse; nil = never
	upgrade http.Handler // see HTTPServerConfig.Upgrade; nil = none

	stream     StreamHandler // see HTTPServerConfig.StreamHandler; nil = streams are buffered
	streamIdle time.Duration
}

// NewHTTPServer validates cfg and returns a server that dispatches every
// request to h; cfg's zero fields take the defaults.
func NewHTTPServer(h Handler, cfg HTTPServerConfig) (*HTTPServer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &HTTPServer{
		h: h, tls: cfg.TLS, maxBody: cfg.MaxBodyBytes, budget: cfg.BodyBudget, log: cfg.Logger,
		refuse: cfg.Refuse, upgrade: cfg.Upgrade, stream: cfg.StreamHandler, streamIdle: cfg.StreamIdleTimeout,
	}
	s.srv = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          httpErrorLog(cfg.Logger),
	}
	if ctx := cfg.BaseContext; ctx != nil {
		s.srv.BaseContext = func(net.Listener) context.Context { return ctx }
	}
	return s, nil
}

// Serve accepts connections on ln until Shutdown; it returns nil after a
// clean Shutdown.
func (s *HTTPServer) Serve(ln net.Listener) error {
	if s.tls != nil {
		cfg := s.tls.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, cfg)
	}
	err := s.srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, waits for in-flight requests to finish (or ctx
// to end), then closes all connections.
func (s *HTTPServer) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	return err
}

// ServeHTTP implements http.Handler so the server can also be mounted in
// another mux (e.g. next to /metrics).
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.upgrade != nil && isWebSocketUpgrade(r) {
		s.upgrade.ServeHTTP(w, r)
		return
	}
	compress := false
	if v := r.Header[headerCompress]; len(v) > 0 && strings.Contains(v[0], "gzip") {
		compress = true
	}
	var grRID, grKey []byte
	if v := r.Header[headerGR]; len(v) > 0 {
		var parts [2][]byte
		if !json.Valid([]byte(v[0])) {
			writeGRError(w)
			return
		}
		n, err := splitArray([]byte(v[0]), parts[:])
		if err != nil {
			writeGRError(w)
			return
		}
		grRID = parts[0]
		if n > 1 {
			grKey = parts[1]
		}
		if grRID == nil {
			grRID = nullJSON
		}
		if s.stream != nil && isStream(r) {
			s.serveStream(w, r, compress, grRID, grKey)
			return
		}
	}

	// The lease covers the raw body and its gunzipped copy until the
	// handler has returned (the payload it sees is copied out of them).
	lease := s.budget.NewLease()
	defer lease.Release()
	raw := getBuf()
	defer putBuf(raw)
	if err := readBody(r.Context(), &lease, raw, r.Body, r.ContentLength, s.maxBody); err != nil {
		s.bodyError(w, err, compress, grRID)
		return
	}
	body := raw.Bytes()
	if compress {
		plain := getBuf()
		defer putBuf(plain)
		switch err := gunzipTo(r.Context(), &lease, plain, body, s.maxBody); {
		case err == nil:
			body = plain.Bytes()
		case errors.Is(err, errTooLarge) || isBudgetErr(r.Context(), err):
			s.bodyError(w, err, compress, grRID)
			return
		default:
			// Node falls back to the raw body when gunzip fails; so do we.
		}
	}

	var el [3][]byte
	n := 0
	var perr error = errNotArray
	if json.Valid(body) {
		n, perr = splitArray(body, el[:])
	}
	if perr != nil {
		s.reply(w, http.StatusBadRequest, compress, grRID, TokenRequestParse, true, nil)
		return
	}
	rid, keyRaw := el[0], el[1]
	if grRID != nil {
		rid, keyRaw = grRID, grKey
	}
	key, ok := jsonString(keyRaw)
	if !ok && keyRaw != nil {
		key = string(keyRaw) // Node hands non-string keys through; we pass their JSON text
	}
	payload := json.RawMessage(nullJSON)
	if n > 2 {
		// Copied out of the pooled body buffer: a handler may keep the
		// payload (or hand it to a goroutine) after it returns.
		payload = append(json.RawMessage(nil), el[2]...)
	}
	if s.refuse != nil && s.refuse() {
		s.refused(w, compress, rid)
		return
	}
	ctx := r.Context()
	if r.TLS != nil {
		ctx = withPeerCerts(ctx, r.TLS.PeerCertificates)
	}
	result, herr := s.call(ctx, key, payload)
	if herr != nil {
		s.reply(w, http.StatusOK, compress, rid, herr.Error(), true, nil)
		return
	}
	s.reply(w, http.StatusOK, compress, rid, "", false, result)
}

// call runs the handler, turning a panic into an error reply: net/http
// would otherwise drop the connection without an answer.
func (s *HTTPServer) call(ctx context.Context, key string, payload json.RawMessage) (res []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error().Str("key", key).Interface("panic", p).Msg("rpc handler panicked")
			res, err = nil, errors.New(TokenHandlerPanic)
		}
	}()
	v, err := s.h(ctx, key, payload)
	if err != nil {
		return nil, err
	}
	res, eerr := encodeResult(v)
	if eerr != nil {
		s.log.Error().Err(eerr).Str("key", key).Msg("rpc result not encodable")
		return nil, errors.New(TokenResultEncode)
	}
	return res, nil
}

// reply writes [rid, err|null, result], gzipped when the request was, with
// a Content-Length (Node sends chunked; clients accept either).
func (s *HTTPServer) reply(w http.ResponseWriter, status int, compress bool, rid []byte, errMsg string, hasErr bool, result []byte) {
	out := getBuf()
	defer putBuf(out)
	b := appendReply(out.AvailableBuffer(), rid, errMsg, hasErr, result)
	if compress {
		z := getBuf()
		defer putBuf(z)
		if err := gzipTo(z, b); err != nil {
			s.log.Error().Err(err).Msg("gzip reply")
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		b = z.Bytes()
	} else {
		out.Write(b) // keep the grown slice in the pooled buffer
		b = out.Bytes()
	}
	h := w.Header()
	h["Content-Type"] = contentTypeJSON
	if len(b) > 2048 {
		// Small replies get their Content-Length from net/http itself (it
		// buffers the first 2 KiB before choosing chunked encoding).
		h["Content-Length"] = []string{strconv.Itoa(len(b))}
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

var contentTypeJSON = []string{"application/json"}

func writeGRError(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Length"] = []string{strconv.Itoa(len(grParseErrorBody))}
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = fmt.Fprint(w, grParseErrorBody)
}
