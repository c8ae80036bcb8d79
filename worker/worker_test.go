package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// announceRecorder is a minimal grape HTTP API that records /announce calls and answers 1,
// enough to watch a worker's announcing start and stop without a DHT.
type announceRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []json.RawMessage
}

func newAnnounceRecorder(t *testing.T) *announceRecorder {
	a := &announceRecorder{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Data json.RawMessage `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		if r.URL.Path == "/announce" {
			a.mu.Lock()
			a.seen = append(a.seen, body.Data)
			a.mu.Unlock()
			_, _ = io.WriteString(w, "1")
			return
		}
		_, _ = io.WriteString(w, "[]")
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *announceRecorder) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

func (a *announceRecorder) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		return ""
	}
	return string(a.seen[len(a.seen)-1])
}

// startWorker runs a worker on a free loopback port until the test ends and returns it with a
// function that stops it and returns Run's error.
func startWorker(t *testing.T, mod func(*Config)) (*Worker, func() error) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Bind = "127.0.0.1"
	cfg.Port = 0
	cfg.AnnounceInterval = 50 * time.Millisecond
	cfg.ShutdownGrace = 5 * time.Second
	cfg.DrainGrace = 0 // the drain test sets its own
	cfg.Grapes = []string{newAnnounceRecorder(t).srv.URL}
	if mod != nil {
		mod(&cfg)
	}
	w, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(15 * time.Second):
				runErr = errors.New("Run did not return")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return w, stop
}

func newClient(t *testing.T) *transport.HTTPClient {
	c := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 5 * time.Second})
	t.Cleanup(c.Close)
	return c
}

// waitFor polls cond every few ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestWorkerServesJobsOverGrenacheHTTP(t *testing.T) {
	w, _ := startWorker(t, nil)
	c := newClient(t)
	ctx := context.Background()
	res, err := c.Call(ctx, w.Addr(), "job_service", json.RawMessage(`{"job":"echo","x":[1,2]}`), transport.CallOptions{})
	if err != nil || string(res) != `{"job":"echo","x":[1,2]}` {
		t.Fatalf("echo: %s %v", res, err)
	}
	res, err = c.Call(ctx, w.Addr(), "job_service", map[string]any{"job": "hash", "data": "abc"}, transport.CallOptions{Compress: true})
	if err != nil || string(res) != `"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"` {
		t.Fatalf("hash (gzip): %s %v", res, err)
	}
	res, err = c.Call(ctx, w.Addr(), "job_service", map[string]any{"job": "sleep", "ms": 20}, transport.CallOptions{})
	if err != nil || string(res) != `{"slept_ms":20}` {
		t.Fatalf("sleep: %s %v", res, err)
	}
	_, err = c.Call(ctx, w.Addr(), "job_service", map[string]any{"job": "sleep", "ms": "x"}, transport.CallOptions{})
	var re *transport.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, `ERR_INVALID_JOB: sleep: "ms" must be an integer`) {
		t.Fatalf("invalid sleep: %v", err)
	}
}

func TestWorkerAnnouncesItsPortAndStopsOnShutdown(t *testing.T) {
	rec := newAnnounceRecorder(t)
	w, stop := startWorker(t, func(c *Config) { c.Grapes = []string{rec.srv.URL}; c.Service = "svc_x" })
	waitFor(t, 10*time.Second, "two announcements", func() bool { return rec.count() >= 2 })
	want, _ := json.Marshal([]any{"svc_x", w.Port()})
	if rec.last() != string(want) {
		t.Fatalf("announced %s, want %s", rec.last(), want)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	n := rec.count()
	time.Sleep(200 * time.Millisecond) // 4 intervals: any surviving announcer would show
	if rec.count() != n {
		t.Fatalf("announcing continued after shutdown: %d → %d", n, rec.count())
	}
}

func TestWorkerFinishesInFlightRequestsOnShutdown(t *testing.T) {
	w, stop := startWorker(t, nil)
	c := newClient(t)
	type result struct {
		res json.RawMessage
		err error
	}
	const n = 10
	got := make(chan result, n)
	for range n {
		go func() {
			res, err := c.Call(context.Background(), w.Addr(), "job_service", map[string]any{"job": "sleep", "ms": 300}, transport.CallOptions{})
			got <- result{res, err}
		}()
	}
	waitFor(t, 10*time.Second, "requests in flight", func() bool { return value(w.h.m.inFlight) == n })
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	for range n {
		r := <-got
		if r.err != nil || string(r.res) != `{"slept_ms":300}` {
			t.Fatalf("in-flight request during shutdown: %s %v", r.res, r.err)
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := net.DialTimeout("tcp", w.Addr(), time.Second); err == nil {
		t.Fatal("listener still accepting after Run returned")
	}
}

func TestWorkerGraceBoundsHeldRequests(t *testing.T) {
	w, stop := startWorker(t, func(c *Config) {
		c.Faults.TimeoutRate = 1
		c.ShutdownGrace = 100 * time.Millisecond
	})
	c := newClient(t)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), w.Addr(), "job_service", "x", transport.CallOptions{Timeout: 10 * time.Second})
		errc <- err
	}()
	waitFor(t, 10*time.Second, "held request", func() bool { return value(w.h.m.inFlight) == 1 })
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A shutdown that waits for the held request takes its 10 s client
	// timeout; 5 s is 50× the grace, room for a loaded -race host.
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("shutdown took %v with a 100ms grace", el)
	}
	if err := <-errc; err == nil {
		t.Fatal("held request got a result")
	}
}

func TestWorkerTimeoutFaultHoldsUntilClientGivesUp(t *testing.T) {
	w, _ := startWorker(t, func(c *Config) { c.Faults.TimeoutRate = 1 })
	c := newClient(t)
	start := time.Now()
	_, err := c.Call(context.Background(), w.Addr(), "job_service", "x", transport.CallOptions{Timeout: 150 * time.Millisecond})
	if !errors.Is(err, transport.ErrTimeout) {
		t.Fatalf("want timeout, got %v", err)
	}
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Fatalf("answered after %v, before the client's deadline", el)
	}
	// The client closed its connection: the handler must notice and let go.
	waitFor(t, 10*time.Second, "held request released", func() bool { return value(w.h.m.inFlight) == 0 })
	if value(w.h.m.requests[jobIndex(jobOther)][outcomeHeld]) != 1 {
		t.Fatal("held request not counted")
	}
}

func TestWorkerSetFaultsMidRun(t *testing.T) {
	w, _ := startWorker(t, nil)
	c := newClient(t)
	ctx := context.Background()
	if _, err := c.Call(ctx, w.Addr(), "job_service", "a", transport.CallOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := w.SetFaults(Faults{ErrorRate: 1, Latency: 30 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := c.Call(ctx, w.Addr(), "job_service", "a", transport.CallOptions{})
	var re *transport.RemoteError
	if !errors.As(err, &re) || re.Msg != ErrMsgInjected || time.Since(start) < 30*time.Millisecond {
		t.Fatalf("after SetFaults: %v after %v", err, time.Since(start))
	}
	if err := w.SetFaults(Faults{ErrorRate: 2}); err == nil || w.Faults().ErrorRate != 1 {
		t.Fatal("invalid faults accepted")
	}
	_ = w.SetFaults(Faults{})
	if _, err := c.Call(ctx, w.Addr(), "job_service", "a", transport.CallOptions{}); err != nil {
		t.Fatal(err)
	}
}

// rawPost sends one hand-built request so wire details are tested independently of our client.
func rawPost(t *testing.T, addr string, body []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWorkerWireEdgeCases(t *testing.T) {
	w, _ := startWorker(t, nil)
	if st, b := rawPost(t, w.Addr(), []byte(`["r1","any_key",{"job":"echo"}]`), nil); st != 200 || b != `["r1",null,{"job":"echo"}]` {
		t.Fatalf("plain: %d %s", st, b)
	}
	if st, b := rawPost(t, w.Addr(), []byte(`["body-rid","k","hi"]`), map[string]string{"_gr": `["hdr-rid","k"]`}); st != 200 || b != `["hdr-rid",null,"hi"]` {
		t.Fatalf("_gr: %d %s", st, b)
	}
	if st, b := rawPost(t, w.Addr(), []byte(`not json`), nil); st == 0 || !strings.Contains(b, "ERR_") {
		t.Fatalf("garbage got no error answer: %d %s", st, b)
	}
}
