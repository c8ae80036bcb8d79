package worker

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grenache-go/grenache/internal/version"
)

// Job and outcome label values. Both sets are fixed so remote input cannot grow the series.
var (
	jobLabels     = []string{JobEcho, JobSleep, JobHash, jobOther}
	outcomeLabels = []string{"ok", "invalid", "error", "injected_error", "injected_timeout", "canceled"}
)

// outcome indexes outcomeLabels.
type outcome int

const (
	outcomeOK outcome = iota
	outcomeInvalid
	outcomeError
	outcomeInjected
	outcomeHeld
	outcomeCanceled
)

// metrics holds one worker's Prometheus collectors in its own registry, so several workers in
// one process (scenario tests) do not collide on the default registry. Children are resolved
// once up front: the request path then touches only atomics, no label hashing.
type metrics struct {
	reg      *prometheus.Registry
	requests [4][6]prometheus.Counter
	latency  [4]prometheus.Observer
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
	for j, jl := range jobLabels {
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

// jobIndex maps a job name to its row in metrics.requests.
func jobIndex(name string) int {
	switch name {
	case JobEcho:
		return 0
	case JobSleep:
		return 1
	case JobHash:
		return 2
	default:
		return 3
	}
}
