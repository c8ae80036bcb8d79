package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while run writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Errorf("scrape: %v", err)
		return ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("scrape: status %d, %v", resp.StatusCode, err)
	}
	return string(b)
}

// series sums the values of every sample of metric name (any labels) in a
// Prometheus text exposition; ok is false when there is none.
func series(body, name string) (sum float64, n int) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
			n++
		}
	}
	return sum, n
}

// A `client run --gossip --metrics-addr` next to a second gossiping run:
// /metrics answers during the run with the request, attempt, per-peer and
// gossip series, and its last scrape (after the reports are written)
// shows exactly the JSON report's counts.
func TestRunServesMetrics(t *testing.T) {
	url := cluster(t, 2)
	dir := t.TempDir()
	js := filepath.Join(dir, "r.json")
	vars := map[string]string{"GOSSIP_PUBLISH_INTERVAL": "200", "GOSSIP_LISTEN": "127.0.0.1:0"}

	var final string
	metricsAfterReport = func(addr string) { final = scrape(t, addr) }
	defer func() { metricsAfterReport = nil }()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the other client, so there are hints to receive
		defer wg.Done()
		if code, _, errs := runClient(t, vars, "run", "--grape", url, "--service", "svc", "--duration", "3s", "--rate", "50", "--gossip"); code != 0 {
			t.Errorf("other run: code %d, %s", code, errs)
		}
	}()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"run", "--grape", url, "--service", "svc", "--duration", "3s", "--rate", "50",
			"--gossip", "--metrics-addr", "127.0.0.1:0", "--json", js, "--payload", `"fail"`, "--retries", "1"}, env(vars), &out, &errb)
	}()

	// During the run.
	re := regexp.MustCompile(`metrics on http://([0-9.:]+)/metrics`)
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" && time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	if addr == "" {
		t.Fatalf("no metrics address in stderr %q", errb.String())
	}
	time.Sleep(1500 * time.Millisecond)
	live := scrape(t, addr)
	for _, name := range []string{
		"grenache_client_requests_total", "grenache_client_attempts_total",
		"grenache_client_peer_share", "grenache_client_peer_score", "grenache_client_peer_breaker_state",
		"grenache_client_gossip_published_total", "grenache_client_gossip_received_total",
		"grenache_client_gossip_applied_total", "grenache_client_gossip_rejected_total",
	} {
		if _, n := series(live, name); n == 0 {
			t.Errorf("live scrape lacks %s", name)
		}
	}
	if v, _ := series(live, "grenache_client_attempts_total"); v == 0 {
		t.Error("no attempts counted during the run")
	}

	code := <-done
	wg.Wait()
	if code != exitOK { // every request fails ("fail" payload), the run itself succeeds
		t.Fatalf("code %d, stderr %q", code, errb.String())
	}
	if final == "" {
		t.Fatal("no final scrape")
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Requests, Failed, Attempts int64
		Gossip                     *struct{ Published, Received, Applied, Rejected uint64 }
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Gossip == nil || rep.Gossip.Received == 0 || rep.Gossip.Applied == 0 {
		t.Fatalf("report gossip block %+v", rep.Gossip)
	}
	if !strings.Contains(out.String(), "gossip  published") {
		t.Fatalf("summary lacks the gossip line: %q", out.String())
	}
	for name, want := range map[string]float64{
		"grenache_client_gossip_published_total": float64(rep.Gossip.Published),
		"grenache_client_gossip_received_total":  float64(rep.Gossip.Received),
		"grenache_client_gossip_applied_total":   float64(rep.Gossip.Applied),
		"grenache_client_gossip_rejected_total":  float64(rep.Gossip.Rejected),
		"grenache_client_requests_total":         float64(rep.Requests),
		"grenache_client_attempts_total":         float64(rep.Attempts),
		"grenache_client_peer_attempts_total":    float64(rep.Attempts),
	} {
		if got, n := series(final, name); n == 0 || got != want {
			t.Errorf("%s = %v (%d series), report says %v", name, got, n, want)
		}
	}
	if got, _ := series(final, `grenache_client_requests_total{outcome="failed",service="svc"}`); got != float64(rep.Failed) || rep.Failed == 0 {
		t.Errorf("failed requests %v, report %d", got, rep.Failed)
	}
}

func TestMetricsAddrInvalidExit2(t *testing.T) {
	url := cluster(t, 1)
	code, _, errs := runClient(t, nil, "run", "--grape", url, "--service", "svc", "--duration", "1s", "--rate", "5",
		"--metrics-addr", "127.0.0.1:notaport")
	if code != exitSettings || !strings.Contains(errs, "CLIENT_METRICS_ADDR") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}
