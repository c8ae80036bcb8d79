package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/validate"
)

// HTTPClientConfig configures an HTTPClient. Zero fields take the defaults
// noted on each (DefaultHTTPClientConfig); Validate refuses negative ones.
type HTTPClientConfig struct {
	// Timeout bounds every call that has no shorter deadline (default 10 s).
	// There is always one: Node clients without a timeout wait forever.
	Timeout time.Duration
	// TLS, when set, makes the client speak HTTPS; set Certificates for
	// mutual TLS and RootCAs to trust the servers' CA. Without a
	// ClientSessionCache of its own, the client keeps one (see clientTLS).
	TLS *tls.Config
	// MaxIdleConnsPerHost is how many keep-alive connections are kept per
	// peer (default 256): enough for high concurrency without re-dialling.
	MaxIdleConnsPerHost int
	// IdleConnTimeout drops idle connections (default 4 s: below Node's 5 s
	// keep-alive timeout, so we never reuse a socket a Node peer is
	// closing, which would fail a non-retryable POST).
	IdleConnTimeout time.Duration
	// MaxReplyBytes bounds a reply, before and after gunzip (default 8 MiB).
	MaxReplyBytes int64
}

// HTTPClient calls Grenache HTTP RPC servers (Go or Node). It is safe for
// concurrent use and reuses keep-alive connections.
type HTTPClient struct {
	cfg    HTTPClientConfig
	tr     *http.Transport // calls go to it directly (see callRaw)
	hc     *http.Client    // over tr, for streams
	scheme string
}

// DefaultHTTPClientConfig returns the defaults documented on
// HTTPClientConfig (plain HTTP).
func DefaultHTTPClientConfig() HTTPClientConfig {
	return HTTPClientConfig{
		Timeout:             10 * time.Second,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     4 * time.Second,
		MaxReplyBytes:       8 << 20,
	}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c HTTPClientConfig) Validate() error {
	const name = "transport.HTTPClientConfig"
	return firstError(
		validate.AtLeast(name, "Timeout", c.Timeout, 0),
		validate.AtLeast(name, "MaxIdleConnsPerHost", c.MaxIdleConnsPerHost, 0),
		validate.AtLeast(name, "IdleConnTimeout", c.IdleConnTimeout, 0),
		validate.AtLeast(name, "MaxReplyBytes", c.MaxReplyBytes, 0),
	)
}

// NewHTTPClient returns a client with cfg's zero (or negative) fields set
// to the defaults. It does not fail: call Validate first to refuse
// negative values instead.
func NewHTTPClient(cfg HTTPClientConfig) *HTTPClient {
	d := DefaultHTTPClientConfig()
	orDefault(&cfg.Timeout, d.Timeout)
	orDefault(&cfg.MaxIdleConnsPerHost, d.MaxIdleConnsPerHost)
	orDefault(&cfg.IdleConnTimeout, d.IdleConnTimeout)
	orDefault(&cfg.MaxReplyBytes, d.MaxReplyBytes)
	tr := &http.Transport{
		Proxy:               nil, // peers are addressed directly; env proxies would break ip:port routing
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0, // bounded per host instead
		MaxIdleConnsPerHost: cfg.MaxIdleConnsPerHost,
		IdleConnTimeout:     cfg.IdleConnTimeout,
		TLSHandshakeTimeout: 5 * time.Second,
		// Our own requests are not gzip-negotiated by net/http: the wire
		// says a reply is gzipped exactly when the request was.
		DisableCompression: true,
	}
	scheme := "http://"
	if cfg.TLS != nil {
		tr.TLSClientConfig = clientTLS(cfg.TLS)
		scheme = "https://"
	}
	return &HTTPClient{cfg: cfg, tr: tr, hc: &http.Client{Transport: tr}, scheme: scheme}
}

// CallOptions tunes one call.
type CallOptions struct {
	// Compress gzips the request (grc-compress: gzip); the reply then
	// comes back gzipped too.
	Compress bool
	// Timeout overrides the client's Timeout for this call when > 0.
	Timeout time.Duration
}

// Close drops idle connections. In-flight calls are not interrupted.
func (c *HTTPClient) Close() { c.hc.CloseIdleConnections() }

// Call sends [rid, key, payload] to addr ("ip:port") and returns the result
// element of the reply. payload may be json.RawMessage (sent as is) or any
// value encoding/json accepts. Errors: *RemoteError for a handler error;
// otherwise *CallError whose Kind is ErrTimeout or ErrTransport.
func (c *HTTPClient) Call(ctx context.Context, addr, key string, payload any, opts CallOptions) (json.RawMessage, error) {
	pl, err := encodePayload(payload)
	if err != nil {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
	}
	return c.callRaw(ctx, addr, key, pl, opts)
}

// callRaw is Call with the payload already encoded (the client engine
// encodes it once per request, not once per attempt, and passing it as
// bytes saves boxing it into an interface on every call).
func (c *HTTPClient) callRaw(ctx context.Context, addr, key string, pl []byte, opts CallOptions) (json.RawMessage, error) {
	timeout := c.cfg.Timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	// Skip the timer when the caller's deadline already comes first.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}

	rid := newRID()
	plain := getBuf()
	defer putBuf(plain)
	b := plain.AvailableBuffer()
	b = append(b, '[', '"')
	b = append(b, rid...)
	b = append(b, '"', ',')
	b = appendJSONString(b, key)
	b = append(b, ',')
	b = append(b, pl...)
	b = append(b, ']')
	compression := compressNone
	if opts.Compress {
		z := getBuf()
		defer putBuf(z)
		if err := gzipTo(z, b); err != nil {
			return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
		}
		b = z.Bytes()
		compression = compressGzip
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.scheme+addr+"/", bytes.NewReader(b))
	if err != nil {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
	}
	req.Header[headerCompress] = compression
	if !opts.Compress {
		req.Header["Content-Type"] = contentTypeJSON
	}
	// Straight to the transport: http.Client adds nothing a call uses (a
	// Grenache server never redirects, and a 3xx is a failed call here as
	// in Node) but copies the headers for redirects on every request.
	resp, err := c.tr.RoundTrip(req)
	if err != nil {
		return nil, callErr(ctx, addr, err)
	}
	defer resp.Body.Close()
	raw := getBuf()
	defer putBuf(raw)
	var unbudgeted budget.Lease // a reply is bounded by MaxReplyBytes; no shared budget
	if err := readBody(ctx, &unbudgeted, raw, resp.Body, resp.ContentLength, c.cfg.MaxReplyBytes); err != nil {
		return nil, callErr(ctx, addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		body := raw.Bytes()
		if opts.Compress {
			// Our server gzips its error replies too when the request was.
			unz := getBuf()
			defer putBuf(unz)
			if gunzipTo(ctx, &unbudgeted, unz, body, 4096) == nil {
				body = unz.Bytes()
			}
		}
		if len(body) > 512 {
			body = body[:512]
		}
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: &StatusError{Status: resp.StatusCode, Body: string(body)}}
	}
	reply := raw.Bytes()
	if opts.Compress {
		unz := getBuf()
		defer putBuf(unz)
		if err := gunzipTo(ctx, &unbudgeted, unz, reply, c.cfg.MaxReplyBytes); err != nil {
			return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: fmt.Errorf("ERR_REPLY_ENCODING_COMPRESSION: %w", err)}
		}
		reply = unz.Bytes()
	}
	return parseReply(addr, rid, reply)
}

var (
	compressNone = []string{"none"}
	compressGzip = []string{"gzip"}
)

// callErr classifies a failed exchange: a passed deadline (ours or the
// caller's) is ErrTimeout, anything else ErrTransport.
func callErr(ctx context.Context, addr string, err error) error {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		return &CallError{Addr: addr, Kind: ErrTimeout, Err: err}
	}
	return &CallError{Addr: addr, Kind: ErrTransport, Err: err}
}

// ridEquals reports whether the raw JSON element is the string rid, without
// allocating in the common escape-free case.
func ridEquals(raw []byte, rid string) bool {
	if len(raw) == len(rid)+2 && raw[0] == '"' && string(raw[1:len(raw)-1]) == rid {
		return true
	}
	got, ok := jsonString(raw)
	return ok && got == rid
}

// parseReply checks the reply triple and returns a copy of its result (the
// reply buffer goes back to a pool).
func parseReply(addr, rid string, reply []byte) (json.RawMessage, error) {
	if res, ok := plainSuccess(rid, reply); ok {
		return append(json.RawMessage(nil), res...), nil
	}
	return parseReplyGeneral(addr, rid, reply)
}

// parseReplyGeneral is parseReply for any reply shape.
func parseReplyGeneral(addr, rid string, reply []byte) (json.RawMessage, error) {
	var el [3][]byte
	if !json.Valid(reply) {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: fmt.Errorf("ERR_REPLY_EMPTY: reply is not JSON: %.100q", reply)}
	}
	n, err := splitArray(reply, el[:])
	if err != nil || n < 1 {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: fmt.Errorf("ERR_REPLY_EMPTY: reply is not a [rid, err, result] triple: %.100q", reply)}
	}
	if !ridEquals(el[0], rid) {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: fmt.Errorf("reply rid %s does not match request rid %q", el[0], rid)}
	}
	if n > 1 && !jsFalsy(el[1]) {
		msg, ok := jsonString(el[1])
		if !ok {
			msg = string(el[1])
		}
		return nil, &RemoteError{Msg: msg}
	}
	if n < 3 || bytes.Equal(el[2], nullJSON) {
		return json.RawMessage("null"), nil
	}
	return append(json.RawMessage(nil), el[2]...), nil
}

// plainSuccess recognises the reply every Grenache server sends on success,
// `["<rid>",null,<result>]` with no whitespace in the frame, and returns the
// result. Only the result needs validating then: the frame around it is
// matched byte for byte, so the whole reply is valid JSON exactly when the
// result is. Anything else takes the general path.
func plainSuccess(rid string, reply []byte) ([]byte, bool) {
	const mid = `",null,`
	head := 2 + len(rid) + len(mid)
	if len(reply) < head+2 || reply[0] != '[' || reply[1] != '"' || reply[len(reply)-1] != ']' ||
		string(reply[2:2+len(rid)]) != rid || string(reply[2+len(rid):head]) != mid {
		return nil, false
	}
	res := reply[head : len(reply)-1]
	if len(res) == 0 || isJSONSpace(res[0]) || isJSONSpace(res[len(res)-1]) || !json.Valid(res) {
		return nil, false // whitespace: the general path trims it
	}
	return res, true
}

func encodePayload(p any) ([]byte, error) {
	switch v := p.(type) {
	case nil:
		return nullJSON, nil
	case json.RawMessage:
		if len(v) == 0 {
			return nullJSON, nil
		}
		return v, nil
	default:
		return json.Marshal(p)
	}
}
