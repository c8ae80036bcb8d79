package worker

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

func adminDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminFaultsAPI(t *testing.T) {
	w, _ := startWorker(t, func(c *Config) { c.AdminAddr = "127.0.0.1:0" })
	base := "http://" + w.AdminAddr()

	st, b := adminDo(t, "GET", base+"/admin/faults", "")
	if st != 200 || !strings.Contains(b, `"latency_ms":0`) || !strings.Contains(b, `"timeout_rate":0`) {
		t.Fatalf("GET faults: %d %s", st, b)
	}
	st, b = adminDo(t, "POST", base+"/admin/faults", `{"latency_ms":25,"error_rate":0.5}`)
	if st != 200 {
		t.Fatalf("POST faults: %d %s", st, b)
	}
	if f := w.Faults(); f.Latency != 25*time.Millisecond || f.ErrorRate != 0.5 {
		t.Fatalf("faults not applied: %+v", f)
	}
	// A partial update keeps the other fields.
	if st, _ = adminDo(t, "POST", base+"/admin/faults", `{"jitter_ms":5}`); st != 200 || w.Faults().Latency != 25*time.Millisecond || w.Faults().Jitter != 5*time.Millisecond {
		t.Fatalf("partial update: %d %+v", st, w.Faults())
	}

	bad := map[string]string{
		`{"error_rate":1.5}`:    "error rate 1.5 out of range: allowed 0..1",
		`{"timeout_rate":0.6}`:  "exceed 1",
		`{"latency_ms":-3}`:     "latency_ms -3 out of range",
		`{"error-rate":0.1}`:    `unknown field "error-rate"`,
		`{"latency_ms":"50ms"}`: "invalid JSON",
		``:                      "empty body",
		`{"jitter_ms":1e12}`:    "jitter_ms",
	}
	before := w.Faults()
	for body, want := range bad {
		st, b := adminDo(t, "POST", base+"/admin/faults", body)
		var e struct{ Error string }
		_ = json.Unmarshal([]byte(b), &e)
		if st != http.StatusBadRequest || !strings.Contains(e.Error, want) {
			t.Errorf("POST %s: %d %s, want 400 containing %q", body, st, b, want)
		}
	}
	if w.Faults() != before {
		t.Fatalf("rejected update changed faults: %+v", w.Faults())
	}
}

func TestAdminHealthAndMetrics(t *testing.T) {
	w, _ := startWorker(t, func(c *Config) { c.AdminAddr = "127.0.0.1:0" })
	base := "http://" + w.AdminAddr()
	st, b := adminDo(t, "GET", base+"/healthz", "")
	var h map[string]any
	if st != 200 || json.Unmarshal([]byte(b), &h) != nil || h["status"] != "ok" || h["addr"] != w.Addr() {
		t.Fatalf("healthz: %d %s", st, b)
	}
	c := newClient(t)
	_ = w.SetFaults(Faults{ErrorRate: 1})
	_, _ = c.Call(context.Background(), w.Addr(), "job_service", map[string]any{"job": "echo"}, transport.CallOptions{})
	_ = w.SetFaults(Faults{})
	_, _ = c.Call(context.Background(), w.Addr(), "job_service", "plain", transport.CallOptions{})
	st, b = adminDo(t, "GET", base+"/metrics", "")
	for _, want := range []string{
		`worker_requests_total{job="echo",outcome="injected_error"} 1`,
		`worker_requests_total{job="other",outcome="ok"} 1`,
		`worker_injected_faults_total{kind="error"} 1`,
		`worker_request_duration_seconds_count{job="other"} 1`,
		`worker_requests_in_flight 0`,
	} {
		if st != 200 || !strings.Contains(b, want) {
			t.Errorf("metrics missing %q", want)
		}
	}
}

func TestAdminOffByDefault(t *testing.T) {
	w, _ := startWorker(t, nil)
	if w.AdminAddr() != "" {
		t.Fatalf("admin listener on by default: %s", w.AdminAddr())
	}
}

func TestHealthzReportsDrainingDuringShutdown(t *testing.T) {
	w, stop := startWorker(t, func(c *Config) { c.AdminAddr = "127.0.0.1:0" })
	base := "http://" + w.AdminAddr()
	c := newClient(t)
	done := make(chan error, 1)
	go func() {
		_, err := c.Call(context.Background(), w.Addr(), "job_service", map[string]any{"job": "sleep", "ms": 500}, transport.CallOptions{})
		done <- err
	}()
	waitFor(t, 10*time.Second, "request in flight", func() bool { return value(w.h.m.inFlight) == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	waitFor(t, 10*time.Second, "healthz draining", func() bool {
		st, b := adminDo(t, "GET", base+"/healthz", "")
		return st == http.StatusServiceUnavailable && strings.Contains(b, `"draining"`)
	})
	if err := <-done; err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}
