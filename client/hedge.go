package client

import (
	"context"
	"encoding/json"
	"time"
)

// hedgeResult is one settled call of a hedged attempt.
type hedgeResult struct {
	i   int
	res json.RawMessage
	err error
}

// hedged runs one attempt with a hedge: if the first peer has not answered
// after the hedge delay (HedgeAfter, or the service's HedgeQuantile), the same request also goes to another peer (one that
// was not tried, within the retry budget) and the first success wins; the
// loser is canceled and recorded as Canceled, not as a failure. It returns
// the winning result, or the last error once both calls failed. Both calls
// have settled when it returns: no goroutine outlives the request.
func (c *Client) hedged(ctx context.Context, s *service, service string, body json.RawMessage,
	first ticket, tried []*peer, to, after time.Duration) (json.RawMessage, []*peer, error) {
	out := make(chan hedgeResult, 2)
	var tickets [2]ticket
	var cancels [2]context.CancelFunc
	launch := func(i int, t ticket) {
		tickets[i] = t
		actx, cancel := context.WithTimeout(ctx, to)
		cancels[i] = cancel
		go func() {
			res, err := c.call(actx, t, service, body)
			out <- hedgeResult{i, res, err}
		}()
	}
	launch(0, first)
	running, launched := 1, 1
	timer := time.NewTimer(after)
	defer timer.Stop()
	var winner json.RawMessage
	var lastErr error
	won := false
	for running > 0 {
		select {
		case <-timer.C:
			if won || launched == 2 || !c.budget.withdraw(c.bal.now()) {
				continue
			}
			if t, ok := c.bal.pick(s, tried); ok && !isTried(t.p, tried) {
				tried = append(tried, t.p)
				launch(1, t)
				running++
				launched++
			} else if ok {
				c.bal.record(t, Canceled) // nobody new to hedge to: give the slot back
			}
		case r := <-out:
			running--
			cancels[r.i]()
			o := classify(ctx, r.err)
			if won && r.err != nil {
				// We canceled it: not a failure, but slower than the winner.
				o = Canceled
				tickets[r.i].outpaced = true
			}
			c.bal.record(tickets[r.i], o)
			switch {
			case r.err == nil && !won:
				won, winner = true, r.res
				for j := range launched {
					if j != r.i {
						cancels[j]()
					}
				}
			case r.err != nil && !won:
				lastErr = r.err
			}
		}
	}
	if won {
		return winner, tried, nil
	}
	return nil, tried, lastErr
}
