package worker

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grenache-go/grenache/internal/version"
)

// outcomeLabels are the outcome label values. Job labels are the registry's names plus
// jobOther and jobUnknown (see jobLabels); both sets are fixed so remote input cannot grow
// the series.
var outcomeLabels = []string{"ok", "invalid", "error", "injected_error", "injected_timeout", "canceled"}

// jobLabels is the job label set, in jobIndex order: the registry, then other and unknown.
func jobLabels() []string {
	l := make([]string, 0, len(jobs)+2)
	for _, j := range jobs {
		l = append(l, j.name)
	}
	return append(l, jobOther, jobUnknown)
}

// outcome indexes outcomeLabels.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeInvalid
	outcomeError
	outcomeInjected
	outcomeHeld
	outcomeCanceled
	outcomeCount // the number of outcomes, len(outcomeLabels)
)

// metrics holds one worker's Prometheus collectors in its own registry, so several workers in
// one process (scenario tests) do not collide on the default registry. Children are resolved
// once up front: the request path then touches only atomics, no label hashing.
type metrics struct {
	reg      *prometheus.Registry
	requests [][outcomeCount]prometheus.Counter // indexed by jobIndex, outcome
	latency  []prometheus.Observer
	inFlight prometheus.Gauge
	faults   [3]prometheus.Counter // indexed by faultMetric
}

// faultMetric indexes metrics.faults.
type faultMetric int

const (
	faultLatency faultMetric = iota
	faultError
	faultTimeout
)

func newMetrics() *metrics {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "worker_requests_total",
		Help: "RPC requests handled, by job and outcome.",
	}, []string{"job", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "worker_request_duration_seconds",
		Help:    "Time from handler entry to reply, including injected latency, by job.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"job"})
	faults := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "worker_injected_faults_total",
		Help: "Faults injected, by kind: latency (a delay was added), error, timeout (held).",
	}, []string{"kind"})
	m := &metrics{
		reg: prometheus.NewRegistry(),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "worker_requests_in_flight",
			Help: "RPC requests currently being handled, including held ones.",
		}),
	}
	labels := jobLabels()
	m.requests = make([][outcomeCount]prometheus.Counter, len(labels))
	m.latency = make([]prometheus.Observer, len(labels))
	for j, jl := range labels {
		for o, ol := range outcomeLabels {
			m.requests[j][o] = requests.WithLabelValues(jl, ol)
		}
		m.latency[j] = latency.WithLabelValues(jl)
	}
	for k, kl := range []string{"latency", "error", "timeout"} {
		m.faults[k] = faults.WithLabelValues(kl)
	}
	m.reg.MustRegister(requests, latency, faults, m.inFlight,
		version.Collector("worker_build_info", "Build of this worker: always 1, the labels say which."))
	return m
}

// jobIndex maps a name from jobName to its row in metrics.requests.
func jobIndex(name string) int {
	for i, j := range jobs {
		if j.name == name {
			return i
		}
	}
	if name == jobUnknown {
		return len(jobs) + 1
	}
	return len(jobs)
}
