package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/rs/zerolog"
)

// Config holds every knob of the adaptive client. Start from DefaultConfig
// (or FromEnv) and change what you need; New validates it once.
//
// Breakers and retries apply to every strategy, so comparing strategies
// measures peer selection alone.
type Config struct {
	// Strategy names a registered Policy: "adaptive" (the default), or any
	// other name Policies lists, including those a program registered with
	// RegisterPolicy (CLIENT_STRATEGY).
	Strategy string
	// RequestTimeout bounds a whole Request, all retries included (CLIENT_REQUEST_TIMEOUT, ms).
	RequestTimeout time.Duration
	// AttemptTimeout bounds one attempt; 0 means RequestTimeout/(MaxRetries+1) so a
	// black-holed attempt still leaves time to retry elsewhere (CLIENT_ATTEMPT_TIMEOUT, ms).
	AttemptTimeout time.Duration
	// MaxRetries is the number of extra attempts after the first, each on a
	// different peer when one is available (CLIENT_MAX_RETRIES).
	MaxRetries int
	// RetryDelay is the base of the fully jittered exponential backoff before a
	// retry (CLIENT_RETRY_DELAY, ms). 0 retries at once.
	RetryDelay time.Duration
	// RetryBudgetRatio is the share of requests that may be retried, on top of
	// RetryBudgetMinPerSec (CLIENT_RETRY_BUDGET_RATIO).
	RetryBudgetRatio float64
	// RetryBudgetMinPerSec keeps a few retries available at low traffic (CLIENT_RETRY_BUDGET_MIN_PER_SEC).
	RetryBudgetMinPerSec float64
	// RetryBudgetOff lifts the retry budget: every request may use all its
	// MaxRetries, as Node's client does (CLIENT_RETRY_BUDGET_OFF). A fleet
	// of such clients can multiply the load on a struggling service.
	RetryBudgetOff bool
	// RetryRemoteErrors also retries errors returned by the peer's handler. The
	// fault scenarios need it (a worker that fails half its jobs); turn it off
	// for handlers that are not idempotent (CLIENT_RETRY_REMOTE_ERRORS).
	RetryRemoteErrors bool
	// HedgeAfter, when > 0, sends a second copy of a request to another
	// peer if the first has not answered after this long (The Tail at
	// Scale); the first success wins, the other is canceled. Hedges spend the
	// retry budget. 0 = the adaptive hedge below (CLIENT_HEDGE_AFTER, ms).
	HedgeAfter time.Duration
	// HedgeQuantile, when HedgeAfter is 0, hedges an attempt that has not
	// answered after this quantile of the service's recent successful
	// attempt latencies (all peers, the last 5-10 s), so the few requests
	// that still reach a slow peer (exploration, slow start) do not make the
	// far tail. It is on only where a second copy is safe: with
	// RetryRemoteErrors (the idempotency switch) and MaxRetries > 0; each
	// hedge spends a retry-budget token. 0 = off (CLIENT_HEDGE_QUANTILE).
	HedgeQuantile float64
	// HedgeMin is the floor of the adaptive hedge delay, so a service of
	// sub-millisecond replies is not hedged on scheduling noise (CLIENT_HEDGE_MIN, ms).
	HedgeMin time.Duration
	// Compress asks peers to gzip replies (CLIENT_COMPRESS).
	Compress bool

	// RefreshInterval is how often the peer set of every used service is
	// looked up again in the background (CLIENT_REFRESH_INTERVAL, ms).
	RefreshInterval time.Duration
	// SlowStart is how long a new or recovered peer takes to reach its full share (CLIENT_SLOW_START, ms).
	SlowStart time.Duration
	// ProbeInterval: a healthy-enough peer not picked for this long gets one
	// request so its metrics stay fresh (CLIENT_PROBE_INTERVAL, ms). 0 disables.
	ProbeInterval time.Duration
	// BalanceTolerance treats two costs within this relative distance as equal
	// and breaks the tie by least recent pick, so healthy peers share evenly (CLIENT_BALANCE_TOLERANCE).
	BalanceTolerance float64
	// BalanceSlack is an absolute cost distance also treated as equal, so
	// sub-millisecond scheduling noise does not skew shares (CLIENT_BALANCE_SLACK, ms, fractional allowed).
	BalanceSlack time.Duration
	// MaxPeers bounds the peers kept per service (a lookup is remote input) (CLIENT_MAX_PEERS).
	MaxPeers int

	// LatencyWeight, ErrorWeight, TimeoutWeight and FreshnessWeight combine the
	// normalised metrics into the readable score; they must sum to 1
	// (METRICS_LATENCY_WEIGHT, METRICS_ERROR_WEIGHT, METRICS_TIMEOUT_WEIGHT, METRICS_FRESHNESS_WEIGHT).
	LatencyWeight, ErrorWeight, TimeoutWeight, FreshnessWeight float64
	// LatencyDecay is the time constant of the baseline latency EWMA. The
	// EWMA is time-weighted: a sample after a quiet spell counts for more,
	// so a peer that was avoided for a while is re-measured by one request
	// (METRICS_LATENCY_DECAY_MS).
	LatencyDecay time.Duration
	// LatencyPeakDecay is the time constant with which a latency peak (a
	// sample above the estimate, taken at once) fades back to the baseline
	// (METRICS_LATENCY_PEAK_DECAY_MS). Short, so scheduling noise does not
	// starve a healthy peer.
	LatencyPeakDecay time.Duration
	// RateAlpha is the per-outcome weight of the error and timeout rate EWMAs (METRICS_RATE_ALPHA).
	RateAlpha float64
	// StaleAfter is the time constant with which unrefreshed evidence (error
	// and timeout rates) decays toward the neutral prior (METRICS_STALE_AFTER_MS).
	StaleAfter time.Duration
	// FailurePenalty scales how much errors and timeouts raise a peer's cost:
	// cost × (1 + FailurePenalty·(we·err + wt·timeout)/(we+wt)) (METRICS_FAILURE_PENALTY).
	FailurePenalty float64

	// BreakerFailureThreshold consecutive failures open a breaker (CIRCUIT_BREAKER_FAILURE_THRESHOLD).
	BreakerFailureThreshold int
	// BreakerErrorRate opens a breaker when this share of the outcomes in the
	// window failed; it catches a peer failing half its requests, which never
	// strings together enough consecutive failures (CIRCUIT_BREAKER_ERROR_RATE).
	BreakerErrorRate float64
	// BreakerMinRequests is the window volume below which the rate trip is off (CIRCUIT_BREAKER_MIN_REQUESTS).
	BreakerMinRequests int
	// BreakerWindow is the length of the sliding error-rate window (CIRCUIT_BREAKER_WINDOW_MS).
	BreakerWindow time.Duration
	// BreakerCooldown is how long a breaker stays OPEN after its first trip (CIRCUIT_BREAKER_COOLDOWN_MS).
	BreakerCooldown time.Duration
	// BreakerMaxCooldown caps the cooldown, which doubles each time a peer
	// trips again soon after recovering (CIRCUIT_BREAKER_MAX_COOLDOWN_MS).
	BreakerMaxCooldown time.Duration
	// BreakerFastFailCooldown replaces BreakerCooldown as the base when the
	// failure that opened the breaker was a fast transport error (connection
	// refused: the process is down, probing it is nearly free), so a
	// restarted peer is back within seconds; 0 disables
	// (CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS).
	BreakerFastFailCooldown time.Duration
	// BreakerHalfOpenMaxRequests is the number of probes a HALF_OPEN breaker admits (CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS).
	BreakerHalfOpenMaxRequests int
	// BreakerProbeTimeout is the attempt timeout of a half-open probe; a probe
	// that never settles cannot keep a breaker half-open (CIRCUIT_BREAKER_PROBE_TIMEOUT_MS).
	BreakerProbeTimeout time.Duration
	// BreakerMaxOpenFraction caps the share of a service's peers whose breakers
	// may be open at once; at least one always stays closed (CIRCUIT_BREAKER_MAX_OPEN_FRACTION).
	BreakerMaxOpenFraction float64
	// BreakerJitter randomises cooldowns by ±this fraction so clients do not probe in lockstep (CIRCUIT_BREAKER_JITTER).
	BreakerJitter float64
	// BreakerOff keeps every breaker closed: failing peers keep their
	// share of traffic, as with Node's client (CIRCUIT_BREAKER_OFF).
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
	// peer) (CLIENT_TRANSPORT). A Grenache lookup returns host:port only,
	// so the transport is configuration, not discovery: every peer of a
	// service must speak it. Callers overrides it per service.
	Transport string
	// TLS configures https and wss: RootCAs to trust the servers' CA (nil:
	// the system roots), Certificates for mutual TLS, ServerName when the
	// peers' certificates do not name the IP they are dialled at. It must
	// be nil for http and ws (CLIENT_TLS_CA, CLIENT_TLS_CERT,
	// CLIENT_TLS_KEY, CLIENT_TLS_SERVER_NAME in the binaries).
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

// envConfig mirrors Config with the units the environment uses: durations
// as envMS (a bare integer of milliseconds or a Go duration).
type envConfig struct {
	Strategy                   *string  `env:"CLIENT_STRATEGY"`
	RequestTimeout             *envMS   `env:"CLIENT_REQUEST_TIMEOUT"`
	AttemptTimeout             *envMS   `env:"CLIENT_ATTEMPT_TIMEOUT"`
	MaxRetries                 *int     `env:"CLIENT_MAX_RETRIES"`
	RetryDelay                 *envMS   `env:"CLIENT_RETRY_DELAY"`
	RetryBudgetRatio           *float64 `env:"CLIENT_RETRY_BUDGET_RATIO"`
	RetryBudgetMinPerSec       *float64 `env:"CLIENT_RETRY_BUDGET_MIN_PER_SEC"`
	RetryBudgetOff             *bool    `env:"CLIENT_RETRY_BUDGET_OFF"`
	RetryRemoteErrors          *bool    `env:"CLIENT_RETRY_REMOTE_ERRORS"`
	Compress                   *bool    `env:"CLIENT_COMPRESS"`
	HedgeAfter                 *envMS   `env:"CLIENT_HEDGE_AFTER"`
	HedgeQuantile              *float64 `env:"CLIENT_HEDGE_QUANTILE"`
	HedgeMin                   *envMS   `env:"CLIENT_HEDGE_MIN"`
	RefreshInterval            *envMS   `env:"CLIENT_REFRESH_INTERVAL"`
	SlowStart                  *envMS   `env:"CLIENT_SLOW_START"`
	ProbeInterval              *envMS   `env:"CLIENT_PROBE_INTERVAL"`
	BalanceTolerance           *float64 `env:"CLIENT_BALANCE_TOLERANCE"`
	BalanceSlack               *float64 `env:"CLIENT_BALANCE_SLACK"`
	MaxPeers                   *int     `env:"CLIENT_MAX_PEERS"`
	LatencyWeight              *float64 `env:"METRICS_LATENCY_WEIGHT"`
	ErrorWeight                *float64 `env:"METRICS_ERROR_WEIGHT"`
	TimeoutWeight              *float64 `env:"METRICS_TIMEOUT_WEIGHT"`
	FreshnessWeight            *float64 `env:"METRICS_FRESHNESS_WEIGHT"`
	LatencyDecay               *envMS   `env:"METRICS_LATENCY_DECAY_MS"`
	LatencyPeakDecay           *envMS   `env:"METRICS_LATENCY_PEAK_DECAY_MS"`
	RateAlpha                  *float64 `env:"METRICS_RATE_ALPHA"`
	StaleAfter                 *envMS   `env:"METRICS_STALE_AFTER_MS"`
	FailurePenalty             *float64 `env:"METRICS_FAILURE_PENALTY"`
	BreakerFailureThreshold    *int     `env:"CIRCUIT_BREAKER_FAILURE_THRESHOLD"`
	BreakerErrorRate           *float64 `env:"CIRCUIT_BREAKER_ERROR_RATE"`
	BreakerMinRequests         *int     `env:"CIRCUIT_BREAKER_MIN_REQUESTS"`
	BreakerWindow              *envMS   `env:"CIRCUIT_BREAKER_WINDOW_MS"`
	BreakerCooldown            *envMS   `env:"CIRCUIT_BREAKER_COOLDOWN_MS"`
	BreakerMaxCooldown         *envMS   `env:"CIRCUIT_BREAKER_MAX_COOLDOWN_MS"`
	BreakerFastFailCooldown    *envMS   `env:"CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS"`
	BreakerHalfOpenMaxRequests *int     `env:"CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS"`
	BreakerProbeTimeout        *envMS   `env:"CIRCUIT_BREAKER_PROBE_TIMEOUT_MS"`
	BreakerMaxOpenFraction     *float64 `env:"CIRCUIT_BREAKER_MAX_OPEN_FRACTION"`
	BreakerJitter              *float64 `env:"CIRCUIT_BREAKER_JITTER"`
	BreakerOff                 *bool    `env:"CIRCUIT_BREAKER_OFF"`
}

// FromEnv returns DefaultConfig overridden by the environment variables named
// in the Config field comments. A duration variable (marked "ms") takes a bare
// integer of milliseconds or a Go duration ("2s"). It does not validate: New
// (or Validate) does, after flags had their say.
func FromEnv() (Config, error) {
	return FromEnvMap(nil)
}

// FromEnvMap is FromEnv reading from vars instead of the process environment
// when vars is not nil (tests use it).
func FromEnvMap(vars map[string]string) (Config, error) {
	var e envConfig
	opts := env.Options{}
	if vars != nil {
		opts.Environment = vars
	}
	if err := env.ParseWithOptions(&e, opts); err != nil {
		return Config{}, envError(err)
	}
	c := DefaultConfig()
	setS(&c.Strategy, e.Strategy)
	setMS(&c.RequestTimeout, e.RequestTimeout)
	setMS(&c.AttemptTimeout, e.AttemptTimeout)
	setI(&c.MaxRetries, e.MaxRetries)
	setMS(&c.RetryDelay, e.RetryDelay)
	setF(&c.RetryBudgetRatio, e.RetryBudgetRatio)
	setF(&c.RetryBudgetMinPerSec, e.RetryBudgetMinPerSec)
	setB(&c.RetryBudgetOff, e.RetryBudgetOff)
	setB(&c.RetryRemoteErrors, e.RetryRemoteErrors)
	setB(&c.Compress, e.Compress)
	setMS(&c.HedgeAfter, e.HedgeAfter)
	setF(&c.HedgeQuantile, e.HedgeQuantile)
	setMS(&c.HedgeMin, e.HedgeMin)
	setMS(&c.RefreshInterval, e.RefreshInterval)
	setMS(&c.SlowStart, e.SlowStart)
	setMS(&c.ProbeInterval, e.ProbeInterval)
	setF(&c.BalanceTolerance, e.BalanceTolerance)
	if e.BalanceSlack != nil {
		c.BalanceSlack = time.Duration(*e.BalanceSlack * float64(time.Millisecond))
	}
	setI(&c.MaxPeers, e.MaxPeers)
	setF(&c.LatencyWeight, e.LatencyWeight)
	setF(&c.ErrorWeight, e.ErrorWeight)
	setF(&c.TimeoutWeight, e.TimeoutWeight)
	setF(&c.FreshnessWeight, e.FreshnessWeight)
	setMS(&c.LatencyDecay, e.LatencyDecay)
	setMS(&c.LatencyPeakDecay, e.LatencyPeakDecay)
	setF(&c.RateAlpha, e.RateAlpha)
	setMS(&c.StaleAfter, e.StaleAfter)
	setF(&c.FailurePenalty, e.FailurePenalty)
	setI(&c.BreakerFailureThreshold, e.BreakerFailureThreshold)
	setF(&c.BreakerErrorRate, e.BreakerErrorRate)
	setI(&c.BreakerMinRequests, e.BreakerMinRequests)
	setMS(&c.BreakerWindow, e.BreakerWindow)
	setMS(&c.BreakerCooldown, e.BreakerCooldown)
	setMS(&c.BreakerMaxCooldown, e.BreakerMaxCooldown)
	setMS(&c.BreakerFastFailCooldown, e.BreakerFastFailCooldown)
	setI(&c.BreakerHalfOpenMaxRequests, e.BreakerHalfOpenMaxRequests)
	setMS(&c.BreakerProbeTimeout, e.BreakerProbeTimeout)
	setF(&c.BreakerMaxOpenFraction, e.BreakerMaxOpenFraction)
	setF(&c.BreakerJitter, e.BreakerJitter)
	setB(&c.BreakerOff, e.BreakerOff)
	return c, nil
}

// envError names the variable of the first unparsable value; caarlos0/env
// names only the Go field, which the person setting the variable never sees.
func envError(err error) error {
	var pe env.ParseError
	if errors.As(err, &pe) {
		if f, ok := reflect.TypeOf(envConfig{}).FieldByName(pe.Name); ok {
			return fmt.Errorf("client config: invalid %s: %w", f.Tag.Get("env"), pe.Err)
		}
	}
	return fmt.Errorf("client config: %w", err)
}

func setS(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}
func setI(dst *int, v *int) {
	if v != nil {
		*dst = *v
	}
}
func setF(dst *float64, v *float64) {
	if v != nil {
		*dst = *v
	}
}
func setB(dst *bool, v *bool) {
	if v != nil {
		*dst = *v
	}
}
func setMS(dst *time.Duration, v *envMS) {
	if v != nil {
		*dst = time.Duration(*v)
	}
}

// envMS is a duration variable: a bare integer means milliseconds, the unit
// the variables have always used, and a Go duration ("2s", "1500ms") is
// accepted too, as the client binary's flags and variables do.
type envMS time.Duration

// UnmarshalText parses one variable with the binaries' parser; caarlos0/env
// calls it.
func (d *envMS) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := config.ParseMillis(s)
	switch {
	case errors.Is(err, config.ErrTooLarge):
		return fmt.Errorf("%q is too large; allowed %s", s, config.DurationSyntax)
	case err != nil:
		return fmt.Errorf("%q: allowed %s", s, config.DurationSyntax)
	}
	*d = envMS(v)
	return nil
}

// ConfigError names the invalid setting, its environment variable and the
// allowed range, so a binary can add its flag name and exit 2.
type ConfigError struct {
	Field   string // Go field name in Config
	Env     string // environment variable
	Allowed string // allowed range, human readable
	Value   string // the rejected value
}

// Error implements error.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid %s=%s (Config.%s): allowed %s", e.Env, e.Value, e.Field, e.Allowed)
}

// Validate checks every field once; the first problem is returned as a *ConfigError.
func (c Config) Validate() error {
	bad := func(field, envName, allowed string, v any) error {
		return &ConfigError{Field: field, Env: envName, Allowed: allowed, Value: fmt.Sprint(v)}
	}
	durMS := func(d time.Duration) string { return fmt.Sprintf("%gms", float64(d)/1e6) }
	if !knownPolicy(c.Strategy) {
		return bad("Strategy", "CLIENT_STRATEGY", PolicyNames(), c.Strategy)
	}
	if err := c.validateTransport(); err != nil {
		return err
	}
	type dcheck struct {
		field, env string
		v          time.Duration
		min, max   time.Duration
	}
	for _, d := range []dcheck{
		{"RequestTimeout", "CLIENT_REQUEST_TIMEOUT", c.RequestTimeout, time.Millisecond, time.Hour},
		{"AttemptTimeout", "CLIENT_ATTEMPT_TIMEOUT", c.AttemptTimeout, 0, time.Hour},
		{"RetryDelay", "CLIENT_RETRY_DELAY", c.RetryDelay, 0, time.Minute},
		{"HedgeAfter", "CLIENT_HEDGE_AFTER", c.HedgeAfter, 0, time.Hour},
		{"HedgeMin", "CLIENT_HEDGE_MIN", c.HedgeMin, 0, time.Minute},
		{"RefreshInterval", "CLIENT_REFRESH_INTERVAL", c.RefreshInterval, 10 * time.Millisecond, time.Hour},
		{"SlowStart", "CLIENT_SLOW_START", c.SlowStart, 0, 10 * time.Minute},
		{"ProbeInterval", "CLIENT_PROBE_INTERVAL", c.ProbeInterval, 0, time.Hour},
		{"BalanceSlack", "CLIENT_BALANCE_SLACK", c.BalanceSlack, 0, time.Minute},
		{"LatencyDecay", "METRICS_LATENCY_DECAY_MS", c.LatencyDecay, time.Millisecond, time.Hour},
		{"LatencyPeakDecay", "METRICS_LATENCY_PEAK_DECAY_MS", c.LatencyPeakDecay, time.Millisecond, time.Hour},
		{"StaleAfter", "METRICS_STALE_AFTER_MS", c.StaleAfter, time.Millisecond, 24 * time.Hour},
		{"BreakerWindow", "CIRCUIT_BREAKER_WINDOW_MS", c.BreakerWindow, 10 * time.Millisecond, time.Hour},
		{"BreakerCooldown", "CIRCUIT_BREAKER_COOLDOWN_MS", c.BreakerCooldown, time.Millisecond, time.Hour},
		{"BreakerMaxCooldown", "CIRCUIT_BREAKER_MAX_COOLDOWN_MS", c.BreakerMaxCooldown, c.BreakerCooldown, 24 * time.Hour},
		{"BreakerFastFailCooldown", "CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS", c.BreakerFastFailCooldown, 0, time.Hour},
		{"BreakerProbeTimeout", "CIRCUIT_BREAKER_PROBE_TIMEOUT_MS", c.BreakerProbeTimeout, time.Millisecond, time.Hour},
	} {
		if d.v < d.min || d.v > d.max {
			return bad(d.field, d.env, durMS(d.min)+".."+durMS(d.max), durMS(d.v))
		}
	}
	type icheck struct {
		field, env string
		v, min     int
		max        int
	}
	for _, i := range []icheck{
		{"MaxRetries", "CLIENT_MAX_RETRIES", c.MaxRetries, 0, maxAttempts - 1},
		{"MaxPeers", "CLIENT_MAX_PEERS", c.MaxPeers, 1, 1 << 16},
		{"BreakerFailureThreshold", "CIRCUIT_BREAKER_FAILURE_THRESHOLD", c.BreakerFailureThreshold, 1, 1000},
		{"BreakerMinRequests", "CIRCUIT_BREAKER_MIN_REQUESTS", c.BreakerMinRequests, 1, 1 << 20},
		{"BreakerHalfOpenMaxRequests", "CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS", c.BreakerHalfOpenMaxRequests, 1, 1000},
	} {
		if i.v < i.min || i.v > i.max {
			return bad(i.field, i.env, fmt.Sprintf("%d..%d", i.min, i.max), i.v)
		}
	}
	type fcheck struct {
		field, env string
		v, min     float64
		max        float64
	}
	for _, f := range []fcheck{
		{"RetryBudgetRatio", "CLIENT_RETRY_BUDGET_RATIO", c.RetryBudgetRatio, 0, 10},
		{"RetryBudgetMinPerSec", "CLIENT_RETRY_BUDGET_MIN_PER_SEC", c.RetryBudgetMinPerSec, 0, 1e6},
		{"BalanceTolerance", "CLIENT_BALANCE_TOLERANCE", c.BalanceTolerance, 0, 1},
		{"LatencyWeight", "METRICS_LATENCY_WEIGHT", c.LatencyWeight, 0, 1},
		{"ErrorWeight", "METRICS_ERROR_WEIGHT", c.ErrorWeight, 0, 1},
		{"TimeoutWeight", "METRICS_TIMEOUT_WEIGHT", c.TimeoutWeight, 0, 1},
		{"FreshnessWeight", "METRICS_FRESHNESS_WEIGHT", c.FreshnessWeight, 0, 1},
		{"RateAlpha", "METRICS_RATE_ALPHA", c.RateAlpha, 0.001, 1},
		{"FailurePenalty", "METRICS_FAILURE_PENALTY", c.FailurePenalty, 0, 1000},
		{"BreakerErrorRate", "CIRCUIT_BREAKER_ERROR_RATE", c.BreakerErrorRate, 0.01, 1},
		{"BreakerMaxOpenFraction", "CIRCUIT_BREAKER_MAX_OPEN_FRACTION", c.BreakerMaxOpenFraction, 0, 1},
		{"BreakerJitter", "CIRCUIT_BREAKER_JITTER", c.BreakerJitter, 0, 0.5},
	} {
		if math.IsNaN(f.v) || f.v < f.min || f.v > f.max {
			return bad(f.field, f.env, fmt.Sprintf("%g..%g", f.min, f.max), f.v)
		}
	}
	if q := c.HedgeQuantile; math.IsNaN(q) || q != 0 && (q < 0.5 || q > 0.9999) {
		return bad("HedgeQuantile", "CLIENT_HEDGE_QUANTILE", "0 (off) or 0.5..0.9999", q)
	}
	sum := c.LatencyWeight + c.ErrorWeight + c.TimeoutWeight + c.FreshnessWeight
	if math.Abs(sum-1) > 1e-6 {
		return &ConfigError{Field: "LatencyWeight+ErrorWeight+TimeoutWeight+FreshnessWeight",
			Env:     "METRICS_LATENCY_WEIGHT+METRICS_ERROR_WEIGHT+METRICS_TIMEOUT_WEIGHT+METRICS_FRESHNESS_WEIGHT",
			Allowed: "weights in 0..1 summing to 1", Value: fmt.Sprintf("%g", sum)}
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
