// Command echo-service is a complete Grenache service on the Go service host: two actions
// behind an {action, args} mux, announced as "example:echo" through a grape, drained on
// SIGTERM. Call it with examples/call-service, or from Node with a PeerRPCClient.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/grenache-go/grenache/worker"
)

func main() {
	grape := flag.String("grape", worker.DefaultGrape, "grape HTTP API URL")
	port := flag.Int("port", 0, "RPC port (0 picks a free one)")
	flag.Parse()

	mux := worker.NewMux()
	mux.Handle("echo", worker.Func(func(_ context.Context, s string) (string, error) { return s, nil }))
	mux.Handle("upper", worker.Func(func(_ context.Context, s string) (string, error) { return strings.ToUpper(s), nil }))

	cfg := worker.DefaultConfig()
	cfg.Service, cfg.Grapes, cfg.Port = "example:echo", []string{*grape}, *port
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := worker.Serve(ctx, cfg, mux); err != nil {
		log.Fatal(err)
	}
}
