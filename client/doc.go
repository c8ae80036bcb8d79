// Package client is the adaptive Grenache RPC client: it looks services up
// through a grape (a *link.Link), picks a peer per request, calls it over
// Grenache HTTP RPC, learns from the outcome and retries elsewhere.
//
// A request flows through five steps, all O(1):
//
//  1. Pick: the configured strategy chooses among the peers of the service
//     (a snapshot slice read with one atomic load). "adaptive" is power of
//     two choices over cost = latency × (in-flight+1) × failure penalty,
//     where latency is a peak-sensitive EWMA raised to the age of the
//     attempts in flight; costs within BalanceTolerance count as equal and
//     the least recently picked peer wins. "round-robin" and "random" are the
//     baselines.
//  2. Admit: the peer's circuit breaker lets the attempt through (CLOSED),
//     refuses it (OPEN), or admits it as one of a limited number of probes
//     (HALF_OPEN, with its own shorter timeout).
//  3. Call: with a per-attempt deadline inside the request's deadline.
//  4. Record: latency (successes and timeouts only, so fast failures never
//     look fast), error and timeout rates, breaker counters.
//  5. Retry: on failure, another peer, after a jittered backoff, if the
//     retry budget allows it.
//
// A background goroutine refreshes the peer sets; vanished peers are drained
// and new ones ramp up with slow start. Stats exposes per-peer metrics and a
// readable score. Config documents every knob; the package reads no
// environment (the client binary maps its flags and variables onto Config,
// see docs/configuration.md).
package client
