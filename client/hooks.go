package client

import "time"

// Hooks observe the client. They run synchronously on the request path, so
// they must be quick and must not call back into the client.
type Hooks struct {
	// OnAttempt is called after every attempt settles.
	OnAttempt func(AttemptEvent)
	// OnBreaker is called on every breaker transition.
	OnBreaker func(BreakerEvent)
}

// AttemptEvent describes one settled attempt.
type AttemptEvent struct {
	Service, Addr string
	Outcome       Outcome
	Latency       time.Duration
	At            time.Time
	Probe         bool // a half-open breaker probe
}

// BreakerEvent describes one breaker transition.
type BreakerEvent struct {
	Service, Addr string
	From, To      BreakerState
	At            time.Time
}
