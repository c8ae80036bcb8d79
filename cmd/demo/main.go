// Command demo shows the adaptive client beside round-robin in one process:
// it starts 3 Go grapes and 4 Go workers on loopback, sends the same
// open-loop load through both clients at the same time, makes one worker
// slow and another fail part of its requests part-way through, prints the
// comparison and writes an HTML report (reports/demo.html by default).
// It needs nothing but Go: `make demo` or `go run ./cmd/demo`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/grenache-go/grenache/internal/version"
)

func main() {
	o := defaultOptions()
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.DurationVar(&o.Duration, "duration", o.Duration, "length of the load (the faults start at 1/3 and 1/2 of it)")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "requests per second sent through each client")
	fs.StringVar(&o.Out, "out", o.Out, "HTML report to write (its directory is created)")
	fs.StringVar(&o.UI, "ui", o.UI, "serve both clients' live views on this host:port ('' = off)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *showVersion {
		fmt.Println(version.Line("demo"))
		return
	}
	if err := o.validate(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("done in %.1fs\n", time.Since(start).Seconds())
}
