package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/worker"
)

// rawSettings holds every setting as text: caarlos0/env fills it from the environment (with
// the documented defaults), flags then override it, and parse turns it into a worker.Config.
// Keeping the text until the end lets every error name the flag, the variable and what is
// allowed, whichever of them supplied the value.
type rawSettings struct {
	Service          string `env:"WORKER_SERVICE_NAME" envDefault:"job_service"`
	Port             string `env:"WORKER_PORT" envDefault:"1337"`
	Bind             string `env:"WORKER_BIND" envDefault:"0.0.0.0"`
	AnnounceInterval string `env:"WORKER_ANNOUNCE_INTERVAL" envDefault:"5000"`
	Grape            string `env:"WORKER_GRAPE" envDefault:"http://127.0.0.1:30001"`
	FaultLatency     string `env:"WORKER_FAULT_LATENCY" envDefault:"0"`
	FaultJitter      string `env:"WORKER_FAULT_JITTER" envDefault:"0"`
	FaultErrorRate   string `env:"WORKER_FAULT_ERROR_RATE" envDefault:"0"`
	FaultTimeoutRate string `env:"WORKER_FAULT_TIMEOUT_RATE" envDefault:"0"`
	AdminPort        string `env:"WORKER_ADMIN_PORT" envDefault:"0"`
	ShutdownGrace    string `env:"WORKER_SHUTDOWN_GRACE" envDefault:"10s"`
	MaxSleep         string `env:"WORKER_MAX_SLEEP" envDefault:"60s"`
	MaxHashRounds    string `env:"WORKER_MAX_HASH_ROUNDS" envDefault:"1000000"`
	LogLevel         string `env:"WORKER_LOG_LEVEL" envDefault:"info"`
}

// setting ties one field of rawSettings to its flag, variable, help text and parser.
type setting struct {
	flag, env, allowed, help string
	val                      *string
	apply                    func(s string, c *options) error
}

// options is the parsed result: the worker config plus what only the binary needs.
type options struct {
	cfg      worker.Config
	logLevel zerolog.Level
}

func settings(r *rawSettings) []setting {
	return []setting{
		{"service", "WORKER_SERVICE_NAME", "a non-empty name", "service name to announce and serve", &r.Service,
			func(s string, o *options) error {
				if strings.TrimSpace(s) == "" {
					return errors.New("empty")
				}
				o.cfg.Service = s
				return nil
			}},
		{"port", "WORKER_PORT", "an integer 0..65535 (0 = any free port)", "RPC port", &r.Port,
			intIn(0, 65535, func(n int, o *options) { o.cfg.Port = n })},
		{"bind", "WORKER_BIND", "an IP address", "IP to bind the RPC and admin listeners to", &r.Bind,
			func(s string, o *options) error {
				if _, err := netip.ParseAddr(s); err != nil {
					return err
				}
				o.cfg.Bind = s
				return nil
			}},
		{"announce-interval", "WORKER_ANNOUNCE_INTERVAL", "an integer number of milliseconds 10..3600000", "mean gap between announcements, ms (jittered 0.5-1.5x)", &r.AnnounceInterval,
			intIn(10, 3600000, func(n int, o *options) { o.cfg.AnnounceInterval = time.Duration(n) * time.Millisecond })},
		{"grape", "WORKER_GRAPE", "a comma-separated list of http(s)://host:port URLs", "grape HTTP API URL(s), comma-separated; the link fails over between them", &r.Grape,
			func(s string, o *options) error {
				var gs []string
				for _, g := range strings.Split(s, ",") {
					if g = strings.TrimSpace(g); g != "" {
						gs = append(gs, g)
					}
				}
				o.cfg.Grapes = gs
				c := worker.DefaultConfig()
				c.Grapes = gs
				return c.Validate()
			}},
		{"fault-latency", "WORKER_FAULT_LATENCY", "a duration 0..10m such as 50ms (a bare number is ms)", "delay added to every request", &r.FaultLatency,
			durationIn(worker.MaxFaultDelay, func(d time.Duration, o *options) { o.cfg.Faults.Latency = d })},
		{"fault-jitter", "WORKER_FAULT_JITTER", "a duration 0..10m such as 10ms (a bare number is ms)", "random extra delay in [0, jitter) per request", &r.FaultJitter,
			durationIn(worker.MaxFaultDelay, func(d time.Duration, o *options) { o.cfg.Faults.Jitter = d })},
		{"fault-error-rate", "WORKER_FAULT_ERROR_RATE", "a number 0..1 (with the timeout rate, at most 1 in total)", "share of requests answered with ERR_INJECTED_FAULT", &r.FaultErrorRate,
			rate(func(x float64, o *options) { o.cfg.Faults.ErrorRate = x })},
		{"fault-timeout-rate", "WORKER_FAULT_TIMEOUT_RATE", "a number 0..1 (with the error rate, at most 1 in total)", "share of requests never answered (held until the client gives up)", &r.FaultTimeoutRate,
			rate(func(x float64, o *options) { o.cfg.Faults.TimeoutRate = x })},
		{"admin-port", "WORKER_ADMIN_PORT", "an integer 0..65535 (0 = admin listener off)", "port of the admin API (/admin/faults, /healthz, /metrics)", &r.AdminPort,
			intIn(0, 65535, func(n int, o *options) { o.cfg.AdminPort = n })},
		{"shutdown-grace", "WORKER_SHUTDOWN_GRACE", "a duration 0..10m such as 10s (a bare number is ms)", "how long to let requests in flight finish on SIGTERM", &r.ShutdownGrace,
			durationIn(10*time.Minute, func(d time.Duration, o *options) { o.cfg.ShutdownGrace = d })},
		{"max-sleep", "WORKER_MAX_SLEEP", "a duration 0..1h (a bare number is ms)", "longest sleep job accepted", &r.MaxSleep,
			durationIn(time.Hour, func(d time.Duration, o *options) { o.cfg.Limits.MaxSleep = d })},
		{"max-hash-rounds", "WORKER_MAX_HASH_ROUNDS", "an integer 1..100000000", "largest rounds a hash job may ask for", &r.MaxHashRounds,
			intIn(1, 100000000, func(n int, o *options) { o.cfg.Limits.MaxHashRounds = n })},
		{"log-level", "WORKER_LOG_LEVEL", "one of debug, info, warn, error", "log level", &r.LogLevel,
			func(s string, o *options) error {
				switch s {
				case "debug", "info", "warn", "error":
					o.logLevel, _ = zerolog.ParseLevel(s)
					return nil
				}
				return errors.New("unknown level")
			}},
	}
}

func intIn(lo, hi int, set func(int, *options)) func(string, *options) error {
	return func(s string, o *options) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < lo || n > hi {
			return errors.New("out of range or not an integer")
		}
		set(n, o)
		return nil
	}
}

// parseDuration accepts Go durations ("50ms", "1.5s") and bare numbers meaning milliseconds,
// since the admin API and most env files speak milliseconds.
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if ms, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(ms * float64(time.Millisecond)), nil
	}
	return time.ParseDuration(s)
}

func durationIn(hi time.Duration, set func(time.Duration, *options)) func(string, *options) error {
	return func(s string, o *options) error {
		d, err := parseDuration(s)
		if err != nil || d < 0 || d > hi {
			return errors.New("out of range or not a duration")
		}
		set(d, o)
		return nil
	}
}

func rate(set func(float64, *options)) func(string, *options) error {
	return func(s string, o *options) error {
		x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || !(x >= 0 && x <= 1) {
			return errors.New("out of range or not a number")
		}
		set(x, o)
		return nil
	}
}

// errUsage marks configuration errors, which exit with status 2.
var errUsage = errors.New("usage")

// parseOptions reads the environment (environ: name → value), then args, into options. The
// returned error wraps errUsage for bad input and flag.ErrHelp for -h.
func parseOptions(args []string, environ map[string]string, out io.Writer) (options, error) {
	var raw rawSettings
	if err := env.ParseWithOptions(&raw, env.Options{Environment: environ}); err != nil {
		return options{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	sets := settings(&raw)
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	fs.SetOutput(out)
	for _, s := range sets {
		fs.StringVar(s.val, s.flag, *s.val, fmt.Sprintf("%s [$%s; %s]", s.help, s.env, s.allowed))
	}
	fs.Usage = func() {
		fmt.Fprintln(out, "Usage: worker [flags]\n\nA Grenache RPC worker with fault injection. Flags override environment variables (and .env).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return options{}, err
		}
		return options{}, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	o := options{cfg: worker.DefaultConfig(), logLevel: zerolog.InfoLevel}
	var errs []error
	for _, s := range sets {
		if err := s.apply(*s.val, &o); err != nil {
			errs = append(errs, fmt.Errorf("invalid --%s / %s = %q: want %s (%v)", s.flag, s.env, *s.val, s.allowed, err))
		}
	}
	if len(errs) == 0 {
		if err := o.cfg.Faults.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("invalid --fault-error-rate + --fault-timeout-rate (WORKER_FAULT_ERROR_RATE + WORKER_FAULT_TIMEOUT_RATE): %v; their sum must be at most 1", err))
		}
	}
	if len(errs) > 0 {
		return options{}, fmt.Errorf("%w: %w", errUsage, errors.Join(errs...))
	}
	return o, nil
}
