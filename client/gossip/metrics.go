package gossip

import "github.com/prometheus/client_golang/prometheus"

// collector exposes a Gossiper's counters to Prometheus, read at scrape time
// so the hot paths keep their plain atomics.
type collector struct {
	g                                            *Gossiper
	published, received, applied, rejected, byVd *prometheus.Desc
	origins, peers                               *prometheus.Desc
}

// Collector returns a prometheus.Collector for this gossiper's counts (the
// same as the report's "gossip" block, plus a breakdown by verdict and the
// table sizes), labelled with the channel. Register it on the client's
// /metrics registry.
func (g *Gossiper) Collector() prometheus.Collector {
	l := prometheus.Labels{"channel": g.channel}
	d := func(name, help string, vars ...string) *prometheus.Desc {
		return prometheus.NewDesc("grenache_client_gossip_"+name, help, vars, l)
	}
	return &collector{
		g:         g,
		published: d("published_total", "Hint messages published."),
		received:  d("received_total", "Frames received from other publishers on the channel."),
		applied:   d("applied_total", "Received messages applied to the hint book."),
		rejected:  d("rejected_total", "Received frames rejected (malformed, bad signature, untrusted, expired, conflict, origin limit)."),
		byVd:      d("frames_total", "Frames seen, by verdict (including our own and dropped repeats).", "verdict"),
		origins:   d("origins", "Origins currently tracked."),
		peers:     d("hinted_peers", "Peers with at least one live hint."),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.published, c.received, c.applied, c.rejected, c.byVd, c.origins, c.peers} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.g.book.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(c.published, c.g.published.Load())
	counter(c.received, s.Received)
	counter(c.applied, s.Applied)
	counter(c.rejected, s.Rejected)
	for v, n := range s.ByVerdict {
		counter(c.byVd, n, v)
	}
	ch <- prometheus.MustNewConstMetric(c.origins, prometheus.GaugeValue, float64(s.Origins))
	ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(s.Peers))
}
