package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/hostile"
)

// startWorkerProcess runs the built worker on a free loopback port, with a
// stub grape, and returns its process and RPC address.
func startWorkerProcess(t *testing.T, args ...string) (*os.Process, string) {
	t.Helper()
	bin := buildWorker(t)
	grape := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "1") }))
	t.Cleanup(grape.Close)
	cmd := exec.Command(bin, append([]string{"--bind", "127.0.0.1", "--port", "0", "--grape", grape.URL, "--log-format", "json"}, args...)...)
	cmd.Env = []string{"WORKER_SERVICE_NAME=hostile_svc"}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m struct{ Message, Addr string }
			if json.Unmarshal(sc.Bytes(), &m) == nil && m.Message == "worker serving" {
				addrc <- m.Addr
			}
		}
		_ = cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	select {
	case a := <-addrc:
		return cmd.Process, a
	case <-time.After(10 * time.Second):
		t.Fatal("no 'worker serving' log line")
	}
	return nil, ""
}

// procKB reads a "VmRSS:"-style field of /proc/PID/status in kB.
func procKB(t *testing.T, p *os.Process, field string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// echoTimes times n sequential echoes over one keep-alive connection.
func echoTimes(t *testing.T, addr string, n int) []time.Duration {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	out := make([]time.Duration, 0, n)
	for i := range n {
		body := fmt.Sprintf(`["r%d","hostile_svc",{"job":"echo","i":%d}]`, i, i)
		start := time.Now()
		resp, err := hc.Post("http://"+addr+"/", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, time.Since(start))
		if resp.StatusCode != 200 || !strings.HasPrefix(string(b), fmt.Sprintf(`["r%d",null,`, i)) {
			t.Fatalf("echo %d: %d %s", i, resp.StatusCode, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// The first target, on the real binary: 3000 connections that each
// claim an 8 MiB body and send one byte keep the worker under 200 MB RSS,
// and another client's echo still answers in under 50 ms.
func TestProcessClaimedBodiesKeepRSSBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("3000 connections")
	}
	const conns = 3000
	proc, addr := startWorkerProcess(t)
	idle := procKB(t, proc, "VmRSS")
	hostile.HoldConns(t, addr, conns, "POST / HTTP/1.1\r\nHost: w\r\nContent-Length: 8388608\r\n\r\n[")
	time.Sleep(500 * time.Millisecond) // let the worker read every request's first byte
	lat := echoTimes(t, addr, 51)
	rss, hwm := procKB(t, proc, "VmRSS"), procKB(t, proc, "VmHWM")
	med, worst := lat[len(lat)/2], lat[len(lat)-1]
	t.Logf("%d connections claiming 8 MiB: RSS idle %d kB, now %d kB, peak %d kB; echo median %v max %v",
		conns, idle, rss, hwm, med, worst)
	if hwm > 200_000 {
		t.Errorf("peak RSS %d kB with %d claimed bodies, want < 200 MB", hwm, conns)
	}
	// The target is 50 ms. Single echoes here take ~0.1-0.3 ms and 1 in ~150
	// exceeds 50 ms on a loaded 2-core box (measured). The median of 51
	// fails only if 26 or more do: with a per-echo chance p = 0.2 of a
	// hiccup (30x the measured rate) that is P(Bin(51, 0.2) >= 26) = 8e-7,
	// well under once in 1000 runs.
	if med > 50*time.Millisecond {
		t.Errorf("echo median %v beside %d stalled bodies, want < 50 ms (all: %v)", med, conns, lat)
	}
}

// The second target: 20 concurrent 1 GiB gzip bombs keep the worker
// under 150 MB RSS; each is refused (413 at the body limit, or 503 when the
// budget stays spent), and the worker answers normally afterwards.
func TestProcessGzipBombsKeepRSSBounded(t *testing.T) {
	proc, addr := startWorkerProcess(t)
	bomb := hostile.GzipBomb(1024)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	statuses := hostile.SendBombs(t, &http.Client{Transport: tr, Timeout: 30 * time.Second}, "http://"+addr+"/", bomb, 20)
	hwm := procKB(t, proc, "VmHWM")
	t.Logf("20 concurrent 1 GiB gzip bombs (%d bytes each): statuses %v, peak RSS %d kB", len(bomb), statuses, hwm)
	for i, s := range statuses {
		if s != http.StatusRequestEntityTooLarge && s != http.StatusServiceUnavailable {
			t.Errorf("bomb %d: status %d, want 413 or 503", i, s)
		}
	}
	if hwm > 150_000 {
		t.Errorf("peak RSS %d kB under 20 gzip bombs, want < 150 MB", hwm)
	}
	echoTimes(t, addr, 3)
}
