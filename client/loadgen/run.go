package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/report"
)

// Options describe one run.
type Options struct {
	Service  string
	Duration time.Duration
	// Rate > 0 selects open-loop mode: requests are sent on a fixed schedule
	// and latency counts from each request's intended send time, so a stall
	// shows up as latency instead of as fewer requests.
	Rate float64
	// Concurrency is the number of requests kept in flight in closed-loop
	// mode (used when Rate is 0).
	Concurrency int
	// MaxInFlight caps open-loop requests in flight; a request that would
	// exceed it fails at once (default 10000), so a dead cluster cannot
	// make the generator pile up goroutines.
	MaxInFlight int
	Payload     json.RawMessage
	// Progress, when set, is called about once per ProgressEvery.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// ErrOverloaded fails an open-loop request that found MaxInFlight requests outstanding.
var ErrOverloaded = errors.New("loadgen: too many requests in flight")

func (o *Options) check() error {
	switch {
	case o.Service == "":
		return errors.New("loadgen: empty service")
	case o.Duration <= 0:
		return errors.New("loadgen: duration must be > 0")
	case o.Rate < 0:
		return errors.New("loadgen: rate must be >= 0")
	case o.Rate == 0 && o.Concurrency <= 0:
		return errors.New("loadgen: need a rate or a concurrency")
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 10000
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = time.Second
	}
	if o.Payload == nil {
		o.Payload = json.RawMessage("null")
	}
	return nil
}

// Run drives c with the load in opts until the duration is over (or ctx is
// done), waits for requests in flight, and returns the report. rec must be
// the recorder whose Hooks are in c's Config.
func Run(ctx context.Context, c *client.Client, rec *Recorder, opts Options) (*report.Report, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	start := time.Now()
	rec.Start(start)
	end := start.Add(opts.Duration)
	runCtx, cancel := context.WithDeadline(ctx, end)
	defer cancel()

	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	if opts.Progress != nil {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			t := time.NewTicker(opts.ProgressEvery)
			defer t.Stop()
			for {
				select {
				case <-stopProgress:
					return
				case now := <-t.C:
					// Seconds older than the request timeout can no longer change.
					rec.summarise(now.Add(-c.Config().RequestTimeout - time.Second))
					opts.Progress(rec.progress(now))
				}
			}
		}()
	}

	// Requests run on ctx (not runCtx): the ones in flight at the end finish
	// within their own timeout instead of being cut off.
	var wg sync.WaitGroup
	if opts.Rate > 0 {
		openLoop(ctx, runCtx, c, rec, &opts, start, end, &wg)
	} else {
		closedLoop(ctx, runCtx, c, rec, &opts, &wg)
	}
	wg.Wait()
	close(stopProgress)
	pwg.Wait()
	if opts.Progress != nil {
		opts.Progress(rec.progress(time.Now())) // a final line with the totals
	}

	elapsed := min(time.Since(start), opts.Duration)
	rep := rec.Report(c.Config().Strategy, elapsed, c.Stats(opts.Service))
	rep.Service = opts.Service
	if opts.Rate > 0 {
		rep.Mode, rep.Rate = "rate", opts.Rate
	} else {
		rep.Mode, rep.Concurrency = "concurrency", opts.Concurrency
	}
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("loadgen: interrupted: %w", err)
	}
	return rep, nil
}

func openLoop(ctx, runCtx context.Context, c *client.Client, rec *Recorder, o *Options, start, end time.Time, wg *sync.WaitGroup) {
	interval := time.Duration(float64(time.Second) / o.Rate)
	sem := make(chan struct{}, o.MaxInFlight)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := int64(0); ; i++ {
		intended := start.Add(time.Duration(i) * interval)
		if !intended.Before(end) {
			return
		}
		if d := time.Until(intended); d > 0 {
			timer.Reset(d)
			select {
			case <-runCtx.Done():
				return
			case <-timer.C:
			}
		} else if runCtx.Err() != nil {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			rec.done(intended, time.Since(intended), ErrOverloaded)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := c.Request(ctx, o.Service, o.Payload)
			rec.done(intended, time.Since(intended), err)
		}()
	}
}

func closedLoop(ctx, runCtx context.Context, c *client.Client, rec *Recorder, o *Options, wg *sync.WaitGroup) {
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for runCtx.Err() == nil {
				t0 := time.Now()
				_, err := c.Request(ctx, o.Service, o.Payload)
				rec.done(t0, time.Since(t0), err)
			}
		}()
	}
}
