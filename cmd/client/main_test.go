package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/internal/leakcheck"
	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// env is a fake environment for run.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func runClient(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, env(vars), &out, &errb)
	return code, out.String(), errb.String()
}

// cluster starts one Go grape and n RPC servers announced as "svc"; the
// handler fails when the payload is "fail".
func cluster(t *testing.T, n int) string {
	t.Helper()
	g := grapetest.Cluster(t, 2)
	url := g[0].APIURL()
	l, err := link.New(link.Config{Grapes: []string{url}, RequestTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait)
	h := func(ctx context.Context, key string, payload json.RawMessage) (any, error) {
		if string(payload) == `"fail"` {
			return nil, errors.New("ERR_TEST_FAIL")
		}
		return payload, nil
	}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := transport.NewHTTPServer(h, transport.HTTPServerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
		})
		if _, err := l.Announce(context.Background(), "svc", ln.Addr().(*net.TCPAddr).Port); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		peers, _ := l.Lookup(context.Background(), "svc")
		if len(peers) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("announced peers not visible: %v", peers)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url
}

func TestCall(t *testing.T) {
	url := cluster(t, 2)
	code, out, errs := runClient(t, nil, "call", "--grape", url, "svc", `{"a":[1,2]}`)
	if code != 0 || strings.TrimSpace(out) != `{"a":[1,2]}` {
		t.Fatalf("call: code %d out %q err %q", code, out, errs)
	}
	code, out, errs = runClient(t, map[string]string{"CLIENT_GRAPE": url}, "call", "svc", "7", "--map", "--compress", "--timeout", "2s")
	if code != 0 || strings.TrimSpace(out) != `[7,7]` {
		t.Fatalf("call --map: code %d out %q err %q", code, out, errs)
	}
	code, out, errs = runClient(t, nil, "call", "--grape", url, "--retries", "0", "svc", `"fail"`)
	if code != 1 || out != "" || !strings.Contains(errs, "ERR_TEST_FAIL") {
		t.Fatalf("failing call: code %d out %q err %q", code, out, errs)
	}
	code, _, errs = runClient(t, nil, "call", "--grape", url, "nosuchservice", `1`)
	if code != 1 || errs == "" {
		t.Fatalf("unknown service: code %d err %q", code, errs)
	}
}

func TestSettingsErrorsExit2(t *testing.T) {
	cases := []struct {
		vars map[string]string
		args []string
		want []string
	}{
		{nil, []string{"call", "--timeout", "soon", "svc", "1"}, []string{"--timeout", "CLIENT_REQUEST_TIMEOUT"}},
		{map[string]string{"CLIENT_MAX_RETRIES": "99"}, []string{"call", "svc", "1"}, []string{"--retries", "CLIENT_MAX_RETRIES", "0..15"}},
		{map[string]string{"METRICS_LATENCY_WEIGHT": "0.9"}, []string{"call", "svc", "1"}, []string{"--latency-weight", "METRICS_LATENCY_WEIGHT", "sum"}},
		{nil, []string{"call", "--strategy", "fastest", "svc", "1"}, []string{"--strategy", "CLIENT_STRATEGY", "round-robin"}},
		{nil, []string{"call", "svc"}, []string{"SERVICE PAYLOAD_JSON"}},
		{nil, []string{"call", "svc", "{nope"}, []string{"not valid JSON"}},
		{nil, []string{"call", "--grape", "ftp://x", "svc", "1"}, []string{"--grape", "CLIENT_GRAPE"}},
		{nil, []string{"run", "--service", "svc", "--rate", "5", "--concurrency", "2"}, []string{"--rate", "--concurrency"}},
		{nil, []string{"run"}, []string{"--service"}},
		{nil, []string{"bogus"}, []string{"unknown command"}},
	}
	for _, c := range cases {
		code, _, errs := runClient(t, c.vars, c.args...)
		if code != 2 {
			t.Fatalf("%v: exit %d, want 2 (stderr %q)", c.args, code, errs)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Fatalf("%v: stderr %q lacks %q", c.args, errs, w)
			}
		}
	}
}

// TestDefaultsMatchLibrary keeps the binary's envDefault tags equal to client.DefaultConfig.
func TestDefaultsMatchLibrary(t *testing.T) {
	var s settings
	if err := config.Load(&s, config.Source{Name: "t", Getenv: env(nil), DotEnv: "-"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.toConfig()
	if err != nil {
		t.Fatal(err)
	}
	if want := client.DefaultConfig(); !reflect.DeepEqual(cfg, want) {
		t.Fatalf("binary defaults differ from the library's:\n got %+v\nwant %+v", cfg, want)
	}
	if s.Duration != 30*time.Second {
		t.Fatalf("run duration default %v", s.Duration)
	}
}

func TestRunWritesReports(t *testing.T) {
	url := cluster(t, 3)
	dir := t.TempDir()
	js, html := filepath.Join(dir, "r.json"), filepath.Join(dir, "r.html")
	code, out, errs := runClient(t, nil, "run", "--grape", url, "--service", "svc", "--duration", "1s",
		"--rate", "100", "--strategy", "round-robin", "--payload", `{"x":1}`, "--json", js, "--html", html)
	if code != 0 {
		t.Fatalf("run: code %d, stderr %q", code, errs)
	}
	if !strings.Contains(out, "p99") || !strings.Contains(errs, "requests") {
		t.Fatalf("summary %q / progress %q", out, errs)
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Strategy string  `json:"strategy"`
		Requests int     `json:"requests"`
		Success  float64 `json:"success_rate"`
		Peers    []struct {
			Addr  string  `json:"addr"`
			Share float64 `json:"share"`
		} `json:"peers"`
		Timeline []map[string]any `json:"timeline"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Strategy != "round-robin" || rep.Requests < 80 || rep.Success != 1 || len(rep.Peers) != 3 || len(rep.Timeline) != 1 {
		t.Fatalf("report %s", b)
	}
	for _, p := range rep.Peers {
		if p.Share < 0.3 || p.Share > 0.37 {
			t.Fatalf("round robin share %v", p.Share)
		}
	}
	h, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(h, []byte("<svg")) {
		t.Fatalf("html: %v", err)
	}
}

// Help lists every flag with its variable, and the settings that exist only
// as variables in their own section, never as an entry with a blank flag.
func TestHelpListsFlagsAndEnvOnlySettings(t *testing.T) {
	for _, sub := range []string{"call", "run"} {
		code, out, errs := runClient(t, nil, sub, "-h")
		if code != exitOK {
			t.Fatalf("%s -h: exit %d, stderr %q", sub, code, errs)
		}
		for i, line := range strings.Split(out, "\n") {
			if line != "" && strings.TrimSpace(line) == "" {
				t.Errorf("%s -h: line %d is blank but indented:\n%s", sub, i+1, out)
			}
		}
		flags, envOnly, ok := strings.Cut(out, "Environment only")
		if !ok {
			t.Fatalf("%s -h: no environment-only section:\n%s", sub, out)
		}
		st := reflect.TypeOf(settings{})
		for i := range st.NumField() {
			tag := st.Field(i).Tag
			envName, _, _ := strings.Cut(tag.Get("env"), ",")
			flagName, _, _ := strings.Cut(tag.Get("flag"), ",")
			switch {
			case flagName != "" && envName != "":
				if !strings.Contains(flags, "  --"+flagName+"\n") || !strings.Contains(flags, "env "+envName+"; default") {
					t.Errorf("%s -h: flag section lacks --%s with env %s", sub, flagName, envName)
				}
			case flagName != "":
				if !strings.Contains(flags, "  --"+flagName+"\n") {
					t.Errorf("%s -h: flag section lacks --%s", sub, flagName)
				}
			case envName != "":
				want := "  " + envName + ` (default "` + tag.Get("envDefault") + `") ` + tag.Get("usage") + "; allowed "
				if !strings.Contains(envOnly, want) || strings.Contains(flags, envName) {
					t.Errorf("%s -h: %s must be listed only in the environment-only section as %q:\n%s", sub, envName, want, envOnly)
				}
			}
		}
		if !strings.Contains(envOnly, "METRICS_LATENCY_DECAY_MS") || !strings.Contains(envOnly, "milliseconds as an integer, or a Go duration like 1500ms, in 1..3600000 ms") {
			t.Errorf("%s -h: duration wording missing:\n%s", sub, envOnly)
		}
	}
}
