// Command worker runs a Grenache service host: it announces service names to grapes and
// answers echo, sleep and hash jobs over the Grenache HTTP and WebSocket RPC wire, or, with
// --forward URL, forwards each request to an HTTP service (a sidecar); it injects faults for
// tests and demos.
// Configuration comes from WORKER_* environment variables (and a .env file), overridden by
// flags; run `worker -h` for the list. SIGTERM or SIGINT stops announcing and unannounces,
// answers for the drain grace, lets requests in flight finish within the shutdown grace and
// exits 0.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/grenache-go/grenache/internal/version"
	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/worker"
)

// Exit codes: 0 after a clean stop or --help, 1 when the worker cannot start or fails, 2 for
// invalid settings.
const (
	exitOK       = 0
	exitFailure  = 1
	exitSettings = 2
)

// memoryHeadroom is what the soft memory limit allows beside the body
// budget: connections (~15 KiB each), handlers, replies and the runtime.
const memoryHeadroom = 32 << 20

// memoryLimit is the Go soft memory limit the worker sets unless GOMEMLIMIT
// is given. The body budget bounds live body bytes, but a refused body
// (a gzip bomb stopped at 8 MiB) leaves its buffers to the GC, and with
// GOGC's default pacing a burst of them doubles RSS before a collection
// runs; near this limit the GC collects sooner instead. It is soft: a
// larger live heap makes the GC work harder, never fails an allocation.
func memoryLimit(bodyBudget int64) int64 { return bodyBudget + memoryHeadroom }

// setMemoryLimit is debug.SetMemoryLimit; in-process tests of run replace
// it so they do not change the test binary's own limit.
var setMemoryLimit = func(n int64) { debug.SetMemoryLimit(n) }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the process: it reads settings from args and getenv (and ./.env), runs
// the worker until ctx is done and returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, cfg, err := loadSettings(config.Source{Name: "worker", Args: args, Getenv: getenv, Stdout: stdout, Version: version.Line("worker")})
	if errors.Is(err, config.ErrHelp) || errors.Is(err, config.ErrVersion) {
		return exitOK
	}
	if err != nil {
		for _, line := range strings.Split(strings.TrimPrefix(err.Error(), errUsage.Error()+": "), "\n") {
			fmt.Fprintf(stderr, "worker: %s\n", line)
		}
		return exitSettings
	}
	cfg.Logger = config.NewLogger(s.LogFormat, s.LogLevel, stderr)
	for _, g := range remoteGrapes(cfg.Grapes, localAddrs(), resolveHost) {
		cfg.Logger.Warn().Str("grape", g).Msg("--grape (WORKER_GRAPE) names a grape on another host: " +
			"a grape stores announcements under its own IP, so callers would look for this worker on that host; " +
			"announce through a grape on this host (docs/configuration.md, Running on several hosts)")
	}
	if getenv("GOMEMLIMIT") == "" {
		setMemoryLimit(memoryLimit(cfg.BodyBudget))
	}
	h, closeHandler, err := serviceHandler(s, &cfg)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFailure
	}
	defer closeHandler()
	w, err := worker.NewService(cfg, h)
	if err != nil {
		fmt.Fprintf(stderr, "%v\n", err)
		return exitFailure
	}
	if err := w.Run(ctx); err != nil {
		cfg.Logger.Error().Err(err).Msg("worker failed")
		return exitFailure
	}
	return exitOK
}
