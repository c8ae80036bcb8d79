package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// StreamOptions describe one streamed request (see Client.Stream).
type StreamOptions struct {
	// Action is sent as the _a header when not empty.
	Action string
	// Args is JSON-encoded into the _ar header when not nil.
	Args any
	// Headers are extra request headers (content-type, custom ones).
	Headers map[string]string
	// Body is streamed as the request body until io.EOF. It is never
	// closed: the caller owns it.
	Body io.Reader
	// IdleTimeout fails the stream when no byte moved either way for this
	// long (default: the client's RequestTimeout). There is no overall
	// deadline besides ctx's.
	IdleTimeout time.Duration
}

// Stream sends a streamed request to one peer of service, as
// grenache-nodejs-http's PeerRPCClient.stream does, and returns the reply
// as the peer writes it. Read it to EOF and Close it.
//
// The peer is picked and admitted through its breaker like a Request's.
// A failure before any of Body was read (a refused connection) is retried
// on another peer like a Request's; once Body started streaming there is
// no retry, since the bytes read cannot be read again.
//
// The outcome is recorded when the stream ends: success when the reply is
// read to EOF, a failure when the exchange breaks, nothing against the
// peer when the caller closes early or its Body fails. Streams feed the
// peer's error rate and breaker but not its latency estimate: a stream's
// duration measures its length, not the peer's speed, and would skew the
// picks of ordinary requests.
func (c *Client) Stream(ctx context.Context, service string, opts StreamOptions) (io.ReadCloser, error) {
	wire := c.callerFor(service)
	hc, ok := wire.(*transport.HTTPClient)
	if !ok {
		return nil, fmt.Errorf("client: Stream needs an HTTP caller (the caller of %s is a %T): streaming is HTTP chunked transfer only", service, wire)
	}
	lctx, lcancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	s, err := c.peersOf(lctx, service)
	lcancel()
	if err != nil {
		return nil, err
	}
	c.budget.deposit(c.bal.now())
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = c.cfg.RequestTimeout
	}
	call := transport.StreamCallOptions{Action: opts.Action, Args: opts.Args, Headers: opts.Headers, Body: opts.Body, IdleTimeout: idle}
	var triedArr [maxAttempts]*peer
	tried := triedArr[:0]
	var lastErr error
	for attempt := 0; attempt <= c.cfg.MaxRetries; attempt++ {
		t, ok := c.nextPick(ctx, s, tried, attempt, &lastErr, -1)
		if !ok {
			break
		}
		t.stream = true
		tried = append(tried, t.p)
		rep, started, err := hc.Stream(ctx, t.p.addr, service, call)
		if err == nil {
			return &streamReply{c: c, t: t, ctx: ctx, rep: rep}, nil
		}
		var be *transport.BodyError
		if errors.As(err, &be) {
			c.bal.record(t, Canceled)
			return nil, &RequestError{Service: service, Attempts: len(tried), Err: err}
		}
		c.bal.record(t, classify(ctx, err))
		lastErr = err
		if started || ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return nil, &RequestError{Service: service, Attempts: len(tried), Err: lastErr}
}

// streamReply records the stream's outcome once, when it ends.
type streamReply struct {
	c    *Client
	t    ticket
	ctx  context.Context
	rep  *transport.StreamReply
	done atomic.Bool
}

func (r *streamReply) Read(p []byte) (int, error) {
	n, err := r.rep.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		r.finish(Success)
	default:
		r.finish(classify(r.ctx, err))
	}
	return n, err
}

// Close ends the stream; closing before EOF is the caller's choice, not
// the peer's failure.
func (r *streamReply) Close() error {
	r.finish(Canceled)
	return r.rep.Close()
}

func (r *streamReply) finish(o Outcome) {
	if r.done.CompareAndSwap(false, true) {
		r.c.bal.record(r.t, o)
	}
}
