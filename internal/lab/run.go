package lab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Runner is one strategy under test: its own client, fed by its own recorder.
type Runner struct {
	// Strategy is the client strategy this runner uses.
	Strategy string
	// Client is the runner's client; Run drives it and the caller closes it (Close).
	Client *client.Client
	rec    *recorder
}

// NewRunner builds a client of the given strategy over r, starting from
// client.DefaultConfig (the defaults are what the scenarios judge); mod may
// change the config (nil keeps the defaults).
func NewRunner(strategy string, r transport.Resolver, mod func(*client.Config)) (*Runner, error) {
	cfg := client.DefaultConfig()
	cfg.Strategy = strategy
	if mod != nil {
		mod(&cfg)
	}
	rec := newRecorder()
	// Hooks mod installed (a live view's recorder) still see every event.
	cfg.Hooks = client.ChainHooks(rec.hooks(), cfg.Hooks)
	c, err := client.New(r, cfg)
	if err != nil {
		return nil, err
	}
	return &Runner{Strategy: strategy, Client: c, rec: rec}, nil
}

// Close closes the runner's client.
func (r *Runner) Close() error { return r.Client.Close() }

// Step changes the world at a point of the run and starts a named phase.
type Step struct {
	// At is the offset from the start of the run; the first step must be at 0.
	At time.Duration
	// Phase names the phase that begins here.
	Phase string
	// Do applies the change (set faults, kill, restart); nil only marks the phase.
	Do func() error
}

// Plan is the load every runner gets, and the fault timeline they share.
type Plan struct {
	// Service is the name the clients request.
	Service string
	// Rate is the open-loop request rate of each runner, per second.
	Rate float64
	// Duration of the load; the run then waits for requests in flight.
	Duration time.Duration
	// Payload is sent with every request.
	Payload json.RawMessage
	// Steps are the fault timeline, in order of At.
	Steps []Step
	// MaxInFlight bounds each runner's outstanding requests (default 4096);
	// a request that finds no slot counts as failed, so a stall is not hidden.
	MaxInFlight int
	// Tick, if set, is called about once a second with the elapsed time.
	Tick func(elapsed time.Duration)
	// Stopped, if set, tells whether an attempt sent to addr at t went to a
	// worker that could not serve it (Workers.Stopped); such attempts are
	// counted per peer in Window.PeerStopped.
	Stopped func(addr string, t time.Time) bool
}

// ErrOverload is recorded for a request the generator could not start
// because MaxInFlight requests were still outstanding.
var ErrOverload = errors.New("lab: too many requests in flight, request not sent")

// StepError reports a timeline step that failed.
type StepError struct {
	Phase string
	Err   error
}

// Error names the step's phase and its error.
func (e *StepError) Error() string { return fmt.Sprintf("lab: step %q: %v", e.Phase, e.Err) }

// Unwrap returns the step's error.
func (e *StepError) Unwrap() error { return e.Err }

// Run drives every runner with the plan's open-loop load at the same time
// (their send instants interleaved), applies the steps on schedule, waits
// for the requests in flight and returns what each runner saw.
//
// Every request has its own goroutine, so nothing queues inside the
// generator; request latency is measured from the call to Request (all the
// client's work, retries and backoff included) and the generator's own
// delay — how late the call came after its scheduled instant, which only a
// starved machine makes large — is recorded apart (Window.LagP99), so a
// loaded test machine is told apart from a slow client. Requests are
// counted in the phase of their scheduled instant.
func Run(ctx context.Context, plan Plan, runners ...*Runner) (*Result, error) {
	if plan.Rate <= 0 || plan.Duration <= 0 || len(runners) == 0 {
		return nil, errors.New("lab: plan needs a positive rate, a duration and at least one runner")
	}
	if len(plan.Steps) == 0 || plan.Steps[0].At != 0 {
		return nil, errors.New("lab: the first step must be at 0")
	}
	bounds := make([]time.Duration, len(plan.Steps))
	names := make([]string, len(plan.Steps))
	for i, s := range plan.Steps {
		if i > 0 && s.At < plan.Steps[i-1].At {
			return nil, errors.New("lab: steps out of order")
		}
		bounds[i], names[i] = s.At, s.Phase
	}
	maxIn := plan.MaxInFlight
	if maxIn <= 0 {
		maxIn = 4096
	}
	if plan.Payload == nil {
		plan.Payload = json.RawMessage(`{"job":"echo"}`)
	}
	// Let the first scheduled request find its peers, so the first second
	// does not measure the initial lookup.
	for _, r := range runners {
		if err := r.Client.Refresh(ctx, plan.Service); err != nil {
			return nil, err
		}
	}
	start := time.Now().Add(20 * time.Millisecond)
	for _, r := range runners {
		r.rec.begin(start, bounds, plan.Stopped)
	}
	var stepErr error
	var wg sync.WaitGroup
	loadCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	for k, r := range runners {
		wg.Add(1)
		offset := time.Duration(float64(time.Second) / plan.Rate * float64(k) / float64(len(runners)))
		go func() {
			defer wg.Done()
			drive(loadCtx, ctx, plan, r, start.Add(offset), maxIn)
		}()
	}
	// The timeline runs here, in step order, on the runners' clock.
	nextTick := time.Second
	for i := 0; ; {
		next := plan.Duration
		if i < len(plan.Steps) && plan.Steps[i].At < next {
			next = plan.Steps[i].At
		}
		if plan.Tick != nil && nextTick < next {
			next = nextTick
		}
		if !sleepUntil(ctx, start.Add(next)) {
			break
		}
		for ; i < len(plan.Steps) && plan.Steps[i].At <= next; i++ {
			if s := plan.Steps[i]; s.Do != nil {
				if err := s.Do(); err != nil && stepErr == nil {
					stepErr = &StepError{Phase: s.Phase, Err: err}
				}
			}
		}
		if plan.Tick != nil && nextTick <= next {
			plan.Tick(nextTick)
			nextTick += time.Second
		}
		if next >= plan.Duration {
			break
		}
	}
	wg.Wait()
	res := &Result{Service: plan.Service, Rate: plan.Rate, Duration: plan.Duration, Start: start}
	for i, n := range names {
		to := plan.Duration
		if i+1 < len(bounds) {
			to = bounds[i+1]
		}
		res.Phases = append(res.Phases, Span{Name: n, From: bounds[i], To: to})
	}
	for _, r := range runners {
		res.Runs = append(res.Runs, r.result(plan.Service))
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, stepErr
}

// drive is one runner's open-loop generator: request i is due at
// first + i/rate; each runs in its own goroutine, at most maxIn at once.
// loadCtx stops generating, reqCtx bounds requests in flight.
func drive(loadCtx, reqCtx context.Context, plan Plan, r *Runner, first time.Time, maxIn int) {
	interval := time.Duration(float64(time.Second) / plan.Rate)
	n := int(plan.Duration / interval)
	sem := make(chan struct{}, maxIn)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		at := first.Add(time.Duration(i) * interval)
		if !sleepUntil(loadCtx, at) {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			r.rec.done(at, time.Since(at), ErrOverload)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sent := time.Now()
			r.rec.sent(at, sent.Sub(at))
			_, err := r.Client.Request(reqCtx, plan.Service, plan.Payload)
			r.rec.done(at, time.Since(sent), err)
		}()
	}
}

// sleepUntil waits for t or ctx; it reports whether t was reached.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// Live returns what the runner saw in whole second sec of the current run
// (for progress lines while Run is going).
func (r *Runner) Live(sec int) Window {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	if sec < 0 || sec >= len(r.rec.secs) {
		return sum("", nil, 2)
	}
	return sum("", r.rec.secs[sec:sec+1], 2)
}
