package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/worker"
)

func TestDefaultsMatchTheIssue(t *testing.T) {
	o, err := parseOptions(nil, map[string]string{}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Service != "job_service" || c.Port != 1337 || c.AnnounceInterval != 5*time.Second ||
		len(c.Grapes) != 1 || c.Grapes[0] != "http://127.0.0.1:30001" || c.AdminPort != 0 ||
		c.Faults != (worker.Faults{}) || c.ShutdownGrace != 10*time.Second {
		t.Fatalf("defaults: %+v", c)
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
	o, err := parseOptions([]string{"--service", "from_flag", "--fault-error-rate", "0.5", "--grape", "https://g:3"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := o.cfg
	if c.Service != "from_flag" || c.Port != 4000 || c.AnnounceInterval != 250*time.Millisecond ||
		len(c.Grapes) != 1 || c.Grapes[0] != "https://g:3" ||
		c.Faults.Latency != 50*time.Millisecond || c.Faults.Jitter != 7*time.Millisecond ||
		c.Faults.ErrorRate != 0.5 || c.Faults.TimeoutRate != 0.1 || c.AdminPort != 9100 || c.ShutdownGrace != 3*time.Second {
		t.Fatalf("merged: %+v", c)
	}
	o, _ = parseOptions(nil, env, io.Discard)
	if len(o.cfg.Grapes) != 2 || o.cfg.Grapes[1] != "http://127.0.0.1:2" {
		t.Fatalf("comma list: %v", o.cfg.Grapes)
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
		{[]string{"--announce-interval", "1s"}, nil, []string{"--announce-interval", "WORKER_ANNOUNCE_INTERVAL", "milliseconds"}},
		{[]string{"--log-level", "loud"}, nil, []string{"--log-level", "WORKER_LOG_LEVEL", "debug, info"}},
		{[]string{"--fault-error-rate", "0.7", "--fault-timeout-rate", "0.7"}, nil, []string{"WORKER_FAULT_ERROR_RATE", "WORKER_FAULT_TIMEOUT_RATE", "at most 1"}},
		{[]string{"--no-such-flag"}, nil, []string{"no-such-flag"}},
		{[]string{"stray"}, nil, []string{"stray"}},
	}
	for _, c := range cases {
		_, err := parseOptions(c.args, c.env, io.Discard)
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
	if _, err := parseOptions([]string{"-h"}, nil, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
}
