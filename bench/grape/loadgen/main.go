// Command loadgen is the closed-loop HTTP/1.1 load generator behind
// scripts/bench-grape.sh. It drives a grape's /lookup (Node or Go) and the
// bare net/http ceiling with exactly the same client, so their numbers are
// comparable.
//
// Each of -c workers owns one keep-alive TCP connection and sends
// POST <path> {"data":"<name>"} back to back (closed loop: a new request
// only after the previous reply), the names rotating through a list.
// Requests are pre-encoded and replies parsed with net/http's reader, so
// the client spends as little CPU per request as possible: the server,
// not the tool, should be the bottleneck. Latencies go into HdrHistograms
// (µs, 3 significant digits). The result is one JSON object on stdout.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what loadgen prints: throughput and latency over the measured
// window only (the warm-up is discarded).
type Result struct {
	Conc     int     `json:"conc"`
	Names    int     `json:"names"`
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"` // transport errors, non-200, non-array bodies
	Empty    int64   `json:"empty"`  // 200 [] although every name was announced
	RPS      float64 `json:"rps"`
	P50us    int64   `json:"p50_us"`
	P90us    int64   `json:"p90_us"`
	P99us    int64   `json:"p99_us"`
	MaxUs    int64   `json:"max_us"`
	FirstErr string  `json:"first_error,omitempty"`
}

func main() {
	target := flag.String("url", "", "full URL to POST to, e.g. http://127.0.0.1:30001/lookup")
	conc := flag.Int("c", 8, "concurrent connections (closed loop, one request in flight each)")
	dur := flag.Duration("d", 5*time.Second, "measured duration")
	warm := flag.Duration("warmup", 2*time.Second, "warm-up before measuring (discarded)")
	prefix := flag.String("prefix", "bench-svc-", "name prefix; names are <prefix>0000..")
	n := flag.Int("names", 1, "number of rotating names")
	flag.Parse()
	if *target == "" || *conc < 1 || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *target, *conc, *n, *prefix, *warm, *dur)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

// Name returns the i-th benchmark service name (shared with the driver).
func Name(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }

// run drives the load and aggregates the workers' histograms.
func run(ctx context.Context, target string, conc, names int, prefix string, warm, dur time.Duration) (Result, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return Result{}, fmt.Errorf("bad -url %q", target)
	}
	reqs := make([][]byte, names)
	for i := range reqs {
		body, _ := json.Marshal(map[string]string{"data": Name(prefix, i)})
		reqs[i] = fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			u.RequestURI(), u.Host, len(body), body)
	}
	var (
		next      atomic.Uint64 // rotates names across all workers
		measuring atomic.Bool
		stopped   atomic.Bool
		wg        sync.WaitGroup
	)
	workers := make([]*worker, conc)
	for i := range workers {
		workers[i] = &worker{addr: u.Host, hist: hdrhistogram.New(1, 60_000_000, 3)}
	}
	for _, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(reqs, &next, &measuring, &stopped)
		}()
	}
	sleep(ctx, warm)
	measuring.Store(true)
	start := time.Now()
	sleep(ctx, dur)
	measuring.Store(false)
	elapsed := time.Since(start)
	stopped.Store(true)
	for _, w := range workers {
		w.close() // unblocks a worker stuck on a silent server
	}
	wg.Wait()

	total := hdrhistogram.New(1, 60_000_000, 3)
	res := Result{Conc: conc, Names: names, Seconds: elapsed.Seconds()}
	for _, w := range workers {
		total.Merge(w.hist)
		res.Errors += w.errors
		res.Empty += w.empty
		if res.FirstErr == "" && w.firstErr != nil {
			res.FirstErr = w.firstErr.Error()
		}
	}
	res.Requests = total.TotalCount()
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	res.P50us = total.ValueAtQuantile(50)
	res.P90us = total.ValueAtQuantile(90)
	res.P99us = total.ValueAtQuantile(99)
	res.MaxUs = total.Max()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// worker is one closed-loop connection.
type worker struct {
	addr string
	hist *hdrhistogram.Histogram

	mu   sync.Mutex
	conn net.Conn

	errors, empty int64
	firstErr      error
}

func (w *worker) loop(reqs [][]byte, next *atomic.Uint64, measuring, stopped *atomic.Bool) {
	var br *bufio.Reader
	body := make([]byte, 0, 4096)
	for !stopped.Load() {
		if br == nil {
			c, err := net.DialTimeout("tcp", w.addr, 5*time.Second)
			if err != nil {
				w.fail(measuring, err)
				time.Sleep(10 * time.Millisecond)
				continue
			}
			w.mu.Lock()
			w.conn = c
			w.mu.Unlock()
			br = bufio.NewReaderSize(c, 16<<10)
		}
		req := reqs[next.Add(1)%uint64(len(reqs))]
		t0 := time.Now()
		var err error
		var closing bool
		body, closing, err = w.roundTrip(req, br, body[:0])
		took := time.Since(t0)
		if closing {
			w.close()
			br = nil
		}
		if err != nil {
			if !stopped.Load() {
				w.fail(measuring, err)
			}
			if !closing {
				w.close()
				br = nil
			}
			continue
		}
		if !measuring.Load() {
			continue
		}
		_ = w.hist.RecordValue(max(1, took.Microseconds()))
		switch {
		case len(body) == 0 || body[0] != '[':
			w.fail(measuring, fmt.Errorf("reply is not a JSON array: %.80q", body))
		case string(body) == "[]":
			w.empty++
		}
	}
}

// roundTrip writes one pre-encoded request and reads the reply's body;
// closing reports that the server will close the connection after it.
func (w *worker) roundTrip(req []byte, br *bufio.Reader, body []byte) (_ []byte, closing bool, _ error) {
	w.mu.Lock()
	c := w.conn
	w.mu.Unlock()
	if c == nil {
		return body, true, net.ErrClosed
	}
	if _, err := c.Write(req); err != nil {
		return body, true, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return body, true, err
	}
	buf := bytesWriter{b: body}
	_, err = io.Copy(&buf, resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return buf.b, true, err
	}
	if resp.StatusCode != http.StatusOK {
		return buf.b, resp.Close, fmt.Errorf("status %d: %.80q", resp.StatusCode, buf.b)
	}
	return buf.b, resp.Close, nil
}

// fail counts an error inside the measured window and keeps the first.
func (w *worker) fail(measuring *atomic.Bool, err error) {
	if !measuring.Load() {
		return
	}
	w.errors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

func (w *worker) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn = nil
	}
}

// bytesWriter appends into a reused slice (no allocation per reply).
type bytesWriter struct{ b []byte }

func (w *bytesWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
