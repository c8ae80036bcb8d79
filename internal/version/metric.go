package version

import "github.com/prometheus/client_golang/prometheus"

// Collector is the gauge name (e.g. "grape_build_info") with value 1 and
// the labels version, revision and goversion of the running build: the
// Prometheus idiom for joining a build's identity onto its other series.
// Three labels of one process's build: the series count is fixed.
func Collector(name, help string) prometheus.Collector {
	i := Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: name,
		Help: help,
		ConstLabels: prometheus.Labels{
			"version":   i.Version,
			"revision":  i.Revision,
			"goversion": i.GoVersion,
		},
	})
	g.Set(1)
	return g
}
