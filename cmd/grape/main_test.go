package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/internal/leakcheck"
)

// TestMain doubles as the grape binary when GRAPE_TEST_RUN_MAIN is set, so
// signal handling is tested on a real process without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("GRAPE_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"grape"}, strings.Fields(os.Getenv("GRAPE_TEST_ARGS"))...)
		main()
		return
	}
	leakcheck.Main(m)
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, s, err := load([]string{"--dp", "20001", "--aph", "30001", "--bn", ""}, envOf(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PeerMaxAge != 120*time.Second || cfg.MaxPayloadSize != 8192 || cfg.MaxTables != 5000 ||
		cfg.MaxValues != 5000 || cfg.NodeLiveness != 300*time.Second || cfg.Concurrency != 16 ||
		cfg.QueryTimeout != 2*time.Second || len(cfg.Bootstrap) != 0 || cfg.Bind != "" ||
		cfg.LookupCacheTTL != 500*time.Millisecond || cfg.BodyBudget != grape.DefaultBodyBudget ||
		cfg.MaxConns != grape.DefaultMaxConns || cfg.HeaderTimeout != grape.MaxHeaderTimeout {
		t.Errorf("defaults: %+v", cfg)
	}
	if s.LogFormat != "auto" || s.LogLevel != "info" {
		t.Errorf("log defaults: %+v", s)
	}
}

func TestNodeFlagsAndAliases(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, _, err := load([]string{"--dht_port", "1", "--api_port", "2", "--bootstrap", "127.0.0.1:3,127.0.0.1:4",
		"-b", "127.0.0.1", "--dht_peer_maxAge", "10000", "--dht_maxTables", "7", "--dht_maxValues", "8",
		"--dht_nodeLiveness", "9000", "--check_maxPayloadSize", "100", "--dht_concurrency", "3",
		"--cache_maxAge", "5"}, envOf(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DHTPort != 1 || cfg.APIPort != 2 || strings.Join(cfg.Bootstrap, ",") != "127.0.0.1:3,127.0.0.1:4" ||
		cfg.Bind != "127.0.0.1" || cfg.PeerMaxAge != 10*time.Second || cfg.MaxTables != 7 || cfg.MaxValues != 8 ||
		cfg.NodeLiveness != 9*time.Second || cfg.MaxPayloadSize != 100 || cfg.Concurrency != 3 {
		t.Errorf("got %+v", cfg)
	}
	cfg, _, err = load([]string{"-dp", "1", "-aph", "2", "--dpa", "5", "--dnl", "6", "--dc", "4"}, envOf(nil), nil)
	if err != nil || cfg.PeerMaxAge != 5*time.Millisecond || cfg.NodeLiveness != 6*time.Millisecond || cfg.Concurrency != 4 {
		t.Errorf("short aliases: %+v %v", cfg, err)
	}
}

// The lookup cache may be switched off (Node's behaviour) but never set past
// the one-second visibility promise for new announcements.
func TestLookupCacheTTLBounds(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, _, err := load([]string{"--dp", "1", "--aph", "2", "--lookup_cache_ttl", "0"}, envOf(nil), nil)
	if err != nil || cfg.LookupCacheTTL != 0 {
		t.Errorf("ttl 0: %v %v", cfg.LookupCacheTTL, err)
	}
	_, _, err = load([]string{"--dp", "1", "--aph", "2"}, envOf(map[string]string{"GRAPE_LOOKUP_CACHE_TTL": "1500"}), nil)
	if err == nil || !strings.Contains(err.Error(), "--lookup_cache_ttl") || !strings.Contains(err.Error(), "GRAPE_LOOKUP_CACHE_TTL") {
		t.Errorf("ttl 1500 must be refused naming flag and variable, got %v", err)
	}
}

func TestEnvAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	dot := "GRAPE_DHT_PORT=11\nGRAPE_API_PORT=12\nGRAPE_PEER_MAX_AGE=1000\nGRAPE_MAX_PAYLOAD_SIZE=500\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(dot), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GRAPE_API_PORT": "22", "GRAPE_BOOTSTRAP": "127.0.0.1:9", "GRAPE_CONCURRENCY": "8",
		"GRAPE_BIND": "127.0.0.1", "GRAPE_MAX_TABLES": "10", "GRAPE_MAX_VALUES": "11", "GRAPE_NODE_LIVENESS": "7000"}
	cfg, _, err := load([]string{"--check_maxPayloadSize", "600"}, envOf(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DHTPort != 11 || cfg.APIPort != 22 || cfg.PeerMaxAge != time.Second || cfg.MaxPayloadSize != 600 ||
		cfg.Bootstrap[0] != "127.0.0.1:9" || cfg.Concurrency != 8 || cfg.Bind != "127.0.0.1" ||
		cfg.MaxTables != 10 || cfg.MaxValues != 11 || cfg.NodeLiveness != 7*time.Second {
		t.Errorf(".env < env < flags: %+v", cfg)
	}
}

func TestInvalidExits2(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--aph", "1"}, nil, []string{"--dp/--dht_port", "GRAPE_DHT_PORT", "0..65535"}},
		{[]string{"--dp", "1"}, nil, []string{"--aph/--api_port", "GRAPE_API_PORT"}},
		{[]string{"--dp", "x", "--aph", "1"}, nil, []string{"--dp/--dht_port", "GRAPE_DHT_PORT", `"x"`}},
		{[]string{"--dp", "1"}, map[string]string{"GRAPE_API_PORT": "99999"}, []string{"--aph/--api_port", "GRAPE_API_PORT", "0..65535"}},
		{[]string{"--dp", "1", "--aph", "2", "--check_maxPayloadSize", "0"}, nil, []string{"--check_maxPayloadSize", "GRAPE_MAX_PAYLOAD_SIZE", ">= 1"}},
		{[]string{"--dp", "1", "--aph", "2"}, map[string]string{"GRAPE_PEER_MAX_AGE": "-5"}, []string{"--dpa/--dht_peer_maxAge", "GRAPE_PEER_MAX_AGE"}},
		{[]string{"--dp", "1", "--aph", "2", "--log-format", "xml"}, nil, []string{"--log-format", "GRAPE_LOG_FORMAT", "json"}},
		{[]string{"--dp", "1", "--aph", "2", "--log-level", "loud"}, nil, []string{"--log-level", "GRAPE_LOG_LEVEL", "debug"}},
		{[]string{"--dp", "1", "--aph", "2", "-b", "localhost"}, nil, []string{"-b/--bind", "GRAPE_BIND", "IP"}},
		{[]string{"--dp", "1", "--aph", "2", "--dc", "0"}, map[string]string{}, []string{"--dc/--dht_concurrency", "GRAPE_CONCURRENCY"}},
		{[]string{"--dp", "1", "--aph", "2", "--body_budget", "8192"}, nil, []string{"--body_budget", "GRAPE_BODY_BUDGET", "--check_maxPayloadSize", "GRAPE_MAX_PAYLOAD_SIZE", "8192"}},
		{[]string{"--dp", "1", "--aph", "2", "--header_timeout", "60s"}, nil, []string{"--header_timeout", "GRAPE_HEADER_TIMEOUT", "1..10000"}},
		{[]string{"--dp", "1", "--aph", "2"}, map[string]string{"GRAPE_MAX_CONNS": "-1"}, []string{"--max_conns", "GRAPE_MAX_CONNS", ">= 0"}},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(context.Background(), c.args, envOf(c.env), &out, &errb)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", c.args, code, errb.String())
		}
		for _, w := range c.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, errb.String(), w)
			}
		}
	}
}

func TestHelpExits0(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--help"}, envOf(nil), &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, w := range []string{"--dp/--dht_port", "--aph/--api_port", "--bn/--bootstrap", "-b/--bind", "--dpa/--dht_peer_maxAge",
		"--dht_maxTables", "--dht_maxValues", "--dnl/--dht_nodeLiveness", "--check_maxPayloadSize", "--dc/--dht_concurrency",
		"--log-format", "--log-level", "GRAPE_DHT_PORT", "GRAPE_MAX_PAYLOAD_SIZE", `default "120000"`, `default "8192"`} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("help lacks %q", w)
		}
	}
}

// Every setting of .env.example must be a variable the binary reads, with
// the default the binary uses.
func TestEnvExampleMatches(t *testing.T) {
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	t.Chdir(t.TempDir())
	_ = run(context.Background(), []string{"--help"}, envOf(nil), &out, &out)
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		n++
		if !strings.Contains(out.String(), "env "+k+";") {
			t.Errorf(".env.example lists %s, which grape does not read", k)
		}
		if k != "GRAPE_DHT_PORT" && k != "GRAPE_API_PORT" && !strings.Contains(out.String(), "env "+k+"; default \""+v+"\"") {
			t.Errorf(".env.example default %s=%s differs from the binary's", k, v)
		}
	}
	if want := strings.Count(out.String(), "env GRAPE_"); n != want {
		t.Errorf(".env.example has %d settings, grape reads %d", n, want)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// The binary starts on free ports, serves the Node API, and exits 0 when
// its context ends (SIGINT/SIGTERM in main).
func TestRunServesAndStops(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--dp", "0", "--aph", "0", "--bn", "", "-b", "127.0.0.1", "--log-format", "json"}, envOf(nil), &out, &logs)
	}()
	re := regexp.MustCompile(`"api":"(http://127\.0\.0\.1:\d+)"`)
	var api string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			api = m[1]
			break
		}
	}
	if api == "" {
		cancel()
		t.Fatalf("no start line in logs: %s", logs.String())
	}
	resp, err := http.Post(api+"/lookup", "", strings.NewReader(`{"data":"nothing"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "[]" {
		t.Errorf("lookup answered %q", b)
	}
	cancel()
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d; logs %s", c, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop")
	}
}

// SIGTERM (and SIGINT) stop the real process cleanly with exit status 0.
func TestSignalStopsProcess(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Dir = t.TempDir()
		cmd.Env = append(os.Environ(), "GRAPE_TEST_RUN_MAIN=1",
			"GRAPE_TEST_ARGS=--dp 0 --aph 0 -b 127.0.0.1 --log-format json")
		var logs syncBuffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(logs.String(), "grape running"); {
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: %v; logs %s", sig, err, logs.String())
			}
			if !strings.Contains(logs.String(), "grape stopped") {
				t.Errorf("%v: no clean stop in logs: %s", sig, logs.String())
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("%v: process did not exit", sig)
		}
	}
}

// Node's millisecond flags keep their meaning as bare integers (start
// scripts pass --dpa 120000) and also take a Go duration.
func TestMillisecondSettingsTakeGoDurations(t *testing.T) {
	t.Chdir(t.TempDir())
	base := []string{"--dp", "1", "--aph", "2"}
	cases := []struct {
		args []string
		env  map[string]string
		get  func(grape.Config) time.Duration
		want time.Duration
	}{
		{[]string{"--dpa", "120000"}, nil, func(c grape.Config) time.Duration { return c.PeerMaxAge }, 120 * time.Second},
		{[]string{"--dpa", "2m"}, nil, func(c grape.Config) time.Duration { return c.PeerMaxAge }, 2 * time.Minute},
		{nil, map[string]string{"GRAPE_PEER_MAX_AGE": "90s"}, func(c grape.Config) time.Duration { return c.PeerMaxAge }, 90 * time.Second},
		{[]string{"--dnl", "1500ms"}, nil, func(c grape.Config) time.Duration { return c.NodeLiveness }, 1500 * time.Millisecond},
		{nil, map[string]string{"GRAPE_NODE_LIVENESS": "300000"}, func(c grape.Config) time.Duration { return c.NodeLiveness }, 5 * time.Minute},
		{[]string{"--lookup_cache_ttl", "1s"}, nil, func(c grape.Config) time.Duration { return c.LookupCacheTTL }, time.Second},
		{nil, map[string]string{"GRAPE_LOOKUP_CACHE_TTL": "250ms"}, func(c grape.Config) time.Duration { return c.LookupCacheTTL }, 250 * time.Millisecond},
	}
	for _, c := range cases {
		cfg, _, err := load(append(append([]string{}, base...), c.args...), envOf(c.env), nil)
		if err != nil || c.get(cfg) != c.want {
			t.Errorf("%v %v: got %v %v, want %v", c.args, c.env, c.get(cfg), err, c.want)
		}
	}
	bad := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--dpa", "2x"}, nil, []string{"--dpa/--dht_peer_maxAge", "GRAPE_PEER_MAX_AGE", `"2x"`, "milliseconds as an integer, or a Go duration like 1500ms"}},
		{nil, map[string]string{"GRAPE_PEER_MAX_AGE": "-1s"}, []string{"--dpa/--dht_peer_maxAge", "GRAPE_PEER_MAX_AGE", "below minimum", ">= 0 ms"}},
		{[]string{"--dnl", "0s"}, nil, []string{"--dnl/--dht_nodeLiveness", "GRAPE_NODE_LIVENESS", ">= 1 ms"}},
		{[]string{"--lookup_cache_ttl", "1001ms"}, nil, []string{"--lookup_cache_ttl", "GRAPE_LOOKUP_CACHE_TTL", "0..1000 ms"}},
	}
	for _, c := range bad {
		var out, errb bytes.Buffer
		if code := run(context.Background(), append(append([]string{}, base...), c.args...), envOf(c.env), &out, &errb); code != 2 {
			t.Errorf("%v %v: exit %d, want 2", c.args, c.env, code)
		}
		for _, w := range c.want {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%v %v: stderr %q lacks %q", c.args, c.env, errb.String(), w)
			}
		}
	}
}
