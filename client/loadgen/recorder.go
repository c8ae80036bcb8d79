// Package loadgen drives a client.Client with open-loop (fixed rate) or
// closed-loop (fixed concurrency) load and records what happened into a
// report.Report.
package loadgen

import (
	"sort"
	"sync"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/report"
)

// Bounds on what the recorder keeps: peer addresses come from lookups
// (remote input) and error texts from peers, so neither may grow without limit.
const (
	maxPeers        = 4096
	maxEvents       = 10000
	maxErrorKinds   = 20
	maxSeconds      = 24 * 3600
	histMaxMicros   = 120_000_000 // 120 s
	secondSigDigits = 2           // per-second histograms: small, enough for a chart
)

type peerAgg struct {
	attempts, errors, timeouts, opens int64
}

type second struct {
	requests, failed int64
	hist             *hdr.Histogram // nil once summarised
	p50, p90, p99    float64
	peers            map[string]int64
}

// Recorder collects attempts (through client hooks), breaker transitions
// and request results. Create it before the client, pass Hooks() in the
// client's Config, then hand it to Run.
type Recorder struct {
	mu       sync.Mutex
	start    time.Time
	total    *hdr.Histogram
	secs     []*second
	peers    map[string]*peerAgg
	events   []report.BreakerEvent
	errors   map[string]int64
	requests int64
	ok       int64
	failed   int64
	attempts int64
}

// NewRecorder returns an empty recorder; its clock starts at Start (or at the first Run).
func NewRecorder() *Recorder {
	return &Recorder{
		total:  hdr.New(1, histMaxMicros, 3),
		peers:  map[string]*peerAgg{},
		errors: map[string]int64{},
	}
}

// Hooks returns client hooks that feed this recorder.
func (r *Recorder) Hooks() client.Hooks {
	return client.Hooks{OnAttempt: r.onAttempt, OnBreaker: r.onBreaker}
}

// Start sets the time origin of the timeline.
func (r *Recorder) Start(t time.Time) {
	r.mu.Lock()
	r.start = t
	r.mu.Unlock()
}

func (r *Recorder) sec(t time.Time) *second {
	i := 0
	if !r.start.IsZero() && t.After(r.start) {
		i = int(t.Sub(r.start) / time.Second)
	}
	i = min(i, maxSeconds-1)
	for len(r.secs) <= i {
		r.secs = append(r.secs, &second{hist: hdr.New(1, histMaxMicros, secondSigDigits), peers: map[string]int64{}})
	}
	return r.secs[i]
}

func (r *Recorder) peer(addr string) *peerAgg {
	p := r.peers[addr]
	if p == nil {
		if len(r.peers) >= maxPeers {
			addr = "other"
			if p = r.peers[addr]; p != nil {
				return p
			}
		}
		p = &peerAgg{}
		r.peers[addr] = p
	}
	return p
}

func (r *Recorder) onAttempt(e client.AttemptEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	p := r.peer(e.Addr)
	p.attempts++
	switch e.Outcome {
	case client.RemoteError, client.TransportError:
		p.errors++
	case client.Timeout:
		p.timeouts++
	}
	s := r.sec(e.At)
	if len(s.peers) < maxPeers {
		s.peers[e.Addr]++
	}
}

func (r *Recorder) onBreaker(e client.BreakerEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.To == client.Open && e.From == client.Closed {
		r.peer(e.Addr).opens++
	}
	if len(r.events) < maxEvents {
		r.events = append(r.events, report.BreakerEvent{
			T: e.At.Sub(r.start).Seconds(), Addr: e.Addr, From: e.From.String(), To: e.To.String()})
	}
}

// done records one logical request intended to start at intended.
func (r *Recorder) done(intended time.Time, lat time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	us := max(lat.Microseconds(), 1)
	_ = r.total.RecordValue(min(us, histMaxMicros))
	s := r.sec(intended)
	s.requests++
	if s.hist != nil {
		_ = s.hist.RecordValue(min(us, histMaxMicros))
	}
	if err != nil {
		r.failed++
		s.failed++
		msg := err.Error()
		if _, ok := r.errors[msg]; ok || len(r.errors) < maxErrorKinds {
			r.errors[msg]++
		}
		return
	}
	r.ok++
}

// summarise turns per-second histograms older than before into three
// numbers and frees them, so a long run keeps little memory.
func (r *Recorder) summarise(before time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, s := range r.secs {
		end := r.start.Add(time.Duration(i+1) * time.Second)
		if s.hist == nil || end.After(before) {
			continue
		}
		s.p50 = ms(s.hist.ValueAtQuantile(50))
		s.p90 = ms(s.hist.ValueAtQuantile(90))
		s.p99 = ms(s.hist.ValueAtQuantile(99))
		s.hist = nil
	}
}

func ms(us int64) float64 { return float64(us) / 1000 }

// Progress is a snapshot for the live progress line.
type Progress struct {
	Elapsed          time.Duration
	Requests, Failed int64
	LastSecond       int64   // requests intended in the last full second
	LastP99MS        float64 // p99 of that second
}

func (r *Recorder) progress(now time.Time) Progress {
	r.summarise(now)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := Progress{Elapsed: now.Sub(r.start), Requests: r.requests, Failed: r.failed}
	if i := int(now.Sub(r.start)/time.Second) - 1; i >= 0 && i < len(r.secs) {
		s := r.secs[i]
		p.LastSecond = s.requests
		p.LastP99MS = s.p99
		if s.hist != nil {
			p.LastP99MS = ms(s.hist.ValueAtQuantile(99))
		}
	}
	return p
}

// Report builds the report; stats are the client's peer stats at the end.
func (r *Recorder) Report(strategy string, duration time.Duration, stats []client.PeerStats) *report.Report {
	r.summarise(time.Now().Add(time.Hour))
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &report.Report{
		Strategy:      strategy,
		DurationS:     duration.Seconds(),
		Requests:      r.requests,
		Succeeded:     r.ok,
		Failed:        r.failed,
		Attempts:      r.attempts,
		BreakerEvents: append([]report.BreakerEvent{}, r.events...),
		Peers:         []report.Peer{},
		Timeline:      []report.Second{},
	}
	if r.requests > 0 {
		rep.SuccessRate = float64(r.ok) / float64(r.requests)
		rep.AttemptsPerRequest = float64(r.attempts) / float64(r.requests)
		rep.LatencyMS = report.Percentiles{
			P50: ms(r.total.ValueAtQuantile(50)), P90: ms(r.total.ValueAtQuantile(90)),
			P99: ms(r.total.ValueAtQuantile(99)), P999: ms(r.total.ValueAtQuantile(99.9)),
			Max: ms(r.total.Max()),
		}
	}
	if len(r.errors) > 0 {
		rep.Errors = map[string]int64{}
		for k, v := range r.errors {
			rep.Errors[k] = v
		}
	}
	byAddr := map[string]client.PeerStats{}
	for _, s := range stats {
		byAddr[s.Addr] = s
	}
	addrs := make([]string, 0, len(r.peers))
	for a := range r.peers {
		addrs = append(addrs, a)
	}
	for _, s := range stats { // peers that got no attempt still get a row
		if _, ok := r.peers[s.Addr]; !ok {
			addrs = append(addrs, s.Addr)
		}
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		agg := r.peers[a]
		if agg == nil {
			agg = &peerAgg{}
		}
		row := report.Peer{Addr: a, Requests: agg.attempts, Errors: agg.errors, Timeouts: agg.timeouts, BreakerOpens: agg.opens}
		if r.attempts > 0 {
			row.Share = float64(agg.attempts) / float64(r.attempts)
		}
		if st, ok := byAddr[a]; ok {
			row.Score = st.Score
			row.State = st.State.String()
			row.LatencyMS = float64(st.Latency) / 1e6
		}
		rep.Peers = append(rep.Peers, row)
	}
	n := int((duration + time.Second - 1) / time.Second)
	for i := 0; i < n || i < len(r.secs); i++ {
		sec := report.Second{T: i + 1, Peers: map[string]int64{}}
		if i < len(r.secs) {
			s := r.secs[i]
			sec.Requests, sec.Failed = s.requests, s.failed
			sec.P50MS, sec.P90MS, sec.P99MS = s.p50, s.p90, s.p99
			for k, v := range s.peers {
				sec.Peers[k] = v
			}
		}
		if i >= n && sec.Requests == 0 {
			break // seconds after the end hold only stragglers' attempts
		}
		rep.Timeline = append(rep.Timeline, sec)
	}
	return rep
}
