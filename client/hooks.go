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

// ChainHooks returns hooks that call each of hs in order; nil functions are
// skipped, so chaining onto an empty Config costs nothing. Use it to add an
// observer (a live view, a metrics counter) without losing the hooks already
// in a Config.
func ChainHooks(hs ...Hooks) Hooks {
	var attempts []func(AttemptEvent)
	var breakers []func(BreakerEvent)
	for _, h := range hs {
		attempts = appendHook(attempts, h.OnAttempt)
		breakers = appendHook(breakers, h.OnBreaker)
	}
	return Hooks{OnAttempt: chainHook(attempts), OnBreaker: chainHook(breakers)}
}

func appendHook[E any](fs []func(E), f func(E)) []func(E) {
	if f == nil {
		return fs
	}
	return append(fs, f)
}

// chainHook calls fs in order: nil for none, the function itself for one.
func chainHook[E any](fs []func(E)) func(E) {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	return func(e E) {
		for _, f := range fs {
			f(e)
		}
	}
}
