package lab

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/report"
)

// Result is one run: the shared timeline and what each runner saw.
type Result struct {
	Service  string
	Rate     float64
	Duration time.Duration
	Start    time.Time
	Phases   []Span
	Runs     []*RunResult
}

// Span is a phase of the timeline.
type Span struct {
	Name     string
	From, To time.Duration
}

// RunResult is what one runner saw.
type RunResult struct {
	Strategy string
	phases   []*agg
	secs     []*agg
	// Breakers lists every breaker transition, T in seconds since the start.
	Breakers []report.BreakerEvent
	// Errors counts final request errors by message (bounded).
	Errors map[string]int64
	// Peers is the client's view of each peer at the end.
	Peers []client.PeerStats
}

// result hands the run's aggregates over to a RunResult (see handOver).
func (r *Runner) result(service string) *RunResult {
	res := &RunResult{Strategy: r.Strategy, Peers: r.Client.Stats(service)}
	res.phases, res.secs, res.Breakers, res.Errors = r.rec.handOver()
	return res
}

// Run returns the result of the runner with the given strategy, or nil.
func (res *Result) Run(strategy string) *RunResult {
	for _, r := range res.Runs {
		if r.Strategy == strategy {
			return r
		}
	}
	return nil
}

// PhaseIndex returns the index of the named phase, or -1.
func (res *Result) PhaseIndex(name string) int {
	for i, p := range res.Phases {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// Window sums what a runner saw over phases [from, to).
type Window struct {
	// Label names the window in tables ("fault", "all", ...).
	Label                          string
	Requests, OK, Failed, Attempts int64
	// Latency percentiles of requests, each measured from its Request call
	// to its return (retries and backoff included), not from its scheduled
	// send instant; a request is counted in the window of its scheduled
	// instant. A request refused for MaxInFlight was never sent: it counts
	// as failed, with its generator lag as latency.
	P50, P90, P99, P999, Max time.Duration
	// PeerAttempts, PeerFailed and PeerTimeouts count attempts per peer address.
	PeerAttempts, PeerFailed, PeerTimeouts map[string]int64
	// PeerStopped counts, per peer, attempts sent while it was stopped
	// (Plan.Stopped); empty when the plan has no Stopped.
	PeerStopped map[string]int64
	// LagP99 and LagMax are the generator lag: how far each Request call
	// came after its scheduled instant (scheduling delay of this process,
	// large on a starved machine), recorded apart from latency.
	LagP99, LagMax time.Duration
	// Opens counts CLOSED -> OPEN breaker transitions per peer.
	Opens map[string]int64
	// attLat: successful attempts' latency per peer (phase windows only).
	attLat map[string]*hdr.Histogram
}

// AttemptLatency is the q-th percentile (0..100) of successful attempts'
// latency over the peers keep accepts (0 when none); measured at healthy
// peers it is the noise floor of the machine during the window.
func (w Window) AttemptLatency(q float64, keep func(addr string) bool) time.Duration {
	h := hdr.New(1, histMaxMicros, 2)
	for a, x := range w.attLat {
		if keep(a) {
			h.Merge(x)
		}
	}
	return time.Duration(h.ValueAtQuantile(q)) * time.Microsecond
}

// Phases returns the window over phases [from, to) (clamped).
func (r *RunResult) Phases(label string, from, to int) Window {
	from, to = max(from, 0), min(to, len(r.phases))
	return sum(label, r.phases[from:to], 3)
}

// Total is the window over the whole run.
func (r *RunResult) Total() Window { return r.Phases("all", 0, len(r.phases)) }

// Seconds returns the window over whole seconds [from, to) of the run.
func (r *RunResult) Seconds(label string, from, to int) Window {
	from, to = max(from, 0), min(to, len(r.secs))
	if from >= to {
		return sum(label, nil, 2)
	}
	return sum(label, r.secs[from:to], 2)
}

// NumSeconds is the number of seconds with any record.
func (r *RunResult) NumSeconds() int { return len(r.secs) }

func sum(label string, as []*agg, sig int) Window {
	w := Window{Label: label, PeerAttempts: map[string]int64{}, PeerFailed: map[string]int64{},
		PeerTimeouts: map[string]int64{}, PeerStopped: map[string]int64{}, Opens: map[string]int64{}, attLat: map[string]*hdr.Histogram{}}
	h := hdr.New(1, histMaxMicros, sig)
	lag := hdr.New(1, histMaxMicros, 2)
	for _, a := range as {
		w.Requests += a.requests
		w.OK += a.ok
		w.Failed += a.failed
		w.Attempts += a.attempts
		h.Merge(a.hist)
		lag.Merge(a.lag)
		for k, x := range a.attLat {
			if w.attLat[k] == nil {
				w.attLat[k] = hdr.New(1, histMaxMicros, 2)
			}
			w.attLat[k].Merge(x)
		}
		for k, v := range a.peerTimeouts {
			w.PeerTimeouts[k] += v
		}
		for k, v := range a.peerStopped {
			w.PeerStopped[k] += v
		}
		for k, v := range a.peerAttempts {
			w.PeerAttempts[k] += v
		}
		for k, v := range a.peerFailed {
			w.PeerFailed[k] += v
		}
		for k, v := range a.opens {
			w.Opens[k] += v
		}
	}
	q := func(p float64) time.Duration { return time.Duration(h.ValueAtQuantile(p)) * time.Microsecond }
	w.P50, w.P90, w.P99, w.P999 = q(50), q(90), q(99), q(99.9)
	w.Max = time.Duration(h.Max()) * time.Microsecond
	w.LagP99 = time.Duration(lag.ValueAtQuantile(99)) * time.Microsecond
	w.LagMax = time.Duration(lag.Max()) * time.Microsecond
	return w
}

// SuccessRate is OK / Requests (1 for an empty window).
func (w Window) SuccessRate() float64 {
	if w.Requests == 0 {
		return 1
	}
	return float64(w.OK) / float64(w.Requests)
}

// AttemptsPerRequest is Attempts / Requests.
func (w Window) AttemptsPerRequest() float64 {
	if w.Requests == 0 {
		return 0
	}
	return float64(w.Attempts) / float64(w.Requests)
}

// Share is addr's fraction of the window's attempts.
func (w Window) Share(addr string) float64 {
	var total int64
	for _, v := range w.PeerAttempts {
		total += v
	}
	if total == 0 {
		return 0
	}
	return float64(w.PeerAttempts[addr]) / float64(total)
}

// Imbalance is the busiest peer's attempts over the idlest's among addrs
// (+Inf when one got none).
func (w Window) Imbalance(addrs []string) float64 {
	lo, hi := int64(-1), int64(0)
	for _, a := range addrs {
		n := w.PeerAttempts[a]
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	if lo <= 0 {
		return math.Inf(1)
	}
	return float64(hi) / float64(lo)
}

// StoppedTotal is the number of attempts sent to stopped peers in the window.
func (w Window) StoppedTotal() int64 {
	var n int64
	for _, v := range w.PeerStopped {
		n += v
	}
	return n
}

// OpensTotal is the number of breaker trips in the window.
func (w Window) OpensTotal() int64 {
	var n int64
	for _, v := range w.Opens {
		n += v
	}
	return n
}

// Row is one line of a scenario table.
type Row struct {
	Strategy string
	Window   Window
}

// WriteTable writes rows as a markdown table. label names a peer (e.g.
// "w2 (slow)"); peers are listed in label order.
func WriteTable(w io.Writer, rows []Row, label func(addr string) string) error {
	var b strings.Builder
	b.WriteString("| strategy | window | requests | success | attempts/req | p50 ms | p90 ms | p99 ms | p99.9 ms | per-peer share of attempts | breaker opens |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|\n")
	for _, r := range rows {
		x := r.Window
		fmt.Fprintf(&b, "| %s | %s | %d | %.2f%% | %.3f | %s | %s | %s | %s | %s | %d |\n",
			r.Strategy, x.Label, x.Requests, 100*x.SuccessRate(), x.AttemptsPerRequest(),
			msStr(x.P50), msStr(x.P90), msStr(x.P99), msStr(x.P999), shares(x, label), x.OpensTotal())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func msStr(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

func shares(x Window, label func(string) string) string {
	type pl struct {
		l string
		s float64
	}
	var ps []pl
	for a := range x.PeerAttempts {
		ps = append(ps, pl{label(a), x.Share(a)})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].l < ps[j].l })
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprintf("%s %.1f%%", p.l, 100*p.s)
	}
	return strings.Join(parts, " · ")
}

// Report converts one runner's whole run into the client's report format
// (text, JSON and HTML writers live in client/report).
func (res *Result) Report(r *RunResult, label func(addr string) string) *report.Report {
	t := r.Total()
	rep := &report.Report{
		Strategy: r.Strategy, Service: res.Service, Mode: "rate", Rate: res.Rate,
		DurationS: res.Duration.Seconds(), Requests: t.Requests, Succeeded: t.OK, Failed: t.Failed,
		SuccessRate: t.SuccessRate(), Attempts: t.Attempts, AttemptsPerRequest: t.AttemptsPerRequest(),
		LatencyMS: report.Percentiles{P50: ms(t.P50), P90: ms(t.P90), P99: ms(t.P99), P999: ms(t.P999), Max: ms(t.Max)},
		Peers:     []report.Peer{}, Timeline: []report.Second{}, BreakerEvents: []report.BreakerEvent{},
	}
	if len(r.Errors) > 0 {
		rep.Errors = maps.Clone(r.Errors)
	}
	lab := func(a string) string {
		if label == nil {
			return a
		}
		return label(a)
	}
	stats := map[string]client.PeerStats{}
	for _, s := range r.Peers {
		stats[s.Addr] = s
	}
	addrs := slices.Collect(maps.Keys(t.PeerAttempts))
	for a := range stats {
		if _, ok := t.PeerAttempts[a]; !ok {
			addrs = append(addrs, a)
		}
	}
	sort.Slice(addrs, func(i, j int) bool { return lab(addrs[i]) < lab(addrs[j]) })
	for _, a := range addrs {
		p := report.Peer{Addr: lab(a), Requests: t.PeerAttempts[a], Share: t.Share(a), Errors: t.PeerFailed[a], BreakerOpens: t.Opens[a]}
		if s, ok := stats[a]; ok {
			p.Errors, p.Timeouts = int64(s.Errors), int64(s.Timeouts)
			p.Score, p.State, p.LatencyMS = s.Score, s.State.String(), float64(s.Latency)/1e6
		}
		rep.Peers = append(rep.Peers, p)
	}
	n := int((res.Duration + time.Second - 1) / time.Second)
	for i := 0; i < n && i < len(r.secs); i++ {
		s := r.secs[i]
		sec := report.Second{T: i + 1, Requests: s.requests, Failed: s.failed, Peers: map[string]int64{}}
		if s.requests > 0 {
			sec.P50MS = float64(s.hist.ValueAtQuantile(50)) / 1000
			sec.P90MS = float64(s.hist.ValueAtQuantile(90)) / 1000
			sec.P99MS = float64(s.hist.ValueAtQuantile(99)) / 1000
		}
		for k, v := range s.peerAttempts {
			sec.Peers[lab(k)] = v
		}
		rep.Timeline = append(rep.Timeline, sec)
	}
	for _, e := range r.Breakers {
		e.Addr = lab(e.Addr)
		rep.BreakerEvents = append(rep.BreakerEvents, e)
	}
	return rep
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// Pooled sums phases [from, to) over every runner: a baseline measured on
// all clients' requests at once is steadier than any one client's.
func (res *Result) Pooled(from, to int) Window {
	var as []*agg
	for _, r := range res.Runs {
		f, t := max(from, 0), min(to, len(r.phases))
		if f < t {
			as = append(as, r.phases[f:t]...)
		}
	}
	return sum("pooled", as, 3)
}
