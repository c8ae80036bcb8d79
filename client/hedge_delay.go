package client

import "time"

// hedgeRule decides, per request, whether and after how long an attempt
// gets a hedge. It is resolved once from Config (newHedgeRule).
type hedgeRule struct {
	fixed    time.Duration // HedgeAfter > 0: the delay, whatever the service does
	q        float64       // HedgeQuantile when the adaptive hedge is on, else 0
	minN     int64
	floor    time.Duration
	disabled bool
}

// newHedgeRule: a fixed HedgeAfter is the caller's explicit choice and
// applies as before. Otherwise the adaptive hedge follows the service's
// HedgeQuantile, and only where a second copy of a request is safe: the
// same switch as retrying handler errors (RetryRemoteErrors, off for
// services that are not idempotent) and MaxRetries > 0 (a client that
// never sends a request twice does not hedge either).
func newHedgeRule(c Config) hedgeRule {
	switch {
	case c.HedgeAfter > 0:
		return hedgeRule{fixed: c.HedgeAfter}
	case c.HedgeQuantile <= 0 || !c.RetryRemoteErrors || c.MaxRetries == 0:
		return hedgeRule{disabled: true}
	}
	return hedgeRule{q: c.HedgeQuantile, minN: tailMinSamples(c.HedgeQuantile), floor: c.HedgeMin}
}

// delay returns the hedge delay of an attempt with attempt timeout to, or
// false for no hedge: when off, while the service has too few samples for
// its quantile, or when the delay would reach the attempt timeout (the
// retry after the timeout does the hedge's work then).
func (h hedgeRule) delay(t *tailEstimator, now int64, to time.Duration) (time.Duration, bool) {
	switch {
	case h.disabled:
		return 0, false
	case h.fixed > 0:
		return h.fixed, true
	}
	v := t.quantile(h.q, h.minN, now)
	if v == 0 {
		return 0, false
	}
	d := max(time.Duration(v), h.floor)
	if d >= to {
		return 0, false
	}
	return d, true
}
