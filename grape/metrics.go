package grape

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/grenache-go/grenache/internal/version"
)

// metrics is the grape's own Prometheus registry (not the global one, so
// several grapes can live in one process, as in tests).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// Curried series, keyed by a fixed set of labels (endpoint names
	// resolved by resolveEndpoint and outcome constants), so bounded.
	counters  sync.Map // [2]string{endpoint, outcome} -> prometheus.Counter
	durations sync.Map // endpoint -> prometheus.Observer
}

func newMetrics(node dhtNode, seen *seenPeers) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grape_http_requests_total",
			Help: "HTTP API requests by endpoint and outcome.",
		}, []string{"endpoint", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grape_http_request_duration_seconds",
			Help:    "HTTP API request latency by endpoint.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"endpoint"}),
	}
	m.reg.MustRegister(m.requests, m.duration, &dhtCollector{node: node, seen: seen},
		version.Collector("grape_build_info", "Build of this grape: always 1, the labels say which."),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts one request. Series are looked up once and kept (label
// hashing per request showed in profiles); endpoint "" is "unknown".
func (m *metrics) observe(endpoint, outcome string, took time.Duration) {
	if endpoint == "" {
		endpoint = "unknown"
	}
	key := [2]string{endpoint, outcome}
	c, ok := m.counters.Load(key)
	if !ok {
		c, _ = m.counters.LoadOrStore(key, m.requests.WithLabelValues(endpoint, outcome))
	}
	c.(prometheus.Counter).Inc()
	if took > 0 {
		h, ok := m.durations.Load(endpoint)
		if !ok {
			h, _ = m.durations.LoadOrStore(endpoint, m.duration.WithLabelValues(endpoint))
		}
		h.(prometheus.Observer).Observe(took.Seconds())
	}
}

// dhtCollector reads the DHT's Stats snapshot at scrape time, so the DHT
// needs no Prometheus dependency.
type dhtCollector struct {
	node dhtNode
	seen *seenPeers
}

var (
	descSent     = prometheus.NewDesc("grape_krpc_queries_sent_total", "KRPC queries sent, by query name.", []string{"query"}, nil)
	descRecv     = prometheus.NewDesc("grape_krpc_queries_received_total", "KRPC queries received, by query name.", []string{"query"}, nil)
	descTimeouts = prometheus.NewDesc("grape_krpc_query_timeouts_total", "KRPC queries that got no reply in time.", nil, nil)
	descErrSent  = prometheus.NewDesc("grape_krpc_errors_sent_total", "KRPC error replies sent.", nil, nil)
	descBad      = prometheus.NewDesc("grape_krpc_bad_packets_total", "UDP packets that were not valid KRPC.", nil, nil)
	descRouting  = prometheus.NewDesc("grape_dht_routing_table_nodes", "Nodes in the routing table.", nil, nil)
	descPeerKeys = prometheus.NewDesc("grape_dht_peer_keys", "Keys with stored announcements.", nil, nil)
	descPeers    = prometheus.NewDesc("grape_dht_stored_peers", "Stored announcements over all keys.", nil, nil)
	descValues   = prometheus.NewDesc("grape_dht_stored_values", "Stored BEP44 items.", nil, nil)
	descSeen     = prometheus.NewDesc("grape_seen_peers", "Records in the grape's seen-peers memory that lookups answer from.", nil, nil)
	descUnreach  = prometheus.NewDesc("grape_krpc_queries_unreachable_total", "KRPC queries failed at once by an ICMP error (node's port or host unreachable; Linux).", nil, nil)
)

// Describe sends the fixed descriptors.
func (c *dhtCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSent, descRecv, descTimeouts, descErrSent, descBad, descRouting, descPeerKeys, descPeers, descValues, descSeen, descUnreach} {
		ch <- d
	}
}

// Collect turns one Stats snapshot into samples.
func (c *dhtCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.node.Stats()
	for _, q := range []string{"ping", "find_node", "get_peers", "announce_peer", "get", "put"} {
		// Always expose the common queries, so dashboards see zeros.
		if _, ok := st.QueriesSent[q]; !ok {
			ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, 0, q)
		}
		if _, ok := st.QueriesRecv[q]; !ok {
			ch <- prometheus.MustNewConstMetric(descRecv, prometheus.CounterValue, 0, q)
		}
	}
	for q, n := range st.QueriesSent {
		ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(n), q)
	}
	for q, n := range st.QueriesRecv {
		ch <- prometheus.MustNewConstMetric(descRecv, prometheus.CounterValue, float64(n), q)
	}
	ch <- prometheus.MustNewConstMetric(descTimeouts, prometheus.CounterValue, float64(st.QueryTimeouts))
	ch <- prometheus.MustNewConstMetric(descErrSent, prometheus.CounterValue, float64(st.ErrorsSent))
	ch <- prometheus.MustNewConstMetric(descBad, prometheus.CounterValue, float64(st.BadPackets))
	ch <- prometheus.MustNewConstMetric(descRouting, prometheus.GaugeValue, float64(st.RoutingNodes))
	ch <- prometheus.MustNewConstMetric(descPeerKeys, prometheus.GaugeValue, float64(st.PeerKeys))
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(st.Peers))
	ch <- prometheus.MustNewConstMetric(descValues, prometheus.GaugeValue, float64(st.Values))
	ch <- prometheus.MustNewConstMetric(descSeen, prometheus.GaugeValue, float64(c.seen.Len()))
	ch <- prometheus.MustNewConstMetric(descUnreach, prometheus.CounterValue, float64(st.Unreachable))
}
