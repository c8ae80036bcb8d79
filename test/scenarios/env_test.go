package scenarios

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/internal/lab"
	"github.com/grenache-go/grenache/pkg/link"
)

// full reports whether the full-length scenarios were asked for.
func full() bool { return os.Getenv("SCENARIOS_FULL") == "1" }

// pick returns the short or the full value.
func pick[T any](short, long T) T {
	if full() {
		return long
	}
	return short
}

// rate is each strategy's open-loop request rate: modest in short mode so
// three clients plus five workers stay a small load on a shared 2-core CI
// machine running other packages' tests.
func rate() float64 { return pick(60.0, 200.0) }

// slots bounds how many scenarios run at once: two in short mode (the
// package must finish in about two minutes), one in full mode so each
// scenario has the machine to itself. SCENARIOS_PARALLEL overrides it.
var slots = make(chan struct{}, parallelism())

func parallelism() int {
	if v, err := strconv.Atoi(os.Getenv("SCENARIOS_PARALLEL")); err == nil && v > 0 {
		return v
	}
	return pick(2, 1)
}

const numWorkers = 5

var strategies = []string{client.StrategyAdaptive, client.StrategyRoundRobin, client.StrategyRandom}

// registryPolicies are the policies S0–S2 also run, beside strategies, to
// report how a policy from the registry compares; the others stay at three
// runners so their bounds keep the load they were sized for.
var registryPolicies = []string{client.StrategyLeastRequest}

// env is one scenario's world: a Go grape cluster, five workers announcing to
// the first grape, and one runner per strategy looking up through the last.
type env struct {
	t       *testing.T
	service string
	workers *lab.Workers
	runners []*lab.Runner
	notes   map[int]string // worker index -> fault note for labels
	rate    float64        // each runner's request rate
	via     []string       // the grapes the clients look up through
}

// envOptions changes the world of one scenario; the zero value is the
// world of S0–S8.
type envOptions struct {
	workers    int                  // 0: numWorkers
	drainGrace time.Duration        // the workers' drain grace (0: a stop is a crash)
	rate       float64              // 0: rate()
	strategies []string             // nil: all three
	client     func(*client.Config) // applied to every runner's config
}

func newEnvWith(t *testing.T, service string, o envOptions) *env {
	t.Helper()
	if o.workers == 0 {
		o.workers = numWorkers
	}
	if o.rate == 0 {
		o.rate = rate()
	}
	if o.strategies == nil {
		o.strategies = strategies
	}
	gs := grapetest.Cluster(t, 3)
	urls := make([]string, len(gs))
	for i, g := range gs {
		urls[i] = g.APIURL()
	}
	ws, err := lab.StartDrainingWorkers(urls[:1], service, o.workers, time.Second, o.drainGrace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.Close(); err != nil {
			t.Errorf("closing workers: %v", err)
		}
	})
	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{urls[len(urls)-1], urls[0]}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ws.WaitVisible(ctx, lcfg.Grapes[0]); err != nil {
		t.Fatal(err)
	}
	lk, err := link.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	e := &env{t: t, service: service, workers: ws, notes: map[int]string{}, rate: o.rate, via: lcfg.Grapes[:1]}
	for _, s := range o.strategies {
		r, err := lab.NewRunner(s, lk, o.client)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		e.runners = append(e.runners, r)
	}
	return e
}

// run drives the plan through every strategy at once.
func (e *env) run(duration time.Duration, steps ...lab.Step) *lab.Result {
	e.t.Helper()
	plan := lab.Plan{Service: e.service, Rate: e.rate, Duration: duration, Steps: steps, Stopped: e.workers.Stopped}
	if full() {
		plan.Tick = func(d time.Duration) {
			if d%(10*time.Second) == 0 {
				e.t.Logf("%s: %v of %v", e.t.Name(), d, duration)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration+time.Minute)
	defer cancel()
	res, err := lab.Run(ctx, plan, e.runners...)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

// label names a worker by index and fault, e.g. "w1 (+50 ms)"; the old
// address of a worker replaced onto a new port is "w1 (old port)".
func (e *env) label(addr string) string {
	i := e.workers.Index(addr)
	if i < 0 {
		return addr
	}
	l := fmt.Sprintf("w%d", i)
	if n := e.notes[i]; n != "" {
		l = fmt.Sprintf("w%d (%s)", i, n)
	}
	if addr != e.workers.Addr(i) {
		l = fmt.Sprintf("w%d (old port)", i)
	}
	return l
}

// scenario is one fault scenario: how to drive it and how to judge it.
type scenario struct {
	key, title, service string
	// setup describes the timeline for the report.
	setup string
	// blackHoles lists workers whose attempts are meant to time out.
	blackHoles []int
	// opts shapes the world (zero: the S0–S8 one).
	opts envOptions
	run  func(e *env) *lab.Result
	// resolves, if set, says why a run's noise is too coarse to decide a
	// latency bound ("" when it can decide it).
	resolves func(e *env, res *lab.Result) string
	judge    func(e *env, res *lab.Result, s *section)
	// extra lists strategies run beside the usual three (reported, not judged).
	extra []string
}

// play runs a scenario and judges it. A run the machine disturbed — an
// attempt timed out at a worker that never holds requests (a stall of at
// least one attempt timeout, 1.25 s, in this process), the generator sent
// requests late, or the machine's own latency noise (measured at the
// healthy workers during the run) was too coarse for the scenario's latency
// bound — says nothing about the client, so it is discarded and the
// scenario played again in a fresh world (two tries in short mode, three
// in full mode). If every run was disturbed the short test is skipped with
// the reason (the CI machine could not host it), the full one is judged
// anyway and the report says it was disturbed.
func play(t *testing.T, sc scenario) {
	t.Parallel()
	slots <- struct{}{}
	defer func() { <-slots }()
	// Two tries keep the short package near its two-minute budget even on
	// a loaded box; the full run can afford three.
	tries := pick(2, 3)
	for try := 1; try <= tries; try++ {
		var why string
		t.Run(fmt.Sprintf("run%d", try), func(t *testing.T) {
			opts := sc.opts
			if len(sc.extra) > 0 {
				base := opts.strategies
				if base == nil {
					base = strategies
				}
				opts.strategies = append(append([]string(nil), base...), sc.extra...)
			}
			e := newEnvWith(t, fmt.Sprintf("%s:%d", sc.service, try), opts)
			res := sc.run(e)
			why = disturbed(e, res, sc.blackHoles)
			if why == "" && sc.resolves != nil {
				why = sc.resolves(e, res)
			}
			if why != "" && try < tries {
				t.Logf("run discarded, the machine disturbed it: %s", why)
				return
			}
			if why != "" && !full() {
				t.Skipf("every run was disturbed by the machine, nothing to judge: %s", why)
			}
			s := newSection(t, sc.key, sc.title, sc.setup)
			if why != "" {
				s.body.WriteString("**Disturbed run** (judged anyway): " + why + "\n\n")
			}
			s.table(e, res, phaseWindows(res)...)
			s.machine(e, res)
			sc.judge(e, res, s)
			s.done()
			why = ""
		})
		if why == "" {
			return
		}
	}
}

// Disturbance thresholds: no healthy worker's attempt may time out, and the
// generator must send 99% of requests within lagLimit of their time.
const lagLimit = 250 * time.Millisecond

func disturbed(e *env, res *lab.Result, blackHoles []int) string {
	holes := map[string]bool{}
	for _, i := range blackHoles {
		holes[e.workers.Addr(i)] = true
	}
	var why []string
	for _, r := range res.Runs {
		tot := r.Total()
		var n int64
		for addr, c := range tot.PeerTimeouts {
			if !holes[addr] {
				n += c
			}
		}
		if n > 0 {
			why = append(why, fmt.Sprintf("%s: %d attempt timeouts at healthy workers", r.Strategy, n))
		}
		if tot.LagP99 > lagLimit {
			why = append(why, fmt.Sprintf("%s: requests sent late, lag p99 %v max %v", r.Strategy, tot.LagP99, tot.LagMax))
		}
	}
	return strings.Join(why, "; ")
}

// phaseWindows is one window per phase of the run; consecutive phases of
// the same name (the toggles of a flapping worker) make one window.
func phaseWindows(res *lab.Result) []func(*lab.RunResult) lab.Window {
	var out []func(*lab.RunResult) lab.Window
	for i := 0; i < len(res.Phases); {
		j := i + 1
		for j < len(res.Phases) && res.Phases[j].Name == res.Phases[i].Name {
			j++
		}
		name, from, to := res.Phases[i].Name, i, j
		out = append(out, func(r *lab.RunResult) lab.Window { return r.Phases(name, from, to) })
		i = j
	}
	return out
}

// section collects one scenario's table and bound checks for the report.
type section struct {
	t      *testing.T
	key    string
	title  string
	body   strings.Builder
	checks []string
}

func newSection(t *testing.T, key, title, setup string) *section {
	s := &section{t: t, key: key, title: title}
	fmt.Fprintf(&s.body, "### %s %s\n\n%s\n\n", key, title, setup)
	return s
}

// table writes every strategy's windows over the given phase ranges.
func (s *section) table(e *env, res *lab.Result, windows ...func(*lab.RunResult) lab.Window) {
	var rows []lab.Row
	for _, r := range res.Runs {
		for _, w := range windows {
			rows = append(rows, lab.Row{Strategy: r.Strategy, Window: w(r)})
		}
	}
	if err := lab.WriteTable(&s.body, rows, e.label); err != nil {
		s.t.Fatal(err)
	}
	s.body.WriteString("\n")
	for _, r := range res.Runs {
		for _, m := range topErrors(r.Errors, 3) {
			fmt.Fprintf(&s.body, "%s error: %s\n\n", r.Strategy, m)
		}
	}
}

// topErrors returns the n most frequent final errors as "×count message".
func topErrors(errs map[string]int64, n int) []string {
	type kv struct {
		k string
		v int64
	}
	var all []kv
	for k, v := range errs {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v })
	var out []string
	for i := 0; i < n && i < len(all); i++ {
		out = append(out, fmt.Sprintf("×%d %s", all[i].v, all[i].k))
	}
	return out
}

// machine notes how quiet the machine was: the generator lag and
// the latency of attempts at the workers this scenario leaves alone (all
// of them when it touches every worker), per phase.
func (s *section) machine(e *env, res *lab.Result) {
	var lag time.Duration
	for _, r := range res.Runs {
		lag = max(lag, r.Total().LagP99)
	}
	var parts []string
	for i := 0; i < len(res.Phases); {
		j := i + 1
		for j < len(res.Phases) && res.Phases[j].Name == res.Phases[i].Name {
			j++
		}
		var touched []int
		for w := range e.notes {
			touched = append(touched, w)
		}
		if len(touched) == e.workers.Len() {
			touched = nil
		}
		floor := res.Pooled(i, j).AttemptLatency(99, e.except(touched...))
		parts = append(parts, fmt.Sprintf("%s %.2f ms", res.Phases[i].Name, ms(floor)))
		i = j
	}
	fmt.Fprintf(&s.body, "Machine: generator lag (scheduled instant to Request call) p99 %.2f ms; p99 of successful attempts at the workers without a fault, all clients: %s.\n\n",
		ms(lag), strings.Join(parts, ", "))
}

// check records a bound; a failed one fails the test.
func (s *section) check(ok bool, format string, args ...any) {
	s.t.Helper()
	msg := fmt.Sprintf(format, args...)
	mark := "holds"
	if !ok {
		mark = "FAILS"
		s.t.Errorf("bound fails: %s", msg)
	}
	s.checks = append(s.checks, fmt.Sprintf("- %s: %s", mark, msg))
}

// note adds a measured number that is reported but not asserted.
func (s *section) note(format string, args ...any) {
	s.checks = append(s.checks, "- measured: "+fmt.Sprintf(format, args...))
}

var (
	reportMu sync.Mutex
	sections = map[string]string{}
)

// done logs the section and rewrites the report file with every section
// finished so far (tests may run in parallel; each keeps the file whole).
func (s *section) done() {
	s.body.WriteString("Bounds (adaptive):\n\n" + strings.Join(s.checks, "\n") + "\n")
	text := s.body.String()
	s.t.Log("\n" + text)
	reportMu.Lock()
	defer reportMu.Unlock()
	sections[s.key] = text
	keys := make([]string, 0, len(sections))
	for k := range sections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	mode := "short (`go test ./test/scenarios/`)"
	name := "scenarios-short.md"
	if full() {
		mode = "full (`make bench-scenarios`)"
		name = "scenarios.md"
	}
	fmt.Fprintf(&b, "## Fault scenarios — %s\n\n", mode)
	fmt.Fprintf(&b, "%d in-process Go workers on loopback (base service time %v + up to %v jitter), announced to a 3-grape Go cluster "+
		"and looked up through another grape of it; three clients — adaptive, round-robin, random (in S0–S2 also least-request, "+
		"from the policy registry, reported beside them but not judged) — each sending %g req/s open-loop, "+
		"interleaved, at the same time, against the same workers and the same fault timeline. All three are the same client "+
		"with client.DefaultConfig() and only the strategy switched, so breakers and retries are the same and the difference is "+
		"peer selection. Latency (the p50–p99.9 columns) is measured per request from the client's Request call to its "+
		"return, retries and backoff included, not from the request's scheduled send instant; each request is counted in "+
		"the phase of its scheduled instant. Generator lag — how far the generator fell behind its schedule, from a "+
		"request's scheduled instant to its Request call — is recorded separately: each section's Machine line gives its "+
		"p99, and a run whose lag p99 exceeds %v (or that the machine otherwise disturbed, see test/scenarios) is replayed. "+
		"Labels name each worker's fault in the scenario; rows are phases. Generated %s.\n\n",
		numWorkers, lab.BaseService.Latency, lab.BaseService.Jitter, rate(), lagLimit, time.Now().UTC().Format(time.RFC3339))
	for _, k := range keys {
		b.WriteString(sections[k] + "\n")
	}
	dir := filepath.Join("..", "..", "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.t.Logf("report not written: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		s.t.Logf("report not written: %v", err)
	}
}

// phase returns a window function over the named phase through phase to (exclusive index).
func phases(res *lab.Result, label, from string, to string) func(*lab.RunResult) lab.Window {
	i := res.PhaseIndex(from)
	j := len(res.Phases)
	if to != "" {
		j = res.PhaseIndex(to)
	}
	if i < 0 || j < 0 {
		panic("unknown phase " + from + " / " + to)
	}
	return func(r *lab.RunResult) lab.Window { return r.Phases(label, i, j) }
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// except returns a filter keeping every worker address but the listed ones.
func (e *env) except(workers ...int) func(string) bool {
	skip := map[string]bool{}
	for _, i := range workers {
		skip[e.workers.Addr(i)] = true
	}
	return func(a string) bool { return !skip[a] }
}
