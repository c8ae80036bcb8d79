package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// startPyBackend runs the worker package's Python http.server backend and returns its URL.
func startPyBackend(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the sidecar test needs a backend in another language")
	}
	cmd := exec.Command(py, "../../worker/testdata/backend.py")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "PORT ")
	if err != nil || !ok {
		t.Fatalf("backend.py printed %q (%v), want PORT <n>", line, err)
	}
	return "http://127.0.0.1:" + port
}

// One command puts an HTTP service on the network: worker --forward URL announces it,
// forwards requests (errors named), and follows the backend's health.
func TestProcessForwardSidecar(t *testing.T) {
	bin := buildWorker(t)
	backend := startPyBackend(t)
	var mu sync.Mutex
	var events []string
	grape := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		events = append(events, r.URL.Path)
		mu.Unlock()
		_, _ = io.WriteString(w, "1")
	}))
	defer grape.Close()
	seen := func(path string, after int) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range events[min(after, len(events)):] {
			if e == path {
				return true
			}
		}
		return false
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(events) }

	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", "0", "--grape", grape.URL, "--service", "py_svc",
		"--announce-interval", "50", "--forward", backend+"/rpc", "--forward-action-path",
		"--forward-health", backend+"/health", "--health-interval", "50", "--drain-grace", "0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })
	var addr string
	for addr == "" {
		select {
		case l := <-lines:
			var m struct{ Message, Addr string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Message == "worker serving" {
				addr = m.Addr
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no 'worker serving' log line")
		}
	}
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	wait("announce", func() bool { return seen("/announce", 0) })
	_, body, err := httpDo("POST", "http://"+addr+"/", `["r1","py_svc",{"action":"getUser","args":[7]}]`, nil)
	if err != nil || body != `["r1",null,{"path": "/rpc/getUser", "got": {"action": "getUser", "args": [7]}, "service": "py_svc"}]` {
		t.Fatalf("through the sidecar: %q %v", body, err)
	}
	_, body, _ = httpDo("POST", "http://"+addr+"/", `["r2","py_svc",{"args":[]}]`, nil)
	if !strings.HasPrefix(body, `["r2","ERR_BAD_REQUEST: forwarding by action needs`) {
		t.Fatalf("payload without action: %q", body)
	}
	if _, _, err := httpDo("POST", backend+"/health/down", "", nil); err != nil {
		t.Fatal(err)
	}
	wait("unannounce while unhealthy", func() bool { return seen("/unannounce", 0) })
	n := count()
	if _, _, err := httpDo("POST", backend+"/health/up", "", nil); err != nil {
		t.Fatal(err)
	}
	wait("announce again once healthy", func() bool { return seen("/announce", n) })
}

func TestProcessForwardSettingsErrors(t *testing.T) {
	bin := buildWorker(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--forward", "ftp://x"}, []string{"--forward", "WORKER_FORWARD", "http(s)://"}},
		{[]string{"--forward-health", "http://127.0.0.1:1/h"}, []string{"--forward-health", "WORKER_FORWARD_HEALTH", "need --forward"}},
		{[]string{"--tls-cert", "c.pem"}, []string{"--tls-key", "WORKER_TLS_KEY", "both"}},
		{[]string{"--tls-client-auth", "maybe"}, []string{"--tls-client-auth", "WORKER_TLS_CLIENT_AUTH", "require, verify-if-given"}},
		{[]string{"--drain-grace", "-1"}, []string{"--drain-grace", "WORKER_DRAIN_GRACE"}},
	} {
		var stderr bytes.Buffer
		cmd := exec.Command(bin, c.args...)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Errorf("%v: want exit 2, got %v (%s)", c.args, err, stderr.String())
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), w)
			}
		}
	}
}
