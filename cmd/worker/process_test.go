package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildWorker compiles this command once per test binary run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func buildWorker(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binPath = filepath.Join(binDir, "worker")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func httpDo(method, url, body string, hdr map[string]string) (int, string, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func TestProcessExitsTwoOnInvalidFlag(t *testing.T) {
	bin := buildWorker(t)
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "--port", "abc")
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("want exit 2, got %v", err)
	}
	for _, want := range []string{"--port", "WORKER_PORT", "0..65535"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}

func TestProcessSIGTERMDrainsInFlightAndExitsZero(t *testing.T) {
	bin := buildWorker(t)
	var mu sync.Mutex
	announces := 0
	grape := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/announce" {
			mu.Lock()
			announces++
			mu.Unlock()
		}
		_, _ = io.WriteString(w, "1")
	}))
	defer grape.Close()
	admin := freePort(t)

	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", "0", "--grape", grape.URL,
		"--announce-interval", "50", "--admin-port", strconv.Itoa(admin), "--shutdown-grace", "5s",
		"--drain-grace", "200") // the drain order has its own test; keep this one quick
	cmd.Env = []string{"WORKER_SERVICE_NAME=proc_svc"}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-exited })

	var addr string
	for addr == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("worker exited before serving")
			}
			var m struct{ Message, Addr string }
			if json.Unmarshal([]byte(l), &m) == nil && m.Message == "worker serving" {
				addr = m.Addr
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no 'worker serving' log line")
		}
	}

	type reply struct {
		body string
		err  error
	}
	got := make(chan reply, 1)
	go func() {
		_, b, err := httpDo("POST", "http://"+addr+"/", `["rid-1","proc_svc",{"job":"sleep","ms":400}]`, nil)
		got <- reply{b, err}
	}()
	metrics := "http://127.0.0.1:" + strconv.Itoa(admin) + "/metrics"
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, b, _ := httpDo("GET", metrics, "", nil)
		if strings.Contains(b, "worker_requests_in_flight 1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("request never in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r := <-got
	if r.err != nil || r.body != `["rid-1",null,{"slept_ms":400}]` {
		t.Fatalf("in-flight request across SIGTERM: %q %v", r.body, r.err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("worker exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not exit after SIGTERM")
	}
	mu.Lock()
	n := announces
	mu.Unlock()
	if n == 0 {
		t.Fatal("worker never announced")
	}
	time.Sleep(150 * time.Millisecond) // three announce intervals: a live announcer would show
	mu.Lock()
	defer mu.Unlock()
	if announces != n {
		t.Fatalf("announces continued after exit")
	}
}
