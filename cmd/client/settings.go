package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/pkg/validate"
)

// SharedSettings are the settings every subcommand reads (call and run,
// and lookup, announce, put, get, keygen), declared once and embedded in
// settings and dhtSettings. The type is exported because caarlos0/env only
// fills embedded structs of exported types.
type SharedSettings struct {
	Grapes   []string      `env:"CLIENT_GRAPE" envDefault:"http://127.0.0.1:30001" flag:"grape" usage:"grape HTTP API URL(s), comma-separated, tried in order"`
	Timeout  time.Duration `env:"CLIENT_REQUEST_TIMEOUT" envDefault:"5000" flag:"timeout" allowed:"1..3600000" field:"RequestTimeout" usage:"deadline of one request, retries included (lookup, announce, put, get: of the whole command, of each round with --interval)"`
	LogLevel string        `env:"CLIENT_LOG_LEVEL" envDefault:"warn" flag:"log-level" allowed:"trace|debug|info|warn|error" usage:"log level (stderr)"`
}

// settings are the flags and variables of call and run, loaded by
// pkg/config (defaults, .env, environment, flags). Durations accept a Go
// duration ("5s") or a bare number of milliseconds. A `field` tag names the
// client.Config field the setting fills (config.Apply); the envDefault
// values are client.DefaultConfig's (a test keeps them equal).
type settings struct {
	SharedSettings
	AttemptTimeout   time.Duration `env:"CLIENT_ATTEMPT_TIMEOUT" envDefault:"0" flag:"attempt-timeout" allowed:"0..3600000" field:"AttemptTimeout" usage:"deadline of one attempt (0 = timeout/(retries+1))"`
	Strategy         string        `env:"CLIENT_STRATEGY" envDefault:"adaptive" flag:"strategy" field:"Strategy" usage:"peer selection policy, one of the policies listed below (checked against client.Policies)"`
	MaxRetries       int           `env:"CLIENT_MAX_RETRIES" envDefault:"3" flag:"retries" allowed:"0..15" field:"MaxRetries" usage:"extra attempts on other peers"`
	RetryDelay       time.Duration `env:"CLIENT_RETRY_DELAY" envDefault:"10" flag:"retry-delay" allowed:"0..60000" field:"RetryDelay" usage:"base of the jittered exponential backoff between attempts"`
	RetryBudget      float64       `env:"CLIENT_RETRY_BUDGET_RATIO" envDefault:"0.2" flag:"retry-budget" allowed:"0..10" field:"RetryBudgetRatio" usage:"retries allowed per request, on top of 10/s"`
	RetryMinPerSec   float64       `env:"CLIENT_RETRY_BUDGET_MIN_PER_SEC" envDefault:"10" allowed:"0..1000000" field:"RetryBudgetMinPerSec" usage:"retries per second always allowed"`
	RetryRemote      bool          `env:"CLIENT_RETRY_REMOTE_ERRORS" envDefault:"true" flag:"retry-remote-errors" field:"RetryRemoteErrors" usage:"also retry handler errors (off for non-idempotent services)"`
	Compress         bool          `env:"CLIENT_COMPRESS" envDefault:"false" flag:"compress" field:"Compress" usage:"gzip requests and replies"`
	HedgeAfter       time.Duration `env:"CLIENT_HEDGE_AFTER" envDefault:"0" flag:"hedge-after" allowed:"0..3600000" field:"HedgeAfter" usage:"send a second copy to another peer after this long without an answer (0 = adaptive, see hedge-quantile)"`
	HedgeQuantile    float64       `env:"CLIENT_HEDGE_QUANTILE" envDefault:"0.99" flag:"hedge-quantile" allowed:"0..0.9999" field:"HedgeQuantile" usage:"with hedge-after 0: hedge after this quantile of the service's recent latency, only with retry-remote-errors and retries > 0 (0 = off, else 0.5..0.9999)"`
	HedgeMin         time.Duration `env:"CLIENT_HEDGE_MIN" envDefault:"1" allowed:"0..60000" field:"HedgeMin" usage:"floor of the adaptive hedge delay"`
	Refresh          time.Duration `env:"CLIENT_REFRESH_INTERVAL" envDefault:"5000" flag:"refresh" allowed:"10..3600000" field:"RefreshInterval" usage:"background lookup interval"`
	SlowStart        time.Duration `env:"CLIENT_SLOW_START" envDefault:"3000" flag:"slow-start" allowed:"0..600000" field:"SlowStart" usage:"ramp-up time of new and recovered peers"`
	ProbeInterval    time.Duration `env:"CLIENT_PROBE_INTERVAL" envDefault:"1000" flag:"probe-interval" allowed:"0..3600000" field:"ProbeInterval" usage:"an idle peer not picked for this long gets one request (0 = off)"`
	BalanceTolerance float64       `env:"CLIENT_BALANCE_TOLERANCE" envDefault:"0.15" flag:"balance-tolerance" allowed:"0..1" field:"BalanceTolerance" usage:"relative cost difference treated as equal"`
	BalanceSlack     time.Duration `env:"CLIENT_BALANCE_SLACK" envDefault:"1" allowed:"0..60000" field:"BalanceSlack" usage:"absolute cost difference treated as equal (e.g. 500us)"`
	MaxPeers         int           `env:"CLIENT_MAX_PEERS" envDefault:"1024" allowed:"1..65536" field:"MaxPeers" usage:"peers kept per service"`
	LatencyWeight    float64       `env:"METRICS_LATENCY_WEIGHT" envDefault:"0.4" flag:"latency-weight" allowed:"0..1" field:"LatencyWeight" usage:"score weight of latency (weights sum to 1)"`
	ErrorWeight      float64       `env:"METRICS_ERROR_WEIGHT" envDefault:"0.3" flag:"error-weight" allowed:"0..1" field:"ErrorWeight" usage:"score weight of the error rate"`
	TimeoutWeight    float64       `env:"METRICS_TIMEOUT_WEIGHT" envDefault:"0.2" flag:"timeout-weight" allowed:"0..1" field:"TimeoutWeight" usage:"score weight of the timeout rate"`
	FreshnessWeight  float64       `env:"METRICS_FRESHNESS_WEIGHT" envDefault:"0.1" flag:"freshness-weight" allowed:"0..1" field:"FreshnessWeight" usage:"score weight of staleness"`
	LatencyDecay     time.Duration `env:"METRICS_LATENCY_DECAY_MS" envDefault:"1000" allowed:"1..3600000" field:"LatencyDecay" usage:"time constant of the baseline latency EWMA"`
	LatencyPeak      time.Duration `env:"METRICS_LATENCY_PEAK_DECAY_MS" envDefault:"250" allowed:"1..3600000" field:"LatencyPeakDecay" usage:"time constant of a latency peak fading"`
	RateAlpha        float64       `env:"METRICS_RATE_ALPHA" envDefault:"0.1" allowed:"0.001..1" field:"RateAlpha" usage:"per-outcome weight of error/timeout rates"`
	StaleAfter       time.Duration `env:"METRICS_STALE_AFTER_MS" envDefault:"10000" allowed:"1..86400000" field:"StaleAfter" usage:"time constant of old evidence decaying"`
	FailurePenalty   float64       `env:"METRICS_FAILURE_PENALTY" envDefault:"10" flag:"failure-penalty" allowed:"0..1000" field:"FailurePenalty" usage:"how much errors and timeouts raise a peer's cost"`
	BrThreshold      int           `env:"CIRCUIT_BREAKER_FAILURE_THRESHOLD" envDefault:"5" flag:"breaker-threshold" allowed:"1..1000" field:"BreakerFailureThreshold" usage:"consecutive failures that open a breaker"`
	BrErrorRate      float64       `env:"CIRCUIT_BREAKER_ERROR_RATE" envDefault:"0.3" flag:"breaker-error-rate" allowed:"0.01..1" field:"BreakerErrorRate" usage:"failure share in the window that opens a breaker"`
	BrMinRequests    int           `env:"CIRCUIT_BREAKER_MIN_REQUESTS" envDefault:"10" allowed:"1..1048576" field:"BreakerMinRequests" usage:"window volume below which the rate trip is off"`
	BrWindow         time.Duration `env:"CIRCUIT_BREAKER_WINDOW_MS" envDefault:"10000" allowed:"10..3600000" field:"BreakerWindow" usage:"sliding error-rate window"`
	BrCooldown       time.Duration `env:"CIRCUIT_BREAKER_COOLDOWN_MS" envDefault:"10000" flag:"breaker-cooldown" allowed:"1..3600000" field:"BreakerCooldown" usage:"first OPEN period (doubles on repeated trips)"`
	BrMaxCooldown    time.Duration `env:"CIRCUIT_BREAKER_MAX_COOLDOWN_MS" envDefault:"60000" flag:"breaker-max-cooldown" allowed:"1..86400000" field:"BreakerMaxCooldown" usage:"cap of the growing cooldown (>= breaker-cooldown)"`
	BrFastFail       time.Duration `env:"CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS" envDefault:"2000" flag:"breaker-fast-fail-cooldown" allowed:"0..3600000" field:"BreakerFastFailCooldown" usage:"OPEN period after fast transport failures (process down), 0 = off"`
	BrHalfOpen       int           `env:"CIRCUIT_BREAKER_HALF_OPEN_MAX_REQUESTS" envDefault:"1" flag:"breaker-half-open" allowed:"1..1000" field:"BreakerHalfOpenMaxRequests" usage:"probes a HALF_OPEN breaker admits"`
	BrProbeTimeout   time.Duration `env:"CIRCUIT_BREAKER_PROBE_TIMEOUT_MS" envDefault:"1000" flag:"breaker-probe-timeout" allowed:"1..3600000" field:"BreakerProbeTimeout" usage:"deadline of a half-open probe"`
	BrMaxOpen        float64       `env:"CIRCUIT_BREAKER_MAX_OPEN_FRACTION" envDefault:"0.5" allowed:"0..1" field:"BreakerMaxOpenFraction" usage:"share of peers whose breakers may be open at once"`
	BrJitter         float64       `env:"CIRCUIT_BREAKER_JITTER" envDefault:"0.1" allowed:"0..0.5" field:"BreakerJitter" usage:"cooldown randomisation (+-fraction)"`
	BrOff            bool          `env:"CIRCUIT_BREAKER_OFF" envDefault:"false" flag:"breaker-off" field:"BreakerOff" usage:"never open a breaker (Node's behaviour; see client.PlainConfig)"`
	RetryBudgetOff   bool          `env:"CLIENT_RETRY_BUDGET_OFF" envDefault:"false" flag:"retry-budget-off" field:"RetryBudgetOff" usage:"no retry budget: every request may use all its retries (Node's behaviour)"`
	Gossip           bool          `env:"CLIENT_GOSSIP" envDefault:"false" flag:"gossip" usage:"run: share peer health hints with other clients (GOSSIP_* variables tune it)"`
	MetricsAddr      string        `env:"CLIENT_METRICS_ADDR" flag:"metrics-addr" usage:"run: serve Prometheus /metrics on this host:port while running (empty = off)"`
	UIAddr           string        `env:"CLIENT_UI_ADDR" flag:"ui" usage:"run: serve the live view (a page and its event stream) on this host:port while running (empty = off)"`
	Transport        string        `env:"CLIENT_TRANSPORT" envDefault:"http" flag:"transport" allowed:"http|https|ws|wss" field:"Transport" usage:"wire to the service's peers: http, https (TLS; mutual with --tls-cert), ws or wss (WebSocket); lookups give host:port only, so every peer must speak it"`
	TLSCA            string        `env:"CLIENT_TLS_CA" flag:"tls-ca" usage:"https/wss: PEM CA bundle the servers' certificates must chain to (empty = system roots)"`
	TLSCert          string        `env:"CLIENT_TLS_CERT" flag:"tls-cert" usage:"https/wss: PEM client certificate for mutual TLS (with --tls-key)"`
	TLSKey           string        `env:"CLIENT_TLS_KEY" flag:"tls-key" usage:"https/wss: PEM private key of --tls-cert"`
	TLSServerName    string        `env:"CLIENT_TLS_SERVER_NAME" flag:"tls-server-name" usage:"https/wss: name verified in the servers' certificates (empty = the IP dialled)"`

	// call only
	Map bool `envDefault:"false" flag:"map" usage:"call: send to every peer and print the array of results"`
	// call --stream
	Stream       string `env:"CLIENT_STREAM" flag:"stream" usage:"call: stream this file (- = stdin) as the body of a streamed request to SERVICE and print the reply as it arrives (empty = buffered call)"`
	StreamAction string `env:"CLIENT_STREAM_ACTION" flag:"action" usage:"call --stream: the _a header (action), e.g. sha256 for the worker's streaming job (empty = none)"`
	StreamArgs   string `env:"CLIENT_STREAM_ARGS" flag:"args" usage:"call --stream: JSON sent in the _ar header (empty = none)"`

	// run only
	Service     string        `flag:"service" usage:"run: service to load"`
	Duration    time.Duration `flag:"duration" envDefault:"30s" allowed:"1..86400000" usage:"run: how long to send"`
	Rate        float64       `flag:"rate" envDefault:"0" allowed:"0..1000000" usage:"run: requests per second, open loop (latency from intended send time)"`
	Concurrency int           `flag:"concurrency" envDefault:"0" allowed:"0..100000" usage:"run: requests in flight, closed loop (default 16 when no --rate)"`
	Payload     string        `flag:"payload" envDefault:"null" usage:"run: JSON payload of every request"`
	JSONOut     string        `flag:"json" usage:"run: write the JSON report to this file"`
	HTMLOut     string        `flag:"html" usage:"run: write the HTML report to this file"`
}

// errUsage marks invalid settings (exit status 2).
var errUsage = errors.New("invalid settings")

// toConfig builds the client configuration and validates it; errors name
// the flag, the variable and the allowed range.
func (s *settings) toConfig() (client.Config, error) {
	c := client.DefaultConfig()
	if err := config.Apply(&c, s); err != nil {
		return c, err
	}
	if err := s.loadTLS(&c); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, config.Attribute(s, err))
	}
	return c, nil
}

// grapeError words link.New's error about the --grape URLs like the other
// settings errors: the flag, the variable, the rejected value.
func grapeError(grapes []string, err error) error {
	value := strings.Join(grapes, ",")
	var fe *validate.FieldError
	if errors.As(err, &fe) && len(grapes) > 1 {
		value = fe.Value // the one that failed
	}
	return &config.Error{Flag: "--grape", Env: "CLIENT_GRAPE", Value: value, Allowed: "comma-separated http(s)://host:port URLs"}
}

// policyHelp lists the registered policies for --help: the allowed values
// of --strategy come from the client's registry, not from a tag.
func policyHelp() string {
	var b strings.Builder
	b.WriteString("\nPolicies for --strategy (env CLIENT_STRATEGY):\n")
	for _, p := range client.Policies() {
		fmt.Fprintf(&b, "  %-14s %s\n", p.Name, p.Help)
	}
	b.WriteString("Node's plain client on the same engine: --strategy random --retries 0 --breaker-off --retry-budget-off\n")
	return b.String()
}

// loadTLS reads the --tls-* files into c.TLS for https and wss; they are an
// error with http and ws, where they would be silently unused.
func (s *settings) loadTLS(c *client.Config) error {
	tlsFlags := "--tls-ca, --tls-cert, --tls-key, --tls-server-name (env CLIENT_TLS_CA, CLIENT_TLS_CERT, CLIENT_TLS_KEY, CLIENT_TLS_SERVER_NAME)"
	given := s.TLSCA != "" || s.TLSCert != "" || s.TLSKey != "" || s.TLSServerName != ""
	if s.Transport != client.TransportHTTPS && s.Transport != client.TransportWSS {
		if given {
			return fmt.Errorf("%w: invalid value %s for --transport (env CLIENT_TRANSPORT) with %s set; allowed https or wss", errUsage, s.Transport, tlsFlags)
		}
		return nil
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return fmt.Errorf("%w: invalid values %q, %q for --tls-cert, --tls-key (env CLIENT_TLS_CERT, CLIENT_TLS_KEY); allowed both PEM file paths (mutual TLS) or neither", errUsage, s.TLSCert, s.TLSKey)
	}
	tc, err := transport.LoadClientTLS(s.TLSCA, s.TLSCert, s.TLSKey, s.TLSServerName)
	if err != nil {
		return fmt.Errorf("%w: %s: %v; allowed readable PEM files", errUsage, tlsFlags, err)
	}
	c.TLS = tc
	return nil
}
