package worker

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/rs/zerolog"
)

// Config configures one worker. Start from DefaultConfig and override fields; New validates it.
type Config struct {
	// Service is the name the worker announces and answers under.
	Service string
	// Bind is the IP the RPC (and admin) listeners bind to. Empty means all interfaces.
	Bind string
	// Port is the RPC port; 0 picks a free port (see Worker.Addr).
	Port int
	// Grapes are the grape HTTP API URLs used to announce, e.g. http://127.0.0.1:30001.
	Grapes []string
	// AnnounceInterval is the mean gap between announcements (the link jitters it).
	AnnounceInterval time.Duration
	// Faults injected into every request from the start; change them later with SetFaults.
	Faults Faults
	// AdminPort serves /admin/faults, /healthz and /metrics; 0 disables the admin listener.
	// Use AdminAddr to choose an address (including port 0) instead.
	AdminPort int
	// AdminAddr, when not empty, overrides Bind:AdminPort for the admin listener; ":0" or
	// "127.0.0.1:0" picks a free port (see Worker.AdminAddr).
	AdminAddr string
	// ShutdownGrace bounds how long Run waits for requests in flight once its context is done.
	ShutdownGrace time.Duration
	// Limits bound the work one job may ask for.
	Limits JobLimits
	// BodyBudget bounds the bytes of request bodies the RPC server reads or
	// decompresses at once, over all connections (see pkg/budget). At least
	// MinBodyBudget; a request that finds it spent waits up to a second,
	// then gets 503 ERR_SERVER_BUSY.
	BodyBudget int64
	// MaxConns caps the RPC connections open at once (0 = no cap). At the cap the server
	// stops accepting; new connections wait in the kernel backlog (see pkg/connlimit).
	MaxConns int
	// Logger receives the worker's structured logs.
	Logger zerolog.Logger

	// Services are more names the host announces (on the same port) and answers besides
	// Service; Request.Service tells a handler which one a caller asked for.
	Services []string
	// WebSocket also serves Grenache WebSocket RPC on the RPC port: a request asking to
	// upgrade to a WebSocket goes to the WS server, any other to the HTTP one, so one
	// announcement reaches HTTP and WS callers alike.
	WebSocket bool
	// TLS, when not nil, serves HTTPS (and WSS) with it; set ClientAuth and ClientCAs for
	// mutual TLS. See LoadTLS for building it from PEM files.
	TLS *tls.Config
	// DrainGrace is how long a stopping host keeps answering normally after it stopped
	// announcing and asked the grapes to drop its names, so callers whose lookup caches
	// still hold it are served while the caches expire. After it, requests are refused with
	// 503 ERR_SERVER_DRAINING (callers retry elsewhere) and requests in flight get
	// ShutdownGrace to finish. The default covers the Go adaptive client: it looks its peers
	// up again every 5 s (client RefreshInterval) through the Go link's 1 s lookup cache and
	// the Go grape's 0.5 s one, so a caller can hold this host 6.5 s after the unannounce;
	// Node's link caches lookups for 10 s, so use 11 s for Node callers.
	DrainGrace time.Duration
	// HealthCheck, when set, gates announcing: it is called every HealthInterval, and while
	// it returns an error the host stops announcing and unannounces its names; announcing
	// resumes when it succeeds again. The host keeps answering requests throughout.
	HealthCheck func(ctx context.Context) error
	// HealthInterval is the gap between HealthCheck calls.
	HealthInterval time.Duration
	// Stream serves streamed requests (chunked, with a _gr header) beside the buffered
	// handler. Nil means the built-in streaming jobs (StreamJobSHA256) for a host of the
	// built-in jobs, and no stream handler for any other (streams are then parsed as
	// buffered requests, as by a Node PeerRPCServer without disableBuffered).
	Stream StreamHandler
}

// Defaults, shared with cmd/worker so flag help and docs show the same numbers.
const (
	DefaultService          = "job_service"
	DefaultPort             = 1337
	DefaultAnnounceInterval = 5 * time.Second
	DefaultGrape            = "http://127.0.0.1:30001"
	DefaultShutdownGrace    = 10 * time.Second
	DefaultMaxSleep         = 60 * time.Second
	DefaultMaxHashRounds    = 1_000_000
	// DefaultBodyBudget is eight 8 MiB bodies at once, or tens of thousands of small ones.
	DefaultBodyBudget = transport.DefaultBodyBudget
	// MaxBodyBytes is the RPC server's body limit, before and after gunzip.
	MaxBodyBytes = 8 << 20
	// DefaultMaxConns leaves room for many clients' keep-alive pools.
	DefaultMaxConns = 10000
	// DefaultDrainGrace outlasts how long a Go adaptive client with default settings can
	// still hold an unannounced host: its 5 s peer refresh + the Go link's 1 s lookup cache +
	// the Go grape's 0.5 s, plus 0.5 s for the unannounce to reach every grape (measured:
	// milliseconds) and the refresh lookup itself. A host that left sooner was still picked
	// by such clients (see test/scenarios S9d).
	DefaultDrainGrace = 7 * time.Second
	// DefaultHealthInterval is how often a HealthCheck runs.
	DefaultHealthInterval = time.Second
)

// MinBodyBudget is the smallest BodyBudget that admits one request of MaxBodyBytes, gzipped.
var MinBodyBudget = transport.MinBodyBudget(MaxBodyBytes)

// DefaultConfig returns the documented defaults: service job_service on port 1337, announcing
// every 5 s to http://127.0.0.1:30001, no faults, admin listener off, WebSocket on the RPC
// port, 7 s drain grace then 10 s shutdown grace.
func DefaultConfig() Config {
	return Config{
		Service:          DefaultService,
		Port:             DefaultPort,
		Grapes:           []string{DefaultGrape},
		AnnounceInterval: DefaultAnnounceInterval,
		ShutdownGrace:    DefaultShutdownGrace,
		Limits:           JobLimits{MaxSleep: DefaultMaxSleep, MaxHashRounds: DefaultMaxHashRounds},
		BodyBudget:       DefaultBodyBudget,
		MaxConns:         DefaultMaxConns,
		Logger:           zerolog.Nop(),
		WebSocket:        true,
		DrainGrace:       DefaultDrainGrace,
		HealthInterval:   DefaultHealthInterval,
	}
}

// Validate reports every field outside its allowed range, joined into one error.
func (c Config) Validate() error {
	var errs []error
	if c.Service == "" {
		errs = append(errs, errors.New("service name must not be empty"))
	}
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d out of range: allowed 0..65535", c.Port))
	}
	if c.AdminPort < 0 || c.AdminPort > 65535 {
		errs = append(errs, fmt.Errorf("admin port %d out of range: allowed 0..65535 (0 = off)", c.AdminPort))
	}
	if len(c.Grapes) == 0 {
		errs = append(errs, errors.New("at least one grape URL is required"))
	}
	for _, g := range c.Grapes {
		if err := validGrapeURL(g); err != nil {
			errs = append(errs, err)
		}
	}
	if c.AnnounceInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("announce interval %v too short: allowed ≥ 10ms", c.AnnounceInterval))
	}
	if c.ShutdownGrace < 0 {
		errs = append(errs, fmt.Errorf("shutdown grace %v must not be negative", c.ShutdownGrace))
	}
	if c.Limits.MaxSleep < 0 {
		errs = append(errs, fmt.Errorf("max sleep %v must not be negative", c.Limits.MaxSleep))
	}
	if c.Limits.MaxHashRounds < 1 {
		errs = append(errs, fmt.Errorf("max hash rounds %d must be ≥ 1", c.Limits.MaxHashRounds))
	}
	if c.BodyBudget < MinBodyBudget {
		errs = append(errs, fmt.Errorf("body budget %d bytes too small: allowed ≥ %d (twice the %d-byte body limit plus decompressor state)",
			c.BodyBudget, MinBodyBudget, MaxBodyBytes))
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("max conns %d must not be negative (0 = no cap)", c.MaxConns))
	}
	for _, n := range c.Services {
		if n == "" {
			errs = append(errs, errors.New("service names must not be empty"))
			break
		}
	}
	if c.DrainGrace < 0 {
		errs = append(errs, fmt.Errorf("drain grace %v must not be negative", c.DrainGrace))
	}
	if c.HealthCheck != nil && c.HealthInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("health interval %v too short: allowed ≥ 10ms", c.HealthInterval))
	}
	if err := c.Faults.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validGrapeURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("grape URL %q invalid: want http(s)://host:port", s)
	}
	return nil
}

// names returns every service name the host announces: Service, then Services, without
// duplicates.
func (c Config) names() []string {
	out := []string{c.Service}
	for _, n := range c.Services {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
