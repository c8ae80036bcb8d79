// Command grape runs a Grenache grape: a DHT node plus the HTTP API that
// Grenache links use, with the flags of Node's grenache-grape CLI. Every
// flag can also be set from a GRAPE_* environment variable or a .env file.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/internal/version"
	"github.com/grenache-go/grenache/pkg/config"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: 0 after a clean stop or --help, 1 when the grape cannot start
// or fails, 2 for invalid settings.
const (
	exitOK       = 0
	exitFailure  = 1
	exitSettings = 2
)

// run is main without the process: it reads settings from args and getenv
// (and ./.env), runs the grape until ctx is done and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, s, err := load(args, getenv, stdout)
	if errors.Is(err, config.ErrHelp) || errors.Is(err, config.ErrVersion) {
		return exitOK
	}
	if err == nil {
		err = checkBootstrapResolves(ctx, s.Bootstrap, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "grape: %v\n", err)
		return exitSettings
	}
	log := config.NewLogger(s.LogFormat, s.LogLevel, stderr)
	cfg.Logger = log

	if s.Events {
		cfg.EventBuffer = eventBuffer
	}
	g, err := grape.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "grape: %v\n", err)
		return exitFailure
	}
	log.Info().Str("api", g.APIURL()).Str("dht", g.DHTAddr().String()).
		Strs("bootstrap", s.Bootstrap).Msg("grape started")
	printed := make(chan struct{})
	go func() { defer close(printed); printEvents(g.Events(), stdout) }()
	err = g.Run(ctx)
	<-printed // Run closed the channel
	if d := g.EventsDropped(); d > 0 {
		log.Warn().Uint64("dropped", d).Msg("events dropped: stdout was read too slowly")
	}
	if err != nil {
		log.Error().Err(err).Msg("grape failed")
		return exitFailure
	}
	return exitOK
}

// eventBuffer is how many events --events holds for a slow stdout reader
// before it drops (and counts) them.
const eventBuffer = 4096

// printEvents writes each event as one JSON line until events closes (a nil
// channel, events off, returns at once).
func printEvents(events <-chan grape.Event, w io.Writer) {
	if events == nil {
		return
	}
	enc := json.NewEncoder(w) // one Write per event: a line is never split
	for ev := range events {
		_ = enc.Encode(ev)
	}
}

// load reads the settings and maps them onto a grape.Config.
func load(args []string, getenv func(string) string, stdout io.Writer) (grape.Config, settings, error) {
	var s settings
	if err := config.Load(&s, config.Source{Name: "grape", Args: args, Getenv: getenv, Stdout: stdout, Version: version.Line("grape")}); err != nil {
		return grape.Config{}, s, err
	}
	if s.Bind != "" {
		if _, err := netip.ParseAddr(s.Bind); err != nil {
			return grape.Config{}, s, &config.Error{Flag: "-b/--bind", Env: "GRAPE_BIND", Value: s.Bind,
				From: "flag or env", Allowed: "an IPv4 or IPv6 address", Err: errors.New("not an IP address")}
		}
	}
	if s.BodyBudget <= s.MaxPayloadSize {
		return grape.Config{}, s, &config.Error{Flag: "--body_budget", Env: "GRAPE_BODY_BUDGET", Value: strconv.FormatInt(s.BodyBudget, 10),
			From: "flag, env or default", Allowed: fmt.Sprintf("more than --check_maxPayloadSize (env GRAPE_MAX_PAYLOAD_SIZE), here %d", s.MaxPayloadSize),
			Err: errors.New("a body of the payload limit would never fit")}
	}
	if err := checkBootstrapSyntax(s.Bootstrap); err != nil {
		return grape.Config{}, s, err
	}
	cfg := grape.DefaultConfig()
	cfg.DHTPort = s.DHTPort
	cfg.APIPort = s.APIPort
	cfg.Bootstrap = s.Bootstrap
	cfg.Bind = s.Bind
	cfg.PeerMaxAge = s.PeerMaxAge
	cfg.MaxTables = s.MaxTables
	cfg.MaxValues = s.MaxValues
	cfg.NodeLiveness = s.NodeLiveness
	cfg.MaxPayloadSize = s.MaxPayloadSize
	cfg.Concurrency = s.Concurrency
	cfg.QueryTimeout = s.QueryTimeout
	cfg.LookupCacheTTL = s.LookupCacheTTL
	cfg.LookupCacheBytes = s.LookupCacheBytes
	cfg.SeenPeersBytes = s.SeenPeersBytes
	cfg.BodyBudget = s.BodyBudget
	cfg.MaxConns = s.MaxConns
	cfg.HeaderTimeout = s.HeaderTimeout
	cfg.MaxPeers = s.MaxPeers
	cfg.MaxPeerBytes = s.MaxPeerBytes
	cfg.MaxValueBytes = s.MaxValueBytes
	cfg.MaxTableBytes = s.MaxTableBytes
	return cfg, s, nil
}
