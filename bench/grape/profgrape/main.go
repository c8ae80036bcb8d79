// Command profgrape runs a 2-grape cluster in one process, announces the
// benchmark names into it and writes a CPU profile of everything both
// grapes do until SIGINT/SIGTERM, so the cost of a /lookup can be split
// between net/http, the API handler, the lookup cache and DHT walks:
//
//	GOMAXPROCS=1 taskset -c 1 go run ./bench/grape/profgrape -cpuprofile /tmp/grape.prof &
//	taskset -c 0 go run ./bench/grape/loadgen -url http://127.0.0.1:39201/lookup -c 64 -names 1000 -d 10s
//	kill %1; go tool pprof -top /tmp/grape.prof
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/grenache-go/grenache/grape"
)

func main() {
	apiPort := flag.Int("api-port", 39201, "API port of the first grape (the second gets +1)")
	dhtPort := flag.Int("dht-port", 39211, "DHT port of the first grape (the second gets +1)")
	names := flag.Int("names", 1000, "names to announce: <prefix>0000..")
	prefix := flag.String("prefix", "bench-svc-", "name prefix")
	ttl := flag.Duration("lookup-cache-ttl", 500*time.Millisecond, "lookup cache TTL of both grapes")
	prof := flag.String("cpuprofile", "grape.prof", "CPU profile output")
	memProf := flag.String("memprofile", "", "allocation profile output (written at exit)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	done := make(chan error, 2)
	for i := range 2 {
		cfg := grape.DefaultConfig()
		cfg.DHTHost = "127.0.0.1"
		cfg.DHTPort = *dhtPort + i
		cfg.APIPort = *apiPort + i
		cfg.Bootstrap = []string{fmt.Sprintf("127.0.0.1:%d", *dhtPort+1-i)}
		cfg.LookupCacheTTL = *ttl
		g, err := grape.New(cfg)
		if err != nil {
			fail(err)
		}
		go func() { done <- g.Run(ctx) }()
	}
	time.Sleep(500 * time.Millisecond)
	for i := range *names {
		body := fmt.Sprintf(`{"data":["%s%04d",%d]}`, *prefix, i, 40000+i)
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/announce", *apiPort), "application/json", bytes.NewBufferString(body))
		if err != nil {
			fail(err)
		}
		resp.Body.Close()
	}
	f, err := os.Create(*prof)
	if err != nil {
		fail(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fail(err)
	}
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	fmt.Println("ready")
	<-ctx.Done()
	pprof.StopCPUProfile()
	runtime.ReadMemStats(&m1)
	fmt.Printf("mallocs %d, bytes %d, GCs %d\n", m1.Mallocs-m0.Mallocs, m1.TotalAlloc-m0.TotalAlloc, m1.NumGC-m0.NumGC)
	if *memProf != "" {
		mf, err := os.Create(*memProf)
		if err != nil {
			fail(err)
		}
		_ = pprof.Lookup("allocs").WriteTo(mf, 0)
		_ = mf.Close()
	}
	_ = f.Close()
	for range 2 {
		<-done
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "profgrape:", err)
	os.Exit(1)
}
