package transport

import (
	"context"
	"encoding/json"
)

// Caller is the wire under the client's request engine: it sends one
// already encoded request to one peer and returns the reply's result.
// The engine (package client) chooses the peer, admits it through its
// breaker, classifies the error and records the outcome; a Caller only
// moves bytes. Errors must be typed as HTTPClient.Call's are: a
// *RemoteError for a handler error, a *CallError whose Kind is ErrTimeout
// when the deadline passed, ErrTransport otherwise.
//
// HTTPClient implements it (HTTPS and mutual TLS through
// HTTPClientConfig.TLS), and so does WSClient (ws:// or wss://).
type Caller interface {
	CallRaw(ctx context.Context, addr, service string, payload json.RawMessage, opts CallOptions) (json.RawMessage, error)
}

var (
	_ Caller = (*HTTPClient)(nil)
	_ Caller = (*WSClient)(nil)
)

// CallRaw implements Caller: Call with payload already JSON (an empty
// payload is sent as null).
func (c *HTTPClient) CallRaw(ctx context.Context, addr, service string, payload json.RawMessage, opts CallOptions) (json.RawMessage, error) {
	if len(payload) == 0 {
		payload = nullJSON
	}
	return c.callRaw(ctx, addr, service, payload, opts)
}

// CallRaw implements Caller over the peer's socket. opts.Timeout, when
// shorter than the client's Timeout, bounds the call; opts.Compress is
// ignored (the WebSocket transport has no compression).
func (c *WSClient) CallRaw(ctx context.Context, addr, service string, payload json.RawMessage, opts CallOptions) (json.RawMessage, error) {
	if len(payload) == 0 {
		payload = nullJSON
	}
	timeout := c.cfg.Timeout
	if opts.Timeout > 0 && opts.Timeout < timeout {
		timeout = opts.Timeout
	}
	return c.call(ctx, addr, service, payload, timeout)
}
