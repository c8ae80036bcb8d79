package worker

import (
	"fmt"
	"math"
	"time"
)

// MaxFaultDelay bounds injected latency and jitter: a typo such as 50000000 ms must not park
// requests for days.
const MaxFaultDelay = 10 * time.Minute

// Faults describes the misbehaviour a worker injects into every request. The zero value injects
// nothing. Faults are meant for tests and demos of client resilience.
type Faults struct {
	// Latency is added to every request before it is handled.
	Latency time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter) on top of Latency.
	Jitter time.Duration
	// ErrorRate is the probability (0..1) that a request is answered with an injected error.
	ErrorRate float64
	// TimeoutRate is the probability (0..1) that a request is never answered: it is held until
	// the caller gives up (its connection closes) or the worker's shutdown grace runs out.
	TimeoutRate float64
}

// Validate reports the first field outside its allowed range. ErrorRate and TimeoutRate are
// drawn from one roll, so together they may not exceed 1.
func (f Faults) Validate() error {
	if f.Latency < 0 || f.Latency > MaxFaultDelay {
		return fmt.Errorf("fault latency %v out of range: allowed 0..%v", f.Latency, MaxFaultDelay)
	}
	if f.Jitter < 0 || f.Jitter > MaxFaultDelay {
		return fmt.Errorf("fault jitter %v out of range: allowed 0..%v", f.Jitter, MaxFaultDelay)
	}
	if !validRate(f.ErrorRate) {
		return fmt.Errorf("fault error rate %v out of range: allowed 0..1", f.ErrorRate)
	}
	if !validRate(f.TimeoutRate) {
		return fmt.Errorf("fault timeout rate %v out of range: allowed 0..1", f.TimeoutRate)
	}
	if f.ErrorRate+f.TimeoutRate > 1+1e-9 {
		return fmt.Errorf("fault error rate %v + timeout rate %v exceed 1", f.ErrorRate, f.TimeoutRate)
	}
	return nil
}

func validRate(r float64) bool { return !math.IsNaN(r) && r >= 0 && r <= 1 }

// IsZero reports whether f injects nothing, letting the hot path skip the random draws.
func (f Faults) IsZero() bool { return f == Faults{} }

// FaultKind names what fault injection decided for one request.
type FaultKind int

const (
	// FaultNone lets the request through (after any delay).
	FaultNone FaultKind = iota
	// FaultError answers the request with an injected error.
	FaultError
	// FaultTimeout never answers the request.
	FaultTimeout
)

// String returns the metric label for the kind.
func (k FaultKind) String() string {
	switch k {
	case FaultError:
		return "error"
	case FaultTimeout:
		return "timeout"
	default:
		return "none"
	}
}

// Decision is the outcome of fault injection for one request.
type Decision struct {
	// Delay to wait before doing anything else.
	Delay time.Duration
	// Kind of fault to inject after the delay.
	Kind FaultKind
}

// Decide turns two uniform random numbers in [0,1) into a decision: jitterRoll scales the
// jitter, faultRoll picks timeout (first TimeoutRate of the range), then error (next ErrorRate).
// It is pure so tests can state exact outcomes.
func (f Faults) Decide(jitterRoll, faultRoll float64) Decision {
	d := Decision{Delay: f.Latency}
	if f.Jitter > 0 {
		d.Delay += time.Duration(jitterRoll * float64(f.Jitter))
	}
	switch {
	case faultRoll < f.TimeoutRate:
		d.Kind = FaultTimeout
	case faultRoll < f.TimeoutRate+f.ErrorRate:
		d.Kind = FaultError
	}
	return d
}
