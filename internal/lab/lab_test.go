package lab

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// staticResolver answers every lookup with fixed addresses (the lab's own
// tests need no grapes; the scenarios use real ones).
type staticResolver []string

func (s staticResolver) Lookup(context.Context, string) ([]string, error) {
	return append([]string(nil), s...), nil
}

// startPool starts n workers announcing to an unreachable grape: the lab
// tests resolve statically, so the failed announcements do not matter.
func startPool(t *testing.T, n int) *Workers {
	t.Helper()
	ws, err := StartWorkers([]string{"http://127.0.0.1:1"}, "lab:test", n, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.Close(); err != nil {
			t.Error(err)
		}
	})
	return ws
}

// TestRunTimeline checks the schedule: steps run in order at their
// offsets, ticks come once a second, every runner sends Rate×Duration
// requests, phases split them, and a failing step is reported.
func TestRunTimeline(t *testing.T) {
	ws := startPool(t, 2)
	var runners []*Runner
	for _, s := range []string{client.StrategyAdaptive, client.StrategyRoundRobin} {
		r, err := NewRunner(s, staticResolver(ws.Addrs()), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		runners = append(runners, r)
	}
	var mu sync.Mutex
	var log []string
	mark := func(s string) func() error {
		return func() error { mu.Lock(); log = append(log, s); mu.Unlock(); return nil }
	}
	var ticks []time.Duration
	boom := errors.New("boom")
	start := time.Now()
	res, err := Run(context.Background(), Plan{
		Service: "lab:test", Rate: 100, Duration: 2500 * time.Millisecond,
		Steps: []Step{
			{Phase: "a", Do: mark("a")},
			{At: time.Second, Phase: "b", Do: mark("b")},
			{At: 1500 * time.Millisecond, Phase: "c", Do: func() error { _ = mark("c")(); return boom }},
		},
		Tick: func(d time.Duration) { ticks = append(ticks, d) },
	}, runners...)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the failing step's", err)
	}
	if el := time.Since(start); el < 2500*time.Millisecond || el > 10*time.Second {
		t.Errorf("run took %v", el)
	}
	if got := len(log); got != 3 || log[0] != "a" || log[1] != "b" || log[2] != "c" {
		t.Errorf("steps ran %v", log)
	}
	if len(ticks) != 2 || ticks[0] != time.Second || ticks[1] != 2*time.Second {
		t.Errorf("ticks %v, want [1s 2s]", ticks)
	}
	if len(res.Phases) != 3 || res.Phases[1].From != time.Second || res.Phases[2].To != 2500*time.Millisecond {
		t.Errorf("phases %+v", res.Phases)
	}
	for _, r := range res.Runs {
		tot := r.Total()
		// The count is exact whatever the machine's load: an open-loop
		// generator sends on schedule or records the request as failed.
		if tot.Requests != 250 {
			t.Errorf("%s: %d requests, want 250", r.Strategy, tot.Requests)
		}
		a, b, c := r.Phases("", 0, 1), r.Phases("", 1, 2), r.Phases("", 2, 3)
		if a.Requests+b.Requests+c.Requests != tot.Requests || a.Requests < 95 || a.Requests > 105 {
			t.Errorf("%s: phase split %d/%d/%d", r.Strategy, a.Requests, b.Requests, c.Requests)
		}
		if tot.Attempts < tot.Requests {
			t.Errorf("%s: %d attempts for %d requests", r.Strategy, tot.Attempts, tot.Requests)
		}
		if tot.P50 < BaseService.Latency {
			t.Errorf("%s: p50 %v below the workers' base service time", r.Strategy, tot.P50)
		}
		rep := res.Report(r, nil)
		if rep.Requests != tot.Requests || len(rep.Timeline) != 3 || len(rep.Peers) != 2 || rep.Strategy != r.Strategy {
			t.Errorf("%s: report %d requests, %d seconds, %d peers", r.Strategy, rep.Requests, len(rep.Timeline), len(rep.Peers))
		}
	}
	var table strings.Builder
	rows := []Row{{Strategy: "adaptive", Window: res.Runs[0].Total()}, {Strategy: "round-robin", Window: res.Runs[1].Total()}}
	if err := WriteTable(&table, rows, func(a string) string { return "peer" + a[len(a)-1:] }); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(table.String()), "\n"); len(lines) != 4 || !strings.Contains(lines[2], "| adaptive | all | 250 |") {
		t.Errorf("table:\n%s", table.String())
	}
}

// TestWorkersKillRestart checks that a killed worker refuses connections
// and comes back on the same address with its faults.
func TestWorkersKillRestart(t *testing.T) {
	ws := startPool(t, 2)
	addr := ws.Addr(1)
	if err := ws.SetFaults(1, Failing(BaseService, 1)); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(staticResolver{addr}, func() client.Config {
		cfg := client.DefaultConfig()
		cfg.MaxRetries = 0
		cfg.RequestTimeout = 2 * time.Second
		return cfg
	}())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	call := func() error {
		_, err := c.Request(context.Background(), "lab:test", map[string]string{"job": "echo"})
		return err
	}
	if err := call(); err == nil {
		t.Fatal("a worker failing every request answered")
	}
	if err := ws.Kill(1); err != nil {
		t.Fatal(err)
	}
	if err := call(); err == nil {
		t.Fatal("a killed worker answered")
	}
	if err := ws.Restart(1); err != nil {
		t.Fatal(err)
	}
	if ws.Addr(1) != addr {
		t.Fatalf("restarted on %s, want %s", ws.Addr(1), addr)
	}
	if err := ws.Restart(1); err == nil {
		t.Error("restarting a running worker succeeded")
	}
	if err := ws.SetFaults(1, BaseService); err != nil {
		t.Fatal(err)
	}
	var last error
	for range 50 { // the breaker may hold the peer open for a moment
		if last = call(); last == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("restarted worker never answered: %v", last)
}
