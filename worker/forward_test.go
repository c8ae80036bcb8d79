package worker

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// startPyBackend runs testdata/backend.py (a Python http.server service) and returns its base
// URL; the process is killed when the test ends.
func startPyBackend(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the sidecar tests need a backend in another language")
	}
	cmd := exec.Command(py, "testdata/backend.py")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		port, ok := strings.CutPrefix(strings.TrimSpace(s), "PORT ")
		if !ok {
			t.Fatalf("backend.py printed %q, want PORT <n>", s)
		}
		return "http://127.0.0.1:" + port
	case <-time.After(10 * time.Second):
		t.Fatal("backend.py did not start")
		return ""
	}
}

func newForwarder(t *testing.T, mod func(*ForwardConfig)) *Forwarder {
	t.Helper()
	c := DefaultForwardConfig()
	mod(&c)
	f, err := NewForward(c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f
}

func TestForwardToPythonBackend(t *testing.T) {
	base := startPyBackend(t)
	ctx := context.Background()
	req := &Request{Service: "py_svc", Payload: json.RawMessage(`{"action":"getUser","args":[{"id":7}]}`)}

	plain := newForwarder(t, func(c *ForwardConfig) { c.URL = base + "/rpc" })
	res, err := plain.ServeGrenache(ctx, req)
	if err != nil || string(res.(json.RawMessage)) != `{"path": "/rpc", "got": {"action": "getUser", "args": [{"id": 7}]}, "service": "py_svc"}` {
		t.Fatalf("plain forward: %s %v", res, err)
	}
	byAction := newForwarder(t, func(c *ForwardConfig) { c.URL = base + "/rpc"; c.ActionPath = true })
	res, err = byAction.ServeGrenache(ctx, req)
	if err != nil || !strings.HasPrefix(string(res.(json.RawMessage)), `{"path": "/rpc/getUser"`) {
		t.Fatalf("action path: %s %v", res, err)
	}
	if _, err := byAction.ServeGrenache(ctx, &Request{Payload: json.RawMessage(`[1]`)}); err == nil || !strings.HasPrefix(err.Error(), "ERR_BAD_REQUEST") {
		t.Fatalf("action path without action: %v", err)
	}

	for path, want := range map[string]string{
		"/status/500": "ERR_FORWARD_STATUS: backend answered 500 Internal Server Error: backend says 500",
		"/status/404": "ERR_FORWARD_STATUS: backend answered 404 Not Found",
		"/html":       `ERR_FORWARD_REPLY: backend answered 200 with a body that is not JSON (Content-Type "text/html")`,
		"/slow":       "ERR_FORWARD_TIMEOUT: backend did not answer within 300ms",
	} {
		f := newForwarder(t, func(c *ForwardConfig) { c.URL = base + path; c.Timeout = 300 * time.Millisecond })
		if _, err := f.ServeGrenache(ctx, req); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want prefix %q", path, err, want)
		}
	}
	dead := newForwarder(t, func(c *ForwardConfig) { c.URL = "http://127.0.0.1:1/rpc" })
	if _, err := dead.ServeGrenache(ctx, req); err == nil || !strings.HasPrefix(err.Error(), ErrMsgForwardUnreachable) {
		t.Fatalf("unreachable backend: %v", err)
	}
}

// The sidecar end to end over real sockets: a Grenache caller reaches the Python service
// through the host, and the backend's health gates announcing.
func TestSidecarHostGatesOnBackendHealth(t *testing.T) {
	base := startPyBackend(t)
	f := newForwarder(t, func(c *ForwardConfig) { c.URL = base + "/rpc"; c.HealthURL = base + "/health" })
	log := &eventLog{}
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.Service = "py_svc"
	cfg.Grapes = []string{newEventGrape(t, log)}
	cfg.AnnounceInterval = 20 * time.Millisecond
	cfg.DrainGrace = 0
	cfg.HealthInterval = 20 * time.Millisecond
	cfg.HealthCheck = f.Health
	w, err := NewService(cfg, f)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	defer func() { cancel(); <-runDone }()

	waitFor(t, 5*time.Second, "announce with a healthy backend", func() bool { return log.has("announce py_svc") })
	c := newClient(t)
	res, err := c.Call(context.Background(), w.Addr(), "py_svc", map[string]int{"n": 1}, transport.CallOptions{})
	if err != nil || string(res) != `{"path": "/rpc", "got": {"n": 1}, "service": "py_svc"}` {
		t.Fatalf("through the sidecar: %s %v", res, err)
	}
	flip := func(state string) {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Post(base+"/health/"+state, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	flip("down")
	waitFor(t, 5*time.Second, "unannounce with an unhealthy backend", func() bool { return log.has("unannounce py_svc") })
	waitFor(t, 5*time.Second, "announcing off", func() bool { return !w.Announcing() })
	flip("up")
	waitFor(t, 5*time.Second, "announcing resumes", func() bool {
		ev := log.snapshot()
		return w.Announcing() && ev[len(ev)-1] == "announce py_svc"
	})
}
