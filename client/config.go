package client

import (
	"crypto/tls"
	"fmt"
	"math"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/pkg/validate"
	"github.com/rs/zerolog"
)

// Config holds every knob of the adaptive client. Start from DefaultConfig
// (or PlainConfig) and change what you need; New validates it once. The
// package reads no environment: the client binary maps its flags and
// variables onto these fields (docs/configuration.md lists them).
//
// Breakers and retries apply to every strategy, so comparing strategies
// measures peer selection alone.
type Config struct {
	// Strategy names a registered Policy: "adaptive" (the default), or any
	// other name Policies lists, including those a program registered with
	// RegisterPolicy.
	Strategy string
	// RequestTimeout bounds a whole Request, all retries included.
	RequestTimeout time.Duration
	// AttemptTimeout bounds one attempt; 0 means RequestTimeout/(MaxRetries+1) so a
	// black-holed attempt still leaves time to retry elsewhere.
	AttemptTimeout time.Duration
	// MaxRetries is the number of extra attempts after the first, each on a
	// different peer when one is available.
	MaxRetries int
	// RetryDelay is the base of the fully jittered exponential backoff before a
	// retry. 0 retries at once.
	RetryDelay time.Duration
	// RetryBudgetRatio is the share of requests that may be retried, on top of
	// RetryBudgetMinPerSec.
	RetryBudgetRatio float64
	// RetryBudgetMinPerSec keeps a few retries available at low traffic.
	RetryBudgetMinPerSec float64
	// RetryBudgetOff lifts the retry budget: every request may use all its
	// MaxRetries, as Node's client does. A fleet of such clients can
	// multiply the load on a struggling service.
	RetryBudgetOff bool
	// RetryRemoteErrors also retries errors returned by the peer's handler. The
	// fault scenarios need it (a worker that fails half its jobs); turn it off
	// for handlers that are not idempotent.
	RetryRemoteErrors bool
	// HedgeAfter, when > 0, sends a second copy of a request to another
	// peer if the first has not answered after this long (The Tail at
	// Scale); the first success wins, the other is canceled. Hedges spend the
	// retry budget. 0 = the adaptive hedge below.
	HedgeAfter time.Duration
	// HedgeQuantile, when HedgeAfter is 0, hedges an attempt that has not
	// answered after this quantile of the service's recent successful
	// attempt latencies (all peers, the last 5-10 s), so the few requests
	// that still reach a slow peer (exploration, slow start) do not make the
	// far tail. It is on only where a second copy is safe: with
	// RetryRemoteErrors (the idempotency switch) and MaxRetries > 0; each
	// hedge spends a retry-budget token. 0 = off.
	HedgeQuantile float64
	// HedgeMin is the floor of the adaptive hedge delay, so a service of
	// sub-millisecond replies is not hedged on scheduling noise.
	HedgeMin time.Duration
	// Compress asks peers to gzip replies.
	Compress bool

	// RefreshInterval is how often the peer set of every used service is
	// looked up again in the background.
	RefreshInterval time.Duration
	// SlowStart is how long a new or recovered peer takes to reach its full share.
	SlowStart time.Duration
	// ProbeInterval: a healthy-enough peer not picked for this long gets one
	// request so its metrics stay fresh. 0 disables.
	ProbeInterval time.Duration
	// BalanceTolerance treats two costs within this relative distance as equal
	// and breaks the tie by least recent pick, so healthy peers share evenly.
	BalanceTolerance float64
	// BalanceSlack is an absolute cost distance also treated as equal, so
	// sub-millisecond scheduling noise does not skew shares.
	BalanceSlack time.Duration
	// MaxPeers bounds the peers kept per service (a lookup is remote input).
	MaxPeers int

	// LatencyWeight, ErrorWeight, TimeoutWeight and FreshnessWeight combine the
	// normalised metrics into the readable score; they must sum to 1.
	LatencyWeight, ErrorWeight, TimeoutWeight, FreshnessWeight float64
	// LatencyDecay is the time constant of the baseline latency EWMA. The
	// EWMA is time-weighted: a sample after a quiet spell counts for more,
	// so a peer that was avoided for a while is re-measured by one request.
	LatencyDecay time.Duration
	// LatencyPeakDecay is the time constant with which a latency peak (a
	// sample above the estimate, taken at once) fades back to the baseline.
	// Short, so scheduling noise does not starve a healthy peer.
	LatencyPeakDecay time.Duration
	// RateAlpha is the per-outcome weight of the error and timeout rate EWMAs.
	RateAlpha float64
	// StaleAfter is the time constant with which unrefreshed evidence (error
	// and timeout rates) decays toward the neutral prior.
	StaleAfter time.Duration
	// FailurePenalty scales how much errors and timeouts raise a peer's cost:
	// cost × (1 + FailurePenalty·(we·err + wt·timeout)/(we+wt)).
	FailurePenalty float64

	// BreakerFailureThreshold consecutive failures open a breaker.
	BreakerFailureThreshold int
	// BreakerErrorRate opens a breaker when this share of the outcomes in the
	// window failed; it catches a peer failing half its requests, which never
	// strings together enough consecutive failures.
	BreakerErrorRate float64
	// BreakerMinRequests is the window volume below which the rate trip is off.
	BreakerMinRequests int
	// BreakerWindow is the length of the sliding error-rate window.
	BreakerWindow time.Duration
	// BreakerCooldown is how long a breaker stays OPEN after its first trip.
	BreakerCooldown time.Duration
	// BreakerMaxCooldown caps the cooldown, which doubles each time a peer
	// trips again soon after recovering.
	BreakerMaxCooldown time.Duration
	// BreakerFastFailCooldown replaces BreakerCooldown as the base when the
	// failure that opened the breaker was a fast transport error (connection
	// refused: the process is down, probing it is nearly free), so a
	// restarted peer is back within seconds; 0 disables.
	BreakerFastFailCooldown time.Duration
	// BreakerHalfOpenMaxRequests is the number of probes a HALF_OPEN breaker admits.
	BreakerHalfOpenMaxRequests int
	// BreakerProbeTimeout is the attempt timeout of a half-open probe; a probe
	// that never settles cannot keep a breaker half-open.
	BreakerProbeTimeout time.Duration
	// BreakerMaxOpenFraction caps the share of a service's peers whose breakers
	// may be open at once; at least one always stays closed.
	BreakerMaxOpenFraction float64
	// BreakerJitter randomises cooldowns by ±this fraction so clients do not probe in lockstep.
	BreakerJitter float64
	// BreakerOff keeps every breaker closed: failing peers keep their
	// share of traffic, as with Node's client.
	BreakerOff bool

	// Caller is the wire the engine calls peers over (see transport.Caller:
	// a *transport.HTTPClient, with TLS for HTTPS or mutual TLS, or a
	// *transport.WSClient). Nil means a plain HTTP client that New builds
	// with RequestTimeout and Close closes; a Caller given here is the
	// caller's to close.
	Caller transport.Caller
	// Transport is the wire New builds when Caller is nil: TransportHTTP
	// (the default), TransportHTTPS (TLS; mutual when TLS carries a client
	// certificate), TransportWS or TransportWSS (WebSocket, one socket per
	// peer). A Grenache lookup returns host:port only, so the transport is
	// configuration, not discovery: every peer of a service must speak it. Callers overrides it per service.
	Transport string
	// TLS configures https and wss: RootCAs to trust the servers' CA (nil:
	// the system roots), Certificates for mutual TLS, ServerName when the
	// peers' certificates do not name the IP they are dialled at. It must
	// be nil for http and ws; transport.LoadClientTLS builds it from PEM
	// files.
	TLS *tls.Config
	// Callers overrides Caller and Transport for the services it names, so
	// one client reaches an HTTP service and a WebSocket or TLS one. Its
	// Callers are the caller's to close.
	Callers map[string]transport.Caller

	// Hooks observe attempts and breaker transitions (the load generator uses them).
	Hooks Hooks
	// Hints, when set, gives outside advice about peers (gossip;
	// gossip.Attach sets it) to the adaptive strategy, as a prior the
	// client's own outcomes outweigh; see HintAdvice. Nil means none.
	Hints HintSource
	// Logger receives debug logs; the zero value logs nothing.
	Logger zerolog.Logger

	// now is the injected monotonic clock (nanoseconds); nil means the real one.
	now func() int64
	// rand returns a uniform float in [0,1); nil means math/rand/v2.
	rand func() float64
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		Strategy:                   StrategyAdaptive,
		Transport:                  TransportHTTP,
		RequestTimeout:             5 * time.Second,
		MaxRetries:                 3,
		RetryDelay:                 10 * time.Millisecond,
		RetryBudgetRatio:           0.2,
		RetryBudgetMinPerSec:       10,
		RetryRemoteErrors:          true,
		HedgeQuantile:              0.99,
		HedgeMin:                   time.Millisecond,
		RefreshInterval:            5 * time.Second,
		SlowStart:                  3 * time.Second,
		ProbeInterval:              time.Second,
		BalanceTolerance:           0.15,
		BalanceSlack:               time.Millisecond,
		MaxPeers:                   1024,
		LatencyWeight:              0.4,
		ErrorWeight:                0.3,
		TimeoutWeight:              0.2,
		FreshnessWeight:            0.1,
		LatencyDecay:               time.Second,
		LatencyPeakDecay:           250 * time.Millisecond,
		RateAlpha:                  0.1,
		StaleAfter:                 10 * time.Second,
		FailurePenalty:             10,
		BreakerFailureThreshold:    5,
		BreakerErrorRate:           0.3,
		BreakerMinRequests:         10,
		BreakerWindow:              10 * time.Second,
		BreakerCooldown:            10 * time.Second,
		BreakerMaxCooldown:         60 * time.Second,
		BreakerFastFailCooldown:    2 * time.Second,
		BreakerHalfOpenMaxRequests: 1,
		BreakerProbeTimeout:        time.Second,
		BreakerMaxOpenFraction:     0.5,
		BreakerJitter:              0.1,
	}
}

// PlainConfig is Node's PeerRPCClient on the same engine: a uniform random
// peer (StrategyRandom), no circuit breaker, no retry budget and one
// attempt per request (Node's default retry), no slow start, probes or
// hedging (HedgeQuantile 0). Peers still pass through the same pick, call and record steps,
// so Stats shows them; set MaxRetries for Node's retry option. The binaries
// get it with --strategy random --retries 0 --breaker-off --retry-budget-off.
func PlainConfig() Config {
	c := DefaultConfig()
	c.Strategy = StrategyRandom
	c.MaxRetries = 0
	c.RetryBudgetOff = true
	c.BreakerOff = true
	c.SlowStart = 0
	c.ProbeInterval = 0
	c.HedgeQuantile = 0
	return c
}

// ConfigError is the error Validate (and so New) returns: it names the
// Config field, the rejected value and the allowed values. The client
// binary turns it into one naming its flag and variable.
type ConfigError = validate.FieldError

// configName is how errors name Config.
const configName = "client.Config"

// Validate checks every field once; the first problem is returned as a *ConfigError.
func (c Config) Validate() error {
	if !knownPolicy(c.Strategy) {
		return &ConfigError{Config: configName, Field: "Strategy", Value: c.Strategy, Allowed: PolicyNames()}
	}
	if err := c.validateTransport(); err != nil {
		return err
	}
	type dcheck struct {
		field    string
		v        time.Duration
		min, max time.Duration
	}
	for _, d := range []dcheck{
		{"RequestTimeout", c.RequestTimeout, time.Millisecond, time.Hour},
		{"AttemptTimeout", c.AttemptTimeout, 0, time.Hour},
		{"RetryDelay", c.RetryDelay, 0, time.Minute},
		{"HedgeAfter", c.HedgeAfter, 0, time.Hour},
		{"HedgeMin", c.HedgeMin, 0, time.Minute},
		{"RefreshInterval", c.RefreshInterval, 10 * time.Millisecond, time.Hour},
		{"SlowStart", c.SlowStart, 0, 10 * time.Minute},
		{"ProbeInterval", c.ProbeInterval, 0, time.Hour},
		{"BalanceSlack", c.BalanceSlack, 0, time.Minute},
		{"LatencyDecay", c.LatencyDecay, time.Millisecond, time.Hour},
		{"LatencyPeakDecay", c.LatencyPeakDecay, time.Millisecond, time.Hour},
		{"StaleAfter", c.StaleAfter, time.Millisecond, 24 * time.Hour},
		{"BreakerWindow", c.BreakerWindow, 10 * time.Millisecond, time.Hour},
		{"BreakerCooldown", c.BreakerCooldown, time.Millisecond, time.Hour},
		{"BreakerFastFailCooldown", c.BreakerFastFailCooldown, 0, time.Hour},
		{"BreakerProbeTimeout", c.BreakerProbeTimeout, time.Millisecond, time.Hour},
	} {
		if err := validate.Range(configName, d.field, d.v, d.min, d.max); err != nil {
			return err
		}
	}
	if m := c.BreakerMaxCooldown; m < c.BreakerCooldown || m > 24*time.Hour {
		return &ConfigError{Config: configName, Field: "BreakerMaxCooldown", Value: m.String(),
			Allowed: fmt.Sprintf("the breaker cooldown (%v)..%v", c.BreakerCooldown, 24*time.Hour)}
	}
	type icheck struct {
		field    string
		v        int
		min, max int
	}
	for _, i := range []icheck{
		{"MaxRetries", c.MaxRetries, 0, maxAttempts - 1},
		{"MaxPeers", c.MaxPeers, 1, 1 << 16},
		{"BreakerFailureThreshold", c.BreakerFailureThreshold, 1, 1000},
		{"BreakerMinRequests", c.BreakerMinRequests, 1, 1 << 20},
		{"BreakerHalfOpenMaxRequests", c.BreakerHalfOpenMaxRequests, 1, 1000},
	} {
		if err := validate.Range(configName, i.field, i.v, i.min, i.max); err != nil {
			return err
		}
	}
	type fcheck struct {
		field    string
		v        float64
		min, max float64
	}
	for _, f := range []fcheck{
		{"RetryBudgetRatio", c.RetryBudgetRatio, 0, 10},
		{"RetryBudgetMinPerSec", c.RetryBudgetMinPerSec, 0, 1e6},
		{"BalanceTolerance", c.BalanceTolerance, 0, 1},
		{"LatencyWeight", c.LatencyWeight, 0, 1},
		{"ErrorWeight", c.ErrorWeight, 0, 1},
		{"TimeoutWeight", c.TimeoutWeight, 0, 1},
		{"FreshnessWeight", c.FreshnessWeight, 0, 1},
		{"RateAlpha", c.RateAlpha, 0.001, 1},
		{"FailurePenalty", c.FailurePenalty, 0, 1000},
		{"BreakerErrorRate", c.BreakerErrorRate, 0.01, 1},
		{"BreakerMaxOpenFraction", c.BreakerMaxOpenFraction, 0, 1},
		{"BreakerJitter", c.BreakerJitter, 0, 0.5},
	} {
		if err := validate.Range(configName, f.field, f.v, f.min, f.max); err != nil {
			return err
		}
	}
	if q := c.HedgeQuantile; math.IsNaN(q) || q != 0 && (q < 0.5 || q > 0.9999) {
		return &ConfigError{Config: configName, Field: "HedgeQuantile", Value: fmt.Sprint(q), Allowed: "0 (off) or 0.5..0.9999"}
	}
	sum := c.LatencyWeight + c.ErrorWeight + c.TimeoutWeight + c.FreshnessWeight
	if math.Abs(sum-1) > 1e-6 {
		return &ConfigError{Config: configName, Field: "LatencyWeight+ErrorWeight+TimeoutWeight+FreshnessWeight",
			Value: fmt.Sprintf("%g (their sum)", sum), Allowed: "weights in 0..1 summing to 1"}
	}
	return nil
}

// attemptTimeout resolves the automatic per-attempt timeout.
func (c Config) attemptTimeout() time.Duration {
	if c.AttemptTimeout > 0 {
		return min(c.AttemptTimeout, c.RequestTimeout)
	}
	return c.RequestTimeout / time.Duration(c.MaxRetries+1)
}
