package worker

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// Error messages a worker replies with. They travel as plain strings in the reply triple, so
// they are exported for callers that match on them.
const (
	// ErrMsgInjected is the reply to a request picked for an injected error.
	ErrMsgInjected = "ERR_INJECTED_FAULT"
	// ErrMsgShutdown is returned for a held (injected timeout) request when the shutdown grace
	// ends; by then its connection is being closed, so no client normally sees it.
	ErrMsgShutdown = "ERR_WORKER_SHUTDOWN"
)

// handler is the RPC logic of a host, free of sockets: metrics, then fault injection (a
// Middleware), then the service's Handler (the built-in jobs when none is given). Its clock,
// sleeper and random source are injected so tests are exact and instant.
type handler struct {
	faults atomic.Pointer[Faults]
	limits JobLimits
	m      *metrics
	// hardStop is closed when the shutdown grace is over; held requests give up then.
	hardStop <-chan struct{}
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	rand     func() float64
	// next is the service's handler; nil means the built-in jobs (labelled by job in the
	// metrics; any other handler's requests are labelled "other").
	next Handler

	chainOnce sync.Once
	chain     Handler
	// active counts requests inside handle, for the drain (the gauge is write-only).
	active atomic.Int64
}

// handle has the shape of transport.Handler. The key is passed on as Request.Service; the
// built-in jobs ignore it, as a Node PeerRPCServer does.
func (h *handler) handle(ctx context.Context, key string, payload json.RawMessage) (any, error) {
	h.m.inFlight.Inc()
	h.active.Add(1)
	defer func() { h.active.Add(-1); h.m.inFlight.Dec() }()
	start := h.now()
	name := jobOther
	if h.next == nil {
		name = jobName(payload)
	}
	j := jobIndex(name)
	var res any
	var err error
	if h.next == nil && j < len(jobs) && h.faults.Load().IsZero() {
		// A registered job without faults (benchmarks, most load): run it directly, skipping
		// the Request the chain needs, which escapes to the heap (~100 ns and 80 B).
		res, err = jobs[j].run(ctx, payload, jobEnv{limits: h.limits, sleep: h.sleep})
	} else {
		res, err = h.chainOf().ServeGrenache(ctx, &Request{Service: key, Payload: payload, job: name})
	}
	h.m.requests[j][outcomeOf(ctx, err)].Inc()
	h.m.latency[j].Observe(h.now().Sub(start).Seconds())
	return res, err
}

// chainOf returns the fault layer around the service's handler, built once (the handler
// struct is also built literally by tests, so not in a constructor).
func (h *handler) chainOf() Handler {
	h.chainOnce.Do(func() {
		inner := h.next
		if inner == nil {
			inner = jobsHandler{env: jobEnv{limits: h.limits, sleep: h.sleep}}
		}
		h.chain = h.faultLayer(inner)
	})
	return h.chain
}

// outcomeOf maps a handler's error to its metric outcome.
func outcomeOf(ctx context.Context, err error) outcome {
	if err == nil {
		return outcomeOK
	}
	return errorOutcome(ctx, err)
}

// errorOutcome is outcomeOf for a non-nil error; apart so that the success path does not
// pay for the heap-allocated errors.As target.
func errorOutcome(ctx context.Context, err error) outcome {
	var held heldError
	switch {
	case errors.As(err, &held):
		return outcomeHeld
	case errors.Is(err, errInjected):
		return outcomeInjected
	case errors.Is(err, ErrInvalidJob), errors.Is(err, ErrBadRequest), errors.Is(err, ErrUnknownAction):
		return outcomeInvalid
	case ctx.Err() != nil:
		return outcomeCanceled
	default:
		return outcomeError
	}
}

var errInjected = errors.New(ErrMsgInjected)

// heldError is the end of a request held by an injected timeout; its message is the cause's.
type heldError struct{ err error }

func (e heldError) Error() string { return e.err.Error() }
func (e heldError) Unwrap() error { return e.err }

// faultLayer is the fault-injection Middleware: it reads the current faults on every request
// and delays, fails or holds it before (or instead of) calling next.
func (h *handler) faultLayer(next Handler) Handler {
	return HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		f := h.faults.Load()
		if f.IsZero() {
			return next.ServeGrenache(ctx, req)
		}
		d := f.Decide(h.rand(), h.rand())
		if d.Delay > 0 {
			h.m.faults[faultLatency].Inc()
			if err := h.sleep(ctx, d.Delay); err != nil {
				return nil, err
			}
		}
		switch d.Kind {
		case FaultTimeout:
			h.m.faults[faultTimeout].Inc()
			select {
			case <-ctx.Done():
				return nil, heldError{ctx.Err()}
			case <-h.hardStop:
				return nil, heldError{errors.New(ErrMsgShutdown)}
			}
		case FaultError:
			h.m.faults[faultError].Inc()
			return nil, errInjected
		}
		return next.ServeGrenache(ctx, req)
	})
}

// jobsHandler serves the built-in jobs of the registry.
type jobsHandler struct{ env jobEnv }

func (j jobsHandler) ServeGrenache(ctx context.Context, req *Request) (any, error) {
	name := req.job
	if name == "" {
		name = jobName(req.Payload)
	}
	return runJob(ctx, name, req.Payload, j.env.limits, j.env.sleep)
}

// sleepCtx waits d or until ctx is done, whichever comes first.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
