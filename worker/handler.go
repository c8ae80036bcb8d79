package worker

import (
	"context"
	"encoding/json"
	"errors"
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

// handler is the RPC logic of a worker, free of sockets: fault injection, then the job. Its
// clock, sleeper and random source are injected so tests are exact and instant.
type handler struct {
	faults atomic.Pointer[Faults]
	limits JobLimits
	m      *metrics
	// hardStop is closed when the shutdown grace is over; held requests give up then.
	hardStop <-chan struct{}
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	rand     func() float64
}

// handle has the shape of transport.Handler. The key is ignored, as a Node PeerRPCServer does.
func (h *handler) handle(ctx context.Context, _ string, payload json.RawMessage) (any, error) {
	h.m.inFlight.Inc()
	defer h.m.inFlight.Dec()
	start := h.now()
	name := jobName(payload)
	j := jobIndex(name)
	res, out, err := h.serve(ctx, name, payload)
	h.m.requests[j][out].Inc()
	h.m.latency[j].Observe(h.now().Sub(start).Seconds())
	return res, err
}

func (h *handler) serve(ctx context.Context, name string, payload json.RawMessage) (any, outcome, error) {
	if f := h.faults.Load(); !f.IsZero() {
		d := f.Decide(h.rand(), h.rand())
		if d.Delay > 0 {
			h.m.faults[faultLatency].Inc()
			if err := h.sleep(ctx, d.Delay); err != nil {
				return nil, outcomeCanceled, err
			}
		}
		switch d.Kind {
		case FaultTimeout:
			h.m.faults[faultTimeout].Inc()
			select {
			case <-ctx.Done():
				return nil, outcomeHeld, ctx.Err()
			case <-h.hardStop:
				return nil, outcomeHeld, errors.New(ErrMsgShutdown)
			}
		case FaultError:
			h.m.faults[faultError].Inc()
			return nil, outcomeInjected, errors.New(ErrMsgInjected)
		}
	}
	res, err := runJob(ctx, name, payload, h.limits, h.sleep)
	switch {
	case err == nil:
		return res, outcomeOK, nil
	case errors.Is(err, ErrInvalidJob):
		return nil, outcomeInvalid, err
	case ctx.Err() != nil:
		return nil, outcomeCanceled, err
	default:
		return nil, outcomeError, err
	}
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
