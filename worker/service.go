package worker

import (
	"context"
	"encoding/json"
)

// Request is one Grenache RPC call as a Handler sees it.
type Request struct {
	// Service is the key the caller asked for (the service name it looked up). Node's
	// PeerRPCServer ignores it; a host announcing several names can dispatch on it.
	Service string
	// Payload is the request's JSON payload, exactly as sent ("null" when absent). The
	// handler may keep it after returning.
	Payload json.RawMessage

	// job is the built-in job name, parsed once by the host for its metric label.
	job string
}

// Handler serves Grenache requests. ctx ends when the caller gives up (it closed the
// connection: that is how a Grenache caller's deadline reaches the server, the wire carries
// none) or when the host's shutdown grace is over. The result is encoded as JSON into the
// reply; a non-nil error is sent as the reply's error string, so make it say what went wrong.
// Handlers run concurrently.
type Handler interface {
	ServeGrenache(ctx context.Context, req *Request) (any, error)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, req *Request) (any, error)

// ServeGrenache calls f.
func (f HandlerFunc) ServeGrenache(ctx context.Context, req *Request) (any, error) {
	return f(ctx, req)
}

// Middleware wraps a Handler with behaviour of its own (fault injection, logging, auth).
type Middleware func(Handler) Handler

// Chain wraps h in mws, the first one outermost.
func Chain(h Handler, mws ...Middleware) Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
