package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/worker"
)

// settings are the worker's flags and WORKER_* variables, loaded by pkg/config (defaults,
// .env, environment, then flags) so every binary reads and reports settings the same way.
// Durations accept a bare integer of milliseconds or a Go duration ("50ms").
type settings struct {
	Service          string        `env:"WORKER_SERVICE_NAME" envDefault:"job_service" flag:"service" usage:"service name to announce and answer (non-empty)"`
	Port             int           `env:"WORKER_PORT" envDefault:"1337" flag:"port" allowed:"0..65535" usage:"RPC port (0 picks a free one)"`
	Bind             string        `env:"WORKER_BIND" envDefault:"0.0.0.0" flag:"bind" usage:"IP address the RPC and admin listeners bind to"`
	AnnounceInterval time.Duration `env:"WORKER_ANNOUNCE_INTERVAL" envDefault:"5000" flag:"announce-interval" allowed:"10..3600000" usage:"mean gap between announcements (each gap is jittered to 0.5-1.5x)"`
	Grapes           []string      `env:"WORKER_GRAPE" envDefault:"http://127.0.0.1:30001" flag:"grape" usage:"grape HTTP API URL(s), comma-separated; announcing fails over between them"`
	FaultLatency     time.Duration `env:"WORKER_FAULT_LATENCY" envDefault:"0" flag:"fault-latency" allowed:"0..600000" usage:"delay added to every request (e.g. 50ms)"`
	FaultJitter      time.Duration `env:"WORKER_FAULT_JITTER" envDefault:"0" flag:"fault-jitter" allowed:"0..600000" usage:"random extra delay in [0, jitter) per request"`
	FaultErrorRate   float64       `env:"WORKER_FAULT_ERROR_RATE" envDefault:"0" flag:"fault-error-rate" allowed:"0..1" usage:"share of requests answered with ERR_INJECTED_FAULT (error + timeout rate <= 1)"`
	FaultTimeoutRate float64       `env:"WORKER_FAULT_TIMEOUT_RATE" envDefault:"0" flag:"fault-timeout-rate" allowed:"0..1" usage:"share of requests never answered, held until the client gives up (error + timeout rate <= 1)"`
	AdminPort        int           `env:"WORKER_ADMIN_PORT" envDefault:"0" flag:"admin-port" allowed:"0..65535" usage:"port of the admin API: /admin/faults, /healthz, /metrics (0 = off)"`
	ShutdownGrace    time.Duration `env:"WORKER_SHUTDOWN_GRACE" envDefault:"10s" flag:"shutdown-grace" allowed:"0..600000" usage:"how long requests in flight may finish after SIGTERM"`
	MaxSleep         time.Duration `env:"WORKER_MAX_SLEEP" envDefault:"60s" flag:"max-sleep" allowed:"0..3600000" usage:"longest sleep job accepted"`
	MaxHashRounds    int           `env:"WORKER_MAX_HASH_ROUNDS" envDefault:"1000000" flag:"max-hash-rounds" allowed:"1..100000000" usage:"largest rounds a hash job may ask for"`
	BodyBudget       int64         `env:"WORKER_BODY_BUDGET" envDefault:"67108864" flag:"body-budget" allowed:"16842754.." usage:"bytes of request bodies read or decompressed at once over all connections (at least twice the 8 MiB body limit plus 64 KiB); a request that finds it spent waits up to 1 s, then gets 503 ERR_SERVER_BUSY"`
	MaxConns         int           `env:"WORKER_MAX_CONNS" envDefault:"10000" flag:"max-conns" allowed:"0.." usage:"RPC connections open at once (0 = no cap); at the cap new connections wait in the kernel backlog"`
	LogFormat        string        `env:"WORKER_LOG_FORMAT" envDefault:"auto" flag:"log-format" allowed:"auto|json|console" usage:"log format (auto = console on a terminal, json otherwise)"`
	LogLevel         string        `env:"WORKER_LOG_LEVEL" envDefault:"info" flag:"log-level" allowed:"trace|debug|info|warn|error" usage:"log level"`

	// The service host (docs/configuration.md, Service host).
	Services          []string      `env:"WORKER_SERVICES" flag:"services" usage:"more service names announced on the same port, comma-separated"`
	WebSocket         bool          `env:"WORKER_WS" envDefault:"true" flag:"ws" usage:"also serve Grenache WebSocket RPC on the RPC port (upgrade requests)"`
	DrainGrace        time.Duration `env:"WORKER_DRAIN_GRACE" envDefault:"7000" flag:"drain-grace" allowed:"0..600000" usage:"after SIGTERM and unannouncing, how long requests are still answered (callers' peer sets and lookup caches expire: Go client refresh 5 s + link 1 s + grape 0.5 s); then they get 503 ERR_SERVER_DRAINING"`
	TLSCert           string        `env:"WORKER_TLS_CERT" flag:"tls-cert" usage:"PEM certificate file: serve HTTPS/WSS (with --tls-key)"`
	TLSKey            string        `env:"WORKER_TLS_KEY" flag:"tls-key" usage:"PEM private key file of --tls-cert"`
	TLSCA             string        `env:"WORKER_TLS_CA" flag:"tls-ca" usage:"PEM CA bundle: require client certificates signed by it (mutual TLS)"`
	TLSClientAuth     string        `env:"WORKER_TLS_CLIENT_AUTH" envDefault:"require" flag:"tls-client-auth" allowed:"require|verify-if-given" usage:"with --tls-ca: require a client certificate, or verify one only if given"`
	Forward           string        `env:"WORKER_FORWARD" flag:"forward" usage:"sidecar mode: POST each request's payload to this http(s) URL instead of running the built-in jobs"`
	ForwardActionPath bool          `env:"WORKER_FORWARD_ACTION_PATH" envDefault:"false" flag:"forward-action-path" usage:"with --forward: append the payload's \"action\" to the URL path"`
	ForwardHealth     string        `env:"WORKER_FORWARD_HEALTH" flag:"forward-health" usage:"with --forward: GET this URL every --health-interval; announce only while it answers 2xx"`
	ForwardTimeout    time.Duration `env:"WORKER_FORWARD_TIMEOUT" envDefault:"30s" flag:"forward-timeout" allowed:"1..600000" usage:"with --forward: longest wait for the backend's reply"`
	HealthInterval    time.Duration `env:"WORKER_HEALTH_INTERVAL" envDefault:"1000" flag:"health-interval" allowed:"10..600000" usage:"gap between --forward-health checks"`
}

// errUsage marks invalid settings (exit status 2); pkg/config's own errors are matched too.
var errUsage = errors.New("invalid settings")

// loadSettings reads settings and turns them into a worker.Config. Errors name the flag, the
// variable and what is allowed. It returns config.ErrHelp for -h/--help.
func loadSettings(src config.Source) (settings, worker.Config, error) {
	var s settings
	if err := config.Load(&s, src); err != nil {
		if errors.Is(err, config.ErrHelp) || errors.Is(err, config.ErrVersion) {
			return s, worker.Config{}, err
		}
		return s, worker.Config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	// Checks pkg/config's tags cannot express, worded like its errors.
	var errs []error
	if strings.TrimSpace(s.Service) == "" {
		errs = append(errs, fmt.Errorf("invalid value %q for --service (env WORKER_SERVICE_NAME); allowed a non-empty name", s.Service))
	}
	if _, err := netip.ParseAddr(s.Bind); err != nil {
		errs = append(errs, fmt.Errorf("invalid value %q for --bind (env WORKER_BIND); allowed an IPv4 or IPv6 address", s.Bind))
	}
	probe := worker.DefaultConfig()
	probe.Grapes = s.Grapes
	if err := probe.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("invalid value %q for --grape (env WORKER_GRAPE): %v; allowed a comma-separated list of http(s)://host:port URLs",
			strings.Join(s.Grapes, ","), err))
	}
	faults := worker.Faults{Latency: s.FaultLatency, Jitter: s.FaultJitter, ErrorRate: s.FaultErrorRate, TimeoutRate: s.FaultTimeoutRate}
	if s.FaultErrorRate+s.FaultTimeoutRate > 1 {
		errs = append(errs, fmt.Errorf("invalid values %v + %v for --fault-error-rate + --fault-timeout-rate (env WORKER_FAULT_ERROR_RATE + WORKER_FAULT_TIMEOUT_RATE); allowed a sum of at most 1",
			s.FaultErrorRate, s.FaultTimeoutRate))
	}
	errs = append(errs, checkHostSettings(s)...)
	if len(errs) > 0 {
		return s, worker.Config{}, fmt.Errorf("%w: %w", errUsage, errors.Join(errs...))
	}
	cfg := worker.DefaultConfig()
	cfg.Service = s.Service
	cfg.Bind = s.Bind
	cfg.Port = s.Port
	cfg.Grapes = s.Grapes
	cfg.AnnounceInterval = s.AnnounceInterval
	cfg.Faults = faults
	cfg.AdminPort = s.AdminPort
	cfg.ShutdownGrace = s.ShutdownGrace
	cfg.Limits = worker.JobLimits{MaxSleep: s.MaxSleep, MaxHashRounds: s.MaxHashRounds}
	cfg.BodyBudget = s.BodyBudget
	cfg.MaxConns = s.MaxConns
	cfg.Services = s.Services
	cfg.WebSocket = s.WebSocket
	cfg.DrainGrace = s.DrainGrace
	cfg.HealthInterval = s.HealthInterval
	if s.TLSCert != "" {
		tc, err := worker.LoadTLS(s.TLSCert, s.TLSKey, s.TLSCA, s.TLSClientAuth == "require")
		if err != nil {
			return s, worker.Config{}, fmt.Errorf("%w: --tls-cert/--tls-key/--tls-ca (env WORKER_TLS_CERT/WORKER_TLS_KEY/WORKER_TLS_CA): %v; allowed readable PEM files", errUsage, err)
		}
		cfg.TLS = tc
	}
	return s, cfg, nil
}
