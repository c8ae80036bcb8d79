package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// RequestError is a request that failed after all its attempts. Err is the
// last attempt's error (a *transport.RemoteError, a *transport.CallError, or
// a context error), so errors.Is/As see through it.
type RequestError struct {
	Service  string
	Attempts int
	Err      error
}

// Error implements error.
func (e *RequestError) Error() string {
	return fmt.Sprintf("client: %s failed after %d attempt(s): %v", e.Service, e.Attempts, e.Err)
}

// Unwrap returns the last attempt's error.
func (e *RequestError) Unwrap() error { return e.Err }

// Request calls one peer of service with payload and returns its result.
// The peer is chosen by the configured strategy; a failed attempt is
// retried on another peer (up to MaxRetries, within the retry budget, after
// a jittered backoff), all within RequestTimeout and ctx.
func (c *Client) Request(ctx context.Context, service string, payload any) (json.RawMessage, error) {
	body, err := encode(payload)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	s, err := c.peersOf(ctx, service)
	if err != nil {
		return nil, err
	}
	c.budget.deposit(c.bal.now())

	var triedArr [maxAttempts]*peer
	tried := triedArr[:0]
	attemptTO := c.cfg.attemptTimeout()
	var lastErr error
	var attemptAt int64 // when the last attempt started
	for attempt := 0; attempt <= c.cfg.MaxRetries; attempt++ {
		t, ok := c.nextPick(ctx, s, tried, attempt, &lastErr, c.firstRetryCap(s, attempt, attemptTO, attemptAt))
		if !ok {
			break
		}
		tried = append(tried, t.p)
		attemptAt = t.start
		var res json.RawMessage
		var err error
		if d, ok := c.hedge.delay(&s.tail, c.bal.now(), attemptTO); ok && len(tried) < maxAttempts {
			res, tried, err = c.hedged(ctx, s, service, body, t, tried, attemptTO, d)
		} else {
			res, err = c.attempt(ctx, service, body, t, attemptTO)
		}
		if err == nil {
			return res, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	if lastErr == nil {
		lastErr = ctx.Err()
	}
	return nil, &RequestError{Service: service, Attempts: len(tried), Err: lastErr}
}

// attempt calls the picked peer once and records the outcome.
func (c *Client) attempt(ctx context.Context, service string, body json.RawMessage, t ticket, to time.Duration) (json.RawMessage, error) {
	if t.probe {
		to = min(to, c.cfg.BreakerProbeTimeout)
	}
	actx := ctx
	// No timer of its own when the request's deadline comes first (one
	// attempt, as in PlainConfig): a context per attempt was a tenth of the
	// client's CPU per call on a fast wire.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > to {
		var acancel context.CancelFunc
		actx, acancel = context.WithTimeout(ctx, to)
		defer acancel()
	}
	res, err := c.call(actx, t, service, body)
	c.bal.record(t, classify(ctx, err))
	return res, err
}

// call is the engine's wire seam: one attempt through the Caller.
func (c *Client) call(ctx context.Context, t ticket, service string, body json.RawMessage) (json.RawMessage, error) {
	return c.callerFor(service).CallRaw(ctx, t.p.addr, service, body, transport.CallOptions{Compress: c.cfg.Compress})
}

func (c *Client) retryable(err error) bool {
	var re *transport.RemoteError
	if errors.As(err, &re) {
		return c.cfg.RetryRemoteErrors
	}
	return err != nil
}

// firstRetryCap bounds the backoff before a request's first retry, where
// hedging is on: that retry goes to another peer, and a hedge would have
// sent that copy one hedge delay after the failed attempt started, within
// the same budget; the retry leaves no later than that. A fast failure at
// a peer failing part of its requests then costs the request about one
// hedge delay instead of up to RetryDelay, which made the far tail. Later
// retries (the service may be failing as a whole) back off in full.
// It returns -1 for no cap, 0 for no wait.
func (c *Client) firstRetryCap(s *service, attempt int, to time.Duration, startedAt int64) time.Duration {
	if attempt != 1 {
		return -1
	}
	now := c.bal.now()
	d, ok := c.hedge.delay(&s.tail, now, to)
	if !ok {
		return -1
	}
	return max(d-time.Duration(now-startedAt), 0)
}

// backoff sleeps a fully jittered exponential delay (base RetryDelay, capped
// at 10× and at limit unless limit < 0), never past half the remaining deadline.
// nextPick opens attempt number attempt of one request on s, for Request
// and Stream alike. From the second attempt on it is a retry: only for a
// retryable *lastErr, only to a peer not tried yet (a peer that just
// failed this request, or answered with a handler error, is not asked
// again, so a one-peer service fails after one attempt), within the retry
// budget, after the backoff (capped by limit, see backoff). Then the pick.
// ok false ends the request with *lastErr, set to ErrNoPeers when no peer
// could be picked at all.
func (c *Client) nextPick(ctx context.Context, s *service, tried []*peer, attempt int, lastErr *error, limit time.Duration) (ticket, bool) {
	if attempt > 0 {
		if len(tried) >= len(s.snapshot()) || !c.retryable(*lastErr) || !c.budget.withdraw(c.bal.now()) {
			return ticket{}, false
		}
		if err := c.backoff(ctx, attempt, limit); err != nil {
			return ticket{}, false
		}
	}
	t, ok := c.bal.pick(s, tried)
	if !ok && *lastErr == nil {
		*lastErr = transport.ErrNoPeers
	}
	return t, ok
}

func (c *Client) backoff(ctx context.Context, attempt int, limit time.Duration) error {
	if c.cfg.RetryDelay <= 0 || limit == 0 {
		return ctx.Err()
	}
	d := c.cfg.RetryDelay << (attempt - 1)
	d = min(d, 10*c.cfg.RetryDelay)
	if limit > 0 {
		d = min(d, limit)
	}
	d = time.Duration(c.bal.randF() * float64(d))
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)/2)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Map sends payload to every peer of service in parallel and returns the
// results in peer order, like Node's PeerRPCClient.map: the first error
// fails the whole call and cancels the rest. Peers whose breaker is open
// are skipped; there are no retries.
func (c *Client) Map(ctx context.Context, service string, payload any) ([]json.RawMessage, error) {
	body, err := encode(payload)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	s, err := c.peersOf(ctx, service)
	if err != nil {
		return nil, err
	}
	// Admit every peer through its breaker, in order; open breakers are skipped.
	tickets, err := c.bal.claimAll(service, s.snapshot())
	if err != nil {
		return nil, err
	}
	type res struct {
		i   int
		v   json.RawMessage
		err error
	}
	out := make(chan res, len(tickets))
	for i, t := range tickets {
		go func() {
			v, err := c.call(ctx, t, service, body)
			c.bal.record(t, classify(ctx, err))
			out <- res{i, v, err}
		}()
	}
	results := make([]json.RawMessage, len(tickets))
	var first error
	for range tickets {
		r := <-out
		if r.err != nil && first == nil {
			first = &RequestError{Service: service, Attempts: 1, Err: r.err}
			cancel() // fail fast; the others record as canceled
		}
		results[r.i] = r.v
	}
	if first != nil {
		return nil, first
	}
	return results, nil
}
