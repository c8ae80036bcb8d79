// Command client is the adaptive Grenache client.
//
//	client call [flags] SERVICE PAYLOAD_JSON   one request (or --map: every peer), result on stdout
//	client run  [flags] --service NAME         load generator with text, JSON and HTML reports
//	client lookup NAME [--all|--first]         peers of a service, one a line
//	client announce NAME|- PORT [--interval D] announce (names from stdin with -)
//	client put VALUE|--file F [--mutable ...]  store a BEP44 item, print its target
//	client get HASH [--salt S] [--raw]         fetch and verify a BEP44 item
//	client keygen [--key FILE] [--force]       make a grenache-cli style ed25519 key
//
// Settings come from CLIENT_*, METRICS_* and CIRCUIT_BREAKER_* variables (and
// a .env file), overridden by flags; `client call -h` lists them, and
// `client run -h` the GOSSIP_* variables of --gossip too. Each is declared
// once, in settings.go, dhtsettings.go or gossipsettings.go. Exit status:
// 0 success, 1 failure, 2 invalid settings.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
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
	code := runIO(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageText = `Usage:
  client call [flags] SERVICE PAYLOAD_JSON
  client call --stream FILE|- [--action A] [--args JSON] SERVICE   (streamed request, reply printed as it arrives)
  client run  [flags] --service NAME [--duration 30s] [--rate N | --concurrency N]
              [--strategy POLICY] [--payload JSON] [--json FILE] [--html FILE]
              [--gossip] [--metrics-addr HOST:PORT]
  client lookup NAME [--all|--first]
  client announce NAME|- PORT [--interval 1s]        (- reads names from stdin, one a line)
  client put VALUE|--file FILE [--mutable [--key FILE] [--salt S] [--seq N] [--cas N]]
  client get HASH [--salt S] [--raw]
  client keygen [--key FILE] [--force]
  client --version
Run "client call -h" for every flag and variable of call and run, "client get -h" for
those of lookup, announce, put, get and keygen.
`

// run is main without the process, for tests, with an empty stdin.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runIO(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// runIO is main without the process.
func runIO(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return exitSettings
	}
	switch args[0] {
	case "call":
		return callCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "run":
		return runCmd(ctx, args[1:], getenv, stdout, stderr)
	case "lookup":
		return lookupCmd(ctx, args[1:], getenv, stdout, stderr)
	case "announce":
		return announceCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "put":
		return putCmd(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "get":
		return getCmd(ctx, args[1:], getenv, stdout, stderr)
	case "keygen":
		return keygenCmd(args[1:], getenv, stdout, stderr)
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
