package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/loadgen"
	"github.com/grenache-go/grenache/client/report"
	"github.com/grenache-go/grenache/internal/version"
)

// outcomes are the attempt outcome labels; a fixed set so the series count
// cannot grow with input.
var outcomes = []client.Outcome{client.Success, client.RemoteError, client.TransportError, client.Timeout, client.Canceled}

// runMetrics serves `client run`'s Prometheus metrics on --metrics-addr
// (CLIENT_METRICS_ADDR) while the run goes on: requests and attempts by
// outcome, each peer's share, score and breaker state read from the client
// at scrape time, and the gossip counters through the gossiper's own
// collector, so /metrics and the reports count the same things.
type runMetrics struct {
	service  string
	reg      *prometheus.Registry
	attempts []prometheus.Counter // indexed by client.Outcome
	// Requests come from the load generator's progress (once a second) and
	// its final report, so at the end they equal the report's numbers.
	requests, failed atomic.Int64
	c                atomic.Pointer[client.Client]

	srv  *http.Server
	ln   net.Listener
	done chan struct{}
	once sync.Once
}

// metricsAfterReport, when set (tests only), is called once the reports
// are written and before the metrics server stops, so a test can scrape the
// final values.
var metricsAfterReport func(addr string)

// setupMetrics chains the attempt counter into cfg's hooks when
// --metrics-addr is set; it returns nil otherwise.
func setupMetrics(s *settings, cfg *client.Config) *runMetrics {
	if s.MetricsAddr == "" {
		return nil
	}
	m := &runMetrics{service: s.Service, reg: prometheus.NewRegistry()}
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "grenache_client_attempts_total", Help: "Attempts (one per peer tried), by outcome.",
		ConstLabels: prometheus.Labels{"service": s.Service},
	}, []string{"outcome"})
	for _, o := range outcomes {
		m.attempts = append(m.attempts, vec.WithLabelValues(o.String()))
	}
	m.reg.MustRegister(vec, m, collectors.NewGoCollector(),
		version.Collector("grenache_client_build_info", "Build of this client: always 1, the labels say which."))
	cfg.Hooks = client.ChainHooks(cfg.Hooks, client.Hooks{OnAttempt: m.countAttempt})
	return m
}

// countAttempt counts one settled attempt of the run's service by outcome.
func (m *runMetrics) countAttempt(e client.AttemptEvent) {
	if e.Service == m.service && int(e.Outcome) >= 0 && int(e.Outcome) < len(m.attempts) {
		m.attempts[e.Outcome].Inc()
	}
}

// start binds the address, registers the gossip collector (if any) and
// serves /metrics. code is -1 on success.
func (m *runMetrics) start(addr string, c *client.Client, gr *gossipRun, stderr io.Writer) int {
	if m == nil {
		return -1
	}
	m.c.Store(c)
	if gr != nil {
		m.reg.MustRegister(gr.g.Collector())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "client run: invalid value %q for --metrics-addr (env CLIENT_METRICS_ADDR): %v; allowed a free host:port\n", addr, err)
		return exitSettings
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.ln, m.done = ln, make(chan struct{})
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(m.done)
		_ = m.srv.Serve(ln)
	}()
	fmt.Fprintf(stderr, "client run: metrics on http://%s/metrics\n", ln.Addr())
	return -1
}

// progress records the load generator's running totals.
func (m *runMetrics) progress(p loadgen.Progress) {
	if m != nil {
		m.requests.Store(p.Requests)
		m.failed.Store(p.Failed)
	}
}

// final sets the request totals from the report, so the last scrape and
// the report agree.
func (m *runMetrics) final(rep *report.Report) {
	if m == nil {
		return
	}
	m.requests.Store(rep.Requests)
	m.failed.Store(rep.Failed)
}

// close calls the test hook, then stops the server.
func (m *runMetrics) close() {
	if m == nil || m.srv == nil {
		return
	}
	m.once.Do(func() {
		if metricsAfterReport != nil {
			metricsAfterReport(m.ln.Addr().String())
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := m.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			_ = m.srv.Close()
		}
		<-m.done
	})
}

var (
	reqDesc = prometheus.NewDesc("grenache_client_requests_total",
		"Requests sent by the load generator, by outcome (updated once a second and at the end).",
		[]string{"service", "outcome"}, nil)
	peerAttemptsDesc = prometheus.NewDesc("grenache_client_peer_attempts_total",
		"Attempts per peer (the client's own count).", []string{"service", "peer"}, nil)
	peerShareDesc = prometheus.NewDesc("grenache_client_peer_share",
		"Peer's share of all attempts so far (0..1).", []string{"service", "peer"}, nil)
	peerScoreDesc = prometheus.NewDesc("grenache_client_peer_score",
		"Peer's score (0..1, higher is better).", []string{"service", "peer"}, nil)
	peerLatencyDesc = prometheus.NewDesc("grenache_client_peer_latency_seconds",
		"Peer's latency estimate.", []string{"service", "peer"}, nil)
	peerErrDesc = prometheus.NewDesc("grenache_client_peer_error_rate",
		"Peer's recent error rate (0..1).", []string{"service", "peer"}, nil)
	peerBreakerDesc = prometheus.NewDesc("grenache_client_peer_breaker_state",
		"Peer's breaker: 0 CLOSED, 1 OPEN, 2 HALF_OPEN.", []string{"service", "peer"}, nil)
)

// Describe implements prometheus.Collector (requests and per-peer series).
func (m *runMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reqDesc, peerAttemptsDesc, peerShareDesc, peerScoreDesc, peerLatencyDesc, peerErrDesc, peerBreakerDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Peers are the client's own
// bounded set (CLIENT_MAX_PEERS), read at scrape time, so the request path
// pays nothing for them.
func (m *runMetrics) Collect(ch chan<- prometheus.Metric) {
	req, failed := m.requests.Load(), m.failed.Load()
	ch <- prometheus.MustNewConstMetric(reqDesc, prometheus.CounterValue, float64(req-failed), m.service, "ok")
	ch <- prometheus.MustNewConstMetric(reqDesc, prometheus.CounterValue, float64(failed), m.service, "failed")
	c := m.c.Load()
	if c == nil {
		return
	}
	stats := c.Stats(m.service)
	var total uint64
	for _, p := range stats {
		total += p.Attempts
	}
	for _, p := range stats {
		share := 0.0
		if total > 0 {
			share = float64(p.Attempts) / float64(total)
		}
		g := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, m.service, p.Addr)
		}
		ch <- prometheus.MustNewConstMetric(peerAttemptsDesc, prometheus.CounterValue, float64(p.Attempts), m.service, p.Addr)
		g(peerShareDesc, share)
		g(peerScoreDesc, p.Score)
		g(peerLatencyDesc, p.Latency.Seconds())
		g(peerErrDesc, p.ErrorRate)
		g(peerBreakerDesc, float64(p.State))
	}
}
