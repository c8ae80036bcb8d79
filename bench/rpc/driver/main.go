// Command driver is the closed-loop Go load generator of scripts/bench-rpc.sh. With -mode
// grenache it is the Go Grenache client: the client engine with client.PlainConfig (Node's
// behaviour: random peer, no breaker, no retry budget) resolving the service through a
// grape with pkg/link (lookups cached, as Node's link caches them) and calling peers with
// transport.HTTPClient. With -mode bare it is the ceiling: a plain net/http client POSTing
// the same bytes to a bare server. With -mode wire it is the transport's Caller alone, called
// on the first peer the grape gives, without the engine: what the engine adds is the difference
// to -mode grenache. -c goroutines each keep one request in flight; latencies
// go into an HdrHistogram (µs). The result is one JSON object on stdout.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Result is the measured window only; the warm-up is discarded.
type Result struct {
	Mode     string  `json:"mode"`
	Conc     int     `json:"conc"`
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	RPS      float64 `json:"rps"`
	P50us    int64   `json:"p50_us"`
	P99us    int64   `json:"p99_us"`
	ClientKB int64   `json:"client_rss_kb"` // VmHWM of this process
	// CPU time per completed request in the measured window: robust against other load on
	// the machine, which throughput is not.
	ServerCPUus float64 `json:"server_cpu_us_per_req,omitempty"`
	ClientCPUus float64 `json:"client_cpu_us_per_req"`
	FirstErr    string  `json:"first_error,omitempty"`
}

func main() {
	mode := flag.String("mode", "grenache", "grenache (the client engine, plain preset, via a grape) or bare (net/http POST)")
	grape := flag.String("grape", "http://127.0.0.1:30001", "grape API URL (grenache mode)")
	service := flag.String("service", "bench_echo", "service name (grenache mode)")
	target := flag.String("url", "", "URL to POST to (bare mode)")
	payload := flag.String("payload", `{"job":"echo","msg":"hello world"}`, "JSON payload")
	conc := flag.Int("c", 16, "requests in flight")
	dur := flag.Duration("d", 5*time.Second, "measured duration")
	warm := flag.Duration("warmup", time.Second, "warm-up (discarded)")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile of the measured run to this file")
	serverPID := flag.Int("server-pid", 0, "pid of the server, to report its CPU time per request")
	freePorts := flag.Int("freeports", 0, "print this many free TCP ports on 127.0.0.1 and exit (for the script)")
	wire := flag.String("transport", "http", "http, tls (HTTPS, mutual TLS with the files in -pki) or ws (WebSocket)")
	pkiDir := flag.String("pki", "", "directory of ca.pem, client.pem, client-key.pem (-transport tls)")
	writePKI := flag.String("writepki", "", "write a throwaway CA with server and client certificates into this directory and exit")
	flag.Parse()
	if *freePorts > 0 {
		printFreePorts(*freePorts)
		return
	}
	if *writePKI != "" {
		if err := writeTestPKI(*writePKI); err != nil {
			fail(err)
		}
		return
	}
	if !json.Valid([]byte(*payload)) || *conc < 1 {
		flag.Usage()
		os.Exit(2)
	}
	var call func(ctx context.Context) error
	switch *mode {
	case "lookup":
		// Wait until the service is visible through the grape: a Node client started earlier
		// would cache the empty lookup for 10 s.
		if err := waitVisible(*grape, *service, 20*time.Second); err != nil {
			fail(err)
		}
		return
	case "grenache":
		lk := openLink(*grape, link.DefaultConfig().LookupCacheTTL)
		defer lk.Close()
		// The client engine with Node's behaviour (PlainConfig: random peer,
		// no breaker, no retry budget, one attempt), as a Node PeerRPCClient.
		wc, closeWire, err := engineCaller(*wire, *pkiDir)
		if err != nil {
			fail(err)
		}
		defer closeWire()
		ccfg := client.PlainConfig()
		ccfg.RequestTimeout, ccfg.Caller = 10*time.Second, wc
		q, err := client.New(lk, ccfg)
		if err != nil {
			fail(err)
		}
		defer q.Close()
		pl := json.RawMessage(*payload)
		call = func(ctx context.Context) error {
			res, err := q.Request(ctx, *service, pl)
			if err == nil && len(res) == 0 {
				err = errors.New("empty result")
			}
			return err
		}
	case "wire":
		// The Caller alone, without the engine, to the first peer the grape gives: what the
		// engine adds is the difference to -mode grenache.
		lk := openLink(*grape, 0)
		peers, err := lk.Lookup(context.Background(), *service)
		lk.Close()
		if err != nil || len(peers) == 0 {
			fail(fmt.Errorf("lookup %s: %v %v", *service, peers, err))
		}
		wc, closeWire, err := engineCaller(*wire, *pkiDir)
		if err != nil {
			fail(err)
		}
		defer closeWire()
		pl, addr := json.RawMessage(*payload), peers[0]
		call = func(ctx context.Context) error {
			_, err := wc.CallRaw(ctx, addr, *service, pl, transport.CallOptions{})
			return err
		}
	case "bare":
		if *target == "" {
			fail(errors.New("-url is required in bare mode"))
		}
		tr := &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConnsPerHost: 256,
			DisableCompression:  true,
		}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		// The same triple the Grenache client sends, so both servers parse the same bytes.
		body := []byte(`["00000000-0000-4000-8000-000000000000","` + *service + `",` + *payload + `]`)
		switch *wire {
		case "tls":
			tc, err := clientTLS(*pkiDir)
			if err != nil {
				fail(err)
			}
			tc.NextProtos = []string{"http/1.1"}
			tr.TLSClientConfig = tc
			*target = strings.Replace(*target, "http://", "https://", 1)
		case "ws":
			b := &bareWS{url: wsURL(*target)}
			defer b.close()
			call = func(ctx context.Context) error { return b.call(ctx, body) }
		}
		if call != nil {
			break
		}
		call = func(ctx context.Context) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, *target, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header["Content-Type"] = []string{"application/json"}
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
			return err
		}
	default:
		fail(fmt.Errorf("unknown -mode %q", *mode))
	}
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err != nil {
			fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail(err)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	res := run(call, *conc, *warm, *dur, *serverPID)
	res.Mode = *mode
	res.ClientKB = rssKB("VmHWM:")
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "driver:", err)
	os.Exit(1)
}

// run keeps conc calls in flight for warm+dur and measures the last dur.
func run(call func(context.Context) error, conc int, warm, dur time.Duration, serverPID int) Result {
	var (
		measuring, stopped atomic.Bool
		wg                 sync.WaitGroup
		mu                 sync.Mutex
		firstErr           string
		errs               atomic.Int64
	)
	hists := make([]*hdrhistogram.Histogram, conc)
	ctx := context.Background()
	for i := range hists {
		h := hdrhistogram.New(1, 60_000_000, 3)
		hists[i] = h
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stopped.Load() {
				t0 := time.Now()
				err := call(ctx)
				if !measuring.Load() {
					continue
				}
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if firstErr == "" {
						firstErr = err.Error()
					}
					mu.Unlock()
					continue
				}
				_ = h.RecordValue(time.Since(t0).Microseconds())
			}
		}()
	}
	time.Sleep(warm)
	measuring.Store(true)
	start := time.Now()
	srv0, cli0 := procCPU(serverPID), selfCPU()
	time.Sleep(dur)
	measuring.Store(false)
	srv1, cli1 := procCPU(serverPID), selfCPU()
	elapsed := time.Since(start)
	stopped.Store(true)
	wg.Wait()
	total := hdrhistogram.New(1, 60_000_000, 3)
	for _, h := range hists {
		total.Merge(h)
	}
	n := float64(total.TotalCount())
	var srvPer, cliPer float64
	if n > 0 {
		cliPer = float64((cli1 - cli0).Microseconds()) / n
		if serverPID > 0 {
			srvPer = float64((srv1 - srv0).Microseconds()) / n
		}
	}
	return Result{
		ServerCPUus: srvPer, ClientCPUus: cliPer,
		Conc: conc, Seconds: elapsed.Seconds(), Requests: total.TotalCount(), Errors: errs.Load(),
		RPS:   float64(total.TotalCount()) / elapsed.Seconds(),
		P50us: total.ValueAtQuantile(50), P99us: total.ValueAtQuantile(99), FirstErr: firstErr,
	}
}

// rssKB reads one kB field (VmRSS, VmHWM) of /proc/self/status; 0 when unavailable.
func rssKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			n, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return n
		}
	}
	return 0
}

// printFreePorts holds n listeners open at once, so the ports differ, then releases them.
func printFreePorts(n int) {
	lns := make([]net.Listener, 0, n)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err)
		}
		lns = append(lns, ln)
	}
	for _, ln := range lns {
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		_ = ln.Close()
	}
}

// waitVisible polls the grape until a lookup of service returns at least one peer.
func waitVisible(grape, service string, timeout time.Duration) error {
	lk := openLink(grape, 0)
	defer lk.Close()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		peers, err := lk.Lookup(ctx, service)
		cancel()
		if err == nil && len(peers) > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("service %q not visible on %s after %v (last error: %v)", service, grape, timeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openLink returns a link to grape caching lookups for ttl (0: none), or ends the driver.
func openLink(grape string, ttl time.Duration) *link.Link {
	lcfg := link.DefaultConfig()
	lcfg.Grapes, lcfg.LookupCacheTTL = []string{grape}, ttl
	lk, err := link.New(lcfg)
	if err != nil {
		fail(err)
	}
	return lk
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat CPU times: 100 on every Linux we run on.
const clockTick = 10 * time.Millisecond

// procCPU returns user+system CPU time of pid from /proc (0 for pid 0 or on error).
func procCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may contain spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14 utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15 stime
	return time.Duration(ut+st) * clockTick
}

// selfCPU returns this process's user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
