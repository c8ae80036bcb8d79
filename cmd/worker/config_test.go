package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/worker"
)

func load(args []string, env map[string]string) (worker.Config, error) {
	_, cfg, err := loadSettings(config.Source{Name: "worker", Args: args, Getenv: func(k string) string { return env[k] }, DotEnv: "-"})
	return cfg, err
}

func TestDefaultsMatchTheIssue(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != "job_service" || c.Port != 1337 || c.AnnounceInterval != 5*time.Second ||
		len(c.Grapes) != 1 || c.Grapes[0] != "http://127.0.0.1:30001" || c.AdminPort != 0 ||
		c.Faults != (worker.Faults{}) || c.ShutdownGrace != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
	}
}

// The settings' documented defaults and minimum are the library's numbers.
func TestBodyBudgetSettingMatchesTheLibrary(t *testing.T) {
	c, err := load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.BodyBudget != worker.DefaultBodyBudget || c.MaxConns != worker.DefaultMaxConns {
		t.Fatalf("defaults: budget %d conns %d", c.BodyBudget, c.MaxConns)
	}
	if c, err := load([]string{"--body-budget", strconv.FormatInt(worker.MinBodyBudget, 10)}, nil); err != nil || c.BodyBudget != worker.MinBodyBudget {
		t.Fatalf("the minimum %d is refused: %v", worker.MinBodyBudget, err)
	}
	if _, err := load([]string{"--body-budget", strconv.FormatInt(worker.MinBodyBudget-1, 10)}, nil); err == nil {
		t.Fatal("a budget below the minimum was accepted")
	}
}

func TestEnvThenFlagsWin(t *testing.T) {
	env := map[string]string{
		"WORKER_SERVICE_NAME":       "from_env",
		"WORKER_PORT":               "4000",
		"WORKER_ANNOUNCE_INTERVAL":  "250",
		"WORKER_GRAPE":              "http://127.0.0.1:1, http://127.0.0.1:2",
		"WORKER_FAULT_LATENCY":      "50ms",
		"WORKER_FAULT_JITTER":       "7",
		"WORKER_FAULT_ERROR_RATE":   "0.2",
		"WORKER_FAULT_TIMEOUT_RATE": "0.1",
		"WORKER_ADMIN_PORT":         "9100",
		"WORKER_SHUTDOWN_GRACE":     "3s",
	}
	c, err := load([]string{"--service", "from_flag", "--fault-error-rate", "0.5", "--grape", "https://g:3"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Service != "from_flag" || c.Port != 4000 || c.AnnounceInterval != 250*time.Millisecond ||
		len(c.Grapes) != 1 || c.Grapes[0] != "https://g:3" ||
		c.Faults.Latency != 50*time.Millisecond || c.Faults.Jitter != 7*time.Millisecond ||
		c.Faults.ErrorRate != 0.5 || c.Faults.TimeoutRate != 0.1 || c.AdminPort != 9100 || c.ShutdownGrace != 3*time.Second {
		t.Fatalf("merged: %+v", c)
	}
	c, _ = load(nil, env)
	if len(c.Grapes) != 2 || c.Grapes[1] != "http://127.0.0.1:2" {
		t.Fatalf("comma list: %v", c.Grapes)
	}
}

func TestInvalidValuesNameFlagVariableAndAllowed(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--port", "abc"}, nil, []string{"--port", "WORKER_PORT", `"abc"`, "0..65535"}},
		{nil, map[string]string{"WORKER_PORT": "70000"}, []string{"--port", "WORKER_PORT", "70000"}},
		{[]string{"--fault-error-rate", "2"}, nil, []string{"--fault-error-rate", "WORKER_FAULT_ERROR_RATE", "0..1"}},
		{[]string{"--fault-latency", "soon"}, nil, []string{"--fault-latency", "WORKER_FAULT_LATENCY", "duration"}},
		{[]string{"--grape", "127.0.0.1:30001"}, nil, []string{"--grape", "WORKER_GRAPE", "http(s)://"}},
		{[]string{"--announce-interval", "1.5"}, nil, []string{"--announce-interval", "WORKER_ANNOUNCE_INTERVAL", "milliseconds as an integer, or a Go duration"}},
		{[]string{"--log-level", "loud"}, nil, []string{"--log-level", "WORKER_LOG_LEVEL", "debug"}},
		{[]string{"--service", ""}, nil, []string{"--service", "WORKER_SERVICE_NAME", "non-empty"}},
		{[]string{"--body-budget", "16842753"}, nil, []string{"--body-budget", "WORKER_BODY_BUDGET", "16842754"}},
		{nil, map[string]string{"WORKER_MAX_CONNS": "-1"}, []string{"--max-conns", "WORKER_MAX_CONNS", ">= 0"}},
		{[]string{"--bind", "localhost"}, nil, []string{"--bind", "WORKER_BIND", "IPv4"}},
		{[]string{"--fault-error-rate", "0.7", "--fault-timeout-rate", "0.7"}, nil, []string{"WORKER_FAULT_ERROR_RATE", "WORKER_FAULT_TIMEOUT_RATE", "at most 1"}},
	}
	for _, c := range cases {
		_, err := load(c.args, c.env)
		if !errors.Is(err, errUsage) {
			t.Errorf("%v %v: want usage error, got %v", c.args, c.env, err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: error %q lacks %q", c.args, c.env, err, w)
			}
		}
	}
}

func TestRunExitCodes(t *testing.T) {
	var out, errb bytes.Buffer
	getenv := func(string) string { return "" }
	if code := run(context.Background(), []string{"-h"}, getenv, &out, io.Discard); code != exitOK || !strings.Contains(out.String(), "WORKER_FAULT_TIMEOUT_RATE") {
		t.Fatalf("-h: code %d, usage %q", code, out.String())
	}
	if code := run(context.Background(), []string{"--port", "-1"}, getenv, io.Discard, &errb); code != exitSettings || !strings.Contains(errb.String(), "WORKER_PORT") {
		t.Fatalf("bad port: code %d, stderr %q", code, errb.String())
	}
	// A clean in-process run: ctx already done → drains at once → exit 0.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code := run(ctx, []string{"--port", "0", "--bind", "127.0.0.1"}, getenv, io.Discard, io.Discard); code != exitOK {
		t.Fatalf("clean stop: code %d", code)
	}
}

// The announce interval takes a bare integer of milliseconds, as it always
// did, or a Go duration, like the worker's other durations.
func TestAnnounceIntervalTakesMillisecondsOrGoDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"250": 250 * time.Millisecond, "2s": 2 * time.Second, "1500ms": 1500 * time.Millisecond} {
		c, err := load([]string{"--announce-interval", in}, nil)
		if err != nil || c.AnnounceInterval != want {
			t.Errorf("--announce-interval %s: got %v %v, want %v", in, c.AnnounceInterval, err, want)
		}
		c, err = load(nil, map[string]string{"WORKER_ANNOUNCE_INTERVAL": in})
		if err != nil || c.AnnounceInterval != want {
			t.Errorf("WORKER_ANNOUNCE_INTERVAL=%s: got %v %v, want %v", in, c.AnnounceInterval, err, want)
		}
	}
	for _, in := range []string{"9ms", "9", "-1s", "2x"} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--announce-interval", in}, func(string) string { return "" }, &out, &errb); code != exitSettings {
			t.Errorf("%s: exit %d, want 2", in, code)
		}
		for _, w := range []string{"--announce-interval", "WORKER_ANNOUNCE_INTERVAL", "milliseconds as an integer, or a Go duration like 1500ms, in 10..3600000 ms"} {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%s: stderr %q lacks %q", in, errb.String(), w)
			}
		}
	}
}

// Every worker setting has a flag, so help has no entry with a blank flag line.
func TestHelpHasNoBlankFlagLines(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, func(string) string { return "" }, &out, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for i, line := range strings.Split(out.String(), "\n") {
		if line != "" && strings.TrimSpace(line) == "" {
			t.Errorf("help line %d is blank:\n%s", i+1, out.String())
		}
	}
	if !strings.Contains(out.String(), "--announce-interval") || !strings.Contains(out.String(), `env WORKER_ANNOUNCE_INTERVAL; default "5000"`) {
		t.Errorf("help lacks the announce interval:\n%s", out.String())
	}
}
