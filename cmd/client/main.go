// Command client is the adaptive Grenache client.
//
//	client call [flags] SERVICE PAYLOAD_JSON   one request (or --map: every peer), result on stdout
//	client run  [flags] --service NAME         load generator with text, JSON and HTML reports
//
// Settings come from CLIENT_*, METRICS_* and CIRCUIT_BREAKER_* variables (and
// a .env file), overridden by flags; `client call -h` lists them. Exit status:
// 0 success, 1 failure, 2 invalid settings.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/internal/version"
)

const (
	exitOK       = 0
	exitFailure  = 1
	exitSettings = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `Usage:
  client call [flags] SERVICE PAYLOAD_JSON
  client run  [flags] --service NAME [--duration 30s] [--rate N | --concurrency N]
              [--strategy adaptive|round-robin|random] [--payload JSON] [--json FILE] [--html FILE]
              [--gossip] [--metrics-addr HOST:PORT]
  client --version
Run "client call -h" for every flag and variable.
`

// run is main without the process, for tests.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitSettings
	}
	switch args[0] {
	case "call":
		return callCmd(ctx, args[1:], getenv, stdout, stderr)
	case "run":
		return runCmd(ctx, args[1:], getenv, stdout, stderr)
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, version.Line("client"))
		return exitOK
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usageText)
		return exitOK
	default:
		fmt.Fprintf(stderr, "client: unknown command %q\n%s", args[0], usageText)
		return exitSettings
	}
}

func newLogger(level string, w io.Writer) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.WarnLevel
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: w, NoColor: true}).Level(lvl).With().Timestamp().Logger()
}
