package client

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"
)

// hedgeResult is one settled call of a hedged attempt.
type hedgeResult struct {
	i   int
	res json.RawMessage
	err error
}

// hedged runs one attempt with a hedge: if the first peer has not answered
// after the hedge delay (HedgeAfter, or the service's HedgeQuantile), the
// same request also goes to another peer (one that was not tried, within
// the retry budget) and the first success wins. It returns the winning
// result, or the last error once both calls failed.
//
// The loser is not canceled but detached (see detached): it runs on to
// its own attempt timeout outside the request, and its real outcome is
// recorded, so a slow peer is measured as slow and a black hole times out
// and opens its breaker, although no caller waits for either. Without
// this a peer whose every slow answer a hedge beats would never look
// slow. When too many losers are detached already it is canceled instead
// and recorded as Canceled, with its elapsed time as censored latency.
// Every call the request still waits for has settled when it returns.
func (c *Client) hedged(ctx context.Context, s *service, service string, body json.RawMessage,
	first ticket, tried []*peer, to, after time.Duration) (json.RawMessage, []*peer, error) {
	out := make(chan hedgeResult, 2)
	var tickets [2]ticket
	var cancels [2]context.CancelFunc
	var unlink [2]func() bool
	launch := func(i int, t ticket) {
		tickets[i] = t
		ato := to
		if t.probe {
			ato = min(to, c.cfg.BreakerProbeTimeout)
		}
		// The attempt's context keeps the request's values and deadline
		// but not its cancellation, so a loser can outlive the request;
		// unlink[i] undoes the link that cancels it with the request
		// meanwhile. The deadline is the attempt's own, so a request
		// running out of time still records a timeout, not a cancel.
		dl := time.Now().Add(ato)
		if rdl, ok := ctx.Deadline(); ok && rdl.Before(dl) {
			dl = rdl
		}
		actx, cancel := context.WithDeadline(context.WithoutCancel(ctx), dl)
		cancels[i] = cancel
		unlink[i] = context.AfterFunc(ctx, func() {
			if errors.Is(ctx.Err(), context.Canceled) {
				cancel() // the caller gave up; a deadline fires on actx itself
			}
		})
		go func() {
			res, err := c.call(actx, t, service, body)
			out <- hedgeResult{i, res, err}
		}()
	}
	// spare launches a copy into slot i on a peer not tried yet, within
	// MaxRetries and the retry budget.
	spare := func(i int) bool {
		if len(tried) > c.cfg.MaxRetries || len(tried) >= min(maxAttempts, len(s.snapshot())) || !c.budget.withdraw(c.bal.now()) {
			return false
		}
		t, ok := c.bal.pick(s, tried)
		if !ok {
			return false
		}
		if isTried(t.p, tried) {
			c.bal.record(t, Canceled) // nobody new to hedge to: give the slot back
			return false
		}
		tried = append(tried, t.p)
		launch(i, t)
		return true
	}
	launch(0, first)
	running := 1
	timer := time.NewTimer(after)
	defer timer.Stop()
	var lastErr error
	for running > 0 {
		select {
		case <-timer.C:
			if running == 1 && spare(1) {
				running++
			}
		case r := <-out:
			running--
			unlink[r.i]()
			cancels[r.i]()
			c.bal.record(tickets[r.i], classify(ctx, r.err))
			if r.err != nil {
				lastErr = r.err
				// One copy failed while the other is still out (a hedge
				// that met a failing peer, say): replace it at once, or
				// the request would wait for the slow copy it hedged.
				if running == 1 && ctx.Err() == nil && c.retryable(r.err) && spare(r.i) {
					running++
				}
				continue
			}
			if running > 0 {
				j := 1 - r.i
				c.loser(out, tickets[j], unlink[j], cancels[j])
			}
			return r.res, tried, nil
		}
	}
	return nil, tried, lastErr
}

// loser hands the call still running when the other copy won to the
// client's detached set, or cancels it when the set is full.
func (c *Client) loser(out <-chan hedgeResult, t ticket, unlink func() bool, cancel context.CancelFunc) {
	if unlink() && c.detached.add() {
		go func() {
			defer c.detached.done()
			stop := context.AfterFunc(c.ctx, cancel) // Close ends it
			defer stop()
			r := <-out
			cancel()
			t.detached = true
			c.bal.record(t, classify(c.ctx, r.err))
		}()
		return
	}
	cancel()
	r := <-out
	o := classify(context.Background(), r.err)
	if r.err != nil {
		o = Canceled // we canceled it: not a failure, but slower than the winner
		t.outpaced = true
	}
	c.bal.record(t, o)
}

// maxDetached bounds the hedge losers running on after their request
// returned. Each is one call that ends by its attempt timeout, and hedges
// spend the retry budget, so the bound is rarely met; when it is, losers
// are canceled as before.
const maxDetached = 64

// detachedCalls tracks the hedge losers in flight so Close can wait for
// them; Close cancels them through the client's context.
type detachedCalls struct {
	mu     sync.Mutex
	n      int
	closed bool
	wg     sync.WaitGroup
}

func (d *detachedCalls) add() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.n >= maxDetached {
		return false
	}
	d.n++
	d.wg.Add(1)
	return true
}

func (d *detachedCalls) done() {
	d.mu.Lock()
	d.n--
	d.mu.Unlock()
	d.wg.Done()
}

// close refuses new detached calls and waits for those running.
func (d *detachedCalls) close() {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.wg.Wait()
}
