// Command worker runs a Grenache RPC worker: it announces a service to grapes, answers echo,
// sleep and hash jobs over the Grenache HTTP RPC wire, and injects faults for tests and demos.
// Configuration comes from WORKER_* environment variables (and a .env file), overridden by
// flags; run `worker -h` for the list. SIGTERM or SIGINT stops announcing, drains requests in
// flight within the shutdown grace and exits 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/worker"
)

func main() {
	// A missing .env is normal; variables already set win over the file.
	_ = godotenv.Load()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], environ(), os.Stderr))
}

func environ() map[string]string {
	m := make(map[string]string)
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// run is main without the process: exit status 0 on a clean stop, 1 on a runtime failure,
// 2 on invalid configuration.
func run(ctx context.Context, args []string, env map[string]string, stderr io.Writer) int {
	o, err := parseOptions(args, env, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "worker:", strings.TrimPrefix(err.Error(), "usage: "))
		return 2
	}
	o.cfg.Logger = zerolog.New(stderr).Level(o.logLevel).With().Timestamp().Logger()
	w, err := worker.New(o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
