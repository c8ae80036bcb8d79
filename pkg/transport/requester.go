package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// RequestOptions tunes Request and Map, mirroring Node's request options.
type RequestOptions struct {
	// Timeout bounds each attempt (0: the client's Timeout). The caller's
	// ctx bounds the whole request including retries.
	Timeout time.Duration
	// Retry is the total number of attempts, like Node's retry option
	// (async.retry times): 0 or 1 means a single attempt. Each retry goes to
	// a peer not tried yet while one exists. Request only.
	Retry int
	// Compress gzips requests and replies.
	Compress bool
	// Limit makes Map call only Limit random peers (0: all; a MapPicker
	// chooses them among the peers it considers up), as Node's
	// map limit option.
	Limit int
}

// Requester sends requests to a service by name: it resolves the name,
// lets the Picker choose a peer, and calls it over an HTTPClient.
type Requester struct {
	r Resolver
	c *HTTPClient
	p Picker
}

// NewRequester returns a Requester. A nil Picker means RandomPicker.
func NewRequester(r Resolver, c *HTTPClient, p Picker) *Requester {
	if p == nil {
		p = RandomPicker{}
	}
	return &Requester{r: r, c: c, p: p}
}

// peers resolves service, mapping an empty result to ErrNoPeers.
func (q *Requester) peers(ctx context.Context, service string) ([]string, error) {
	peers, err := q.r.Lookup(ctx, service)
	if err != nil {
		return nil, fmt.Errorf("lookup %q: %w", service, err)
	}
	if len(peers) == 0 {
		return nil, fmt.Errorf("lookup %q: %w", service, ErrNoPeers)
	}
	return peers, nil
}

// Request calls one peer of service and returns its result. On failure
// (any error, including a handler error, as Node retries) it retries on
// another peer until opts.Retry attempts are used or ctx ends, and returns
// the last error.
func (q *Requester) Request(ctx context.Context, service string, payload any, opts RequestOptions) (json.RawMessage, error) {
	pl, err := encodePayload(payload)
	if err != nil {
		return nil, err
	}
	peers, err := q.peers(ctx, service)
	if err != nil {
		return nil, err
	}
	attempts := max(opts.Retry, 1)
	copts := CallOptions{Compress: opts.Compress, Timeout: opts.Timeout}
	var tried []string
	var lastErr error
	for range attempts {
		addr, done, err := q.p.Pick(service, peers, tried)
		if err != nil {
			if lastErr != nil {
				return nil, errors.Join(lastErr, err)
			}
			return nil, err
		}
		start := time.Now()
		res, err := q.c.callRaw(ctx, addr, service, pl, copts)
		done(CallResult{Latency: time.Since(start), Err: err})
		if err == nil {
			return res, nil
		}
		lastErr = err
		tried = append(tried, addr)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// Map calls every peer of service in parallel (or opts.Limit random ones)
// and returns their results in the order of the peers called. Like Node's
// map it fails on the first error: the other calls are cancelled and that
// error is returned.
//
// When the Picker is a MapPicker, it chooses the peers instead (it may leave
// out peers it considers down, and opts.Limit is passed to it, so the limit
// applies after the unhealthy peers are left out) and every call's outcome
// is reported to it; a PickAll error fails Map.
func (q *Requester) Map(ctx context.Context, service string, payload any, opts RequestOptions) ([]json.RawMessage, error) {
	pl, err := encodePayload(payload)
	if err != nil {
		return nil, err
	}
	peers, err := q.peers(ctx, service)
	if err != nil {
		return nil, err
	}
	var dones []func(CallResult) // nil without a MapPicker
	if mp, ok := q.p.(MapPicker); ok {
		peers, dones, err = pickAll(mp, service, peers, opts.Limit)
		if err != nil {
			return nil, err
		}
	} else if opts.Limit > 0 && opts.Limit < len(peers) {
		peers = append([]string(nil), peers...)
		rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
		peers = peers[:opts.Limit]
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	copts := CallOptions{Compress: opts.Compress, Timeout: opts.Timeout}
	results := make([]json.RawMessage, len(peers))
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
	)
	for i, addr := range peers {
		wg.Go(func() {
			start := time.Now()
			res, err := q.c.callRaw(ctx, addr, service, pl, copts)
			if dones != nil {
				dones[i](CallResult{Latency: time.Since(start), Err: err})
			}
			if err != nil {
				once.Do(func() { firstErr = err; cancel() })
				return
			}
			results[i] = res
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return results, nil
}

// errNotCalled settles a pick Map does not use (a picker that broke its
// contract); it wraps context.Canceled so the picker counts it for nobody.
var errNotCalled = fmt.Errorf("transport: map: peer not called: %w", context.Canceled)

// pickAll asks mp for the peers of a Map call and holds it to its contract:
// one non-nil done per address, at most limit addresses. Picks Map will not
// call are settled as not called rather than leaked (an adaptive picker
// counts them in flight until settled).
func pickAll(mp MapPicker, service string, peers []string, limit int) ([]string, []func(CallResult), error) {
	addrs, dones, err := mp.PickAll(service, peers, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("pick %q: %w", service, err)
	}
	if len(dones) != len(addrs) || slices.ContainsFunc(dones, func(d func(CallResult)) bool { return d == nil }) {
		settle(dones)
		return nil, nil, fmt.Errorf("pick %q: picker returned %d addresses and %d done funcs (or a nil one)", service, len(addrs), len(dones))
	}
	if len(addrs) == 0 {
		return nil, nil, fmt.Errorf("pick %q: %w", service, ErrNoPeers)
	}
	if limit > 0 && len(addrs) > limit {
		settle(dones[limit:])
		addrs, dones = addrs[:limit], dones[:limit]
	}
	return addrs, dones, nil
}

// settle reports every pick in dones as not called.
func settle(dones []func(CallResult)) {
	for _, d := range dones {
		if d != nil {
			d(CallResult{Err: errNotCalled})
		}
	}
}
