// Command profworker runs one worker in-process (no grape needed: announce failures are only
// logged) and writes a CPU profile of everything it serves until SIGINT/SIGTERM, so the cost
// of the worker can be split between net/http, pkg/transport and the worker itself:
//
//	GOMAXPROCS=1 taskset -c 1 go run ./bench/rpc/profworker -addr 127.0.0.1:39101 -cpuprofile /tmp/worker.prof &
//	taskset -c 0 wrk -t1 -c64 -d10s -s post.lua http://127.0.0.1:39101/ ; kill %1
//	go tool pprof -top /tmp/worker.prof
//
// With -grape it announces -service there, so bench/rpc/driver -mode grenache can find it
// (over -transport ws too: WebSocket shares the RPC port); with -tls DIR it serves mutual TLS
// with the certificates driver -writepki wrote into DIR, for driver -transport tls.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/grenache-go/grenache/worker"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:39101", "RPC listen address")
	prof := flag.String("cpuprofile", "worker.prof", "CPU profile output")
	grape := flag.String("grape", "http://127.0.0.1:1", "grape to announce to (the default has nothing listening: announcing just fails quietly)")
	service := flag.String("service", worker.DefaultService, "service name to announce")
	tlsDir := flag.String("tls", "", "serve mutual TLS with ca.pem, server.pem and server-key.pem from this directory")
	flag.Parse()
	host, portStr, err := net.SplitHostPort(*addr)
	if err != nil {
		fail(err)
	}
	cfg := worker.DefaultConfig()
	cfg.Bind = host
	cfg.Port, _ = strconv.Atoi(portStr)
	cfg.Grapes, cfg.Service = []string{*grape}, *service
	if *tlsDir != "" {
		cfg.TLS, err = worker.LoadTLS(filepath.Join(*tlsDir, "server.pem"), filepath.Join(*tlsDir, "server-key.pem"),
			filepath.Join(*tlsDir, "ca.pem"), true)
		if err != nil {
			fail(err)
		}
	}
	w, err := worker.New(cfg)
	if err != nil {
		fail(err)
	}
	f, err := os.Create(*prof)
	if err != nil {
		fail(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Println(w.Addr())
	runErr := w.Run(ctx)
	pprof.StopCPUProfile()
	_ = f.Close()
	if runErr != nil {
		fail(runErr)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "profworker:", err)
	os.Exit(1)
}
