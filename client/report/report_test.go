package report

import (
	"bytes"
	"strings"
	"testing"
)

func sample(strategy string) *Report {
	return &Report{
		Strategy: strategy, Service: "svc", Mode: "rate", Rate: 10, DurationS: 2, Requests: 20, Succeeded: 20,
		SuccessRate: 1, Attempts: 21, AttemptsPerRequest: 1.05,
		Peers: []Peer{{Addr: "127.0.0.1:1", Requests: 11, Share: 0.52}, {Addr: "127.0.0.1:2", Requests: 10, Share: 0.48, Errors: 1, BreakerOpens: 1}},
		Timeline: []Second{
			{T: 1, Requests: 10, P50MS: 1, P90MS: 2, P99MS: 3, Peers: map[string]int64{"127.0.0.1:1": 5, "127.0.0.1:2": 6}},
			{T: 2, Requests: 10, P50MS: 1, P90MS: 2, P99MS: 4, Peers: map[string]int64{"127.0.0.1:1": 6, "127.0.0.1:2": 4}},
		},
		BreakerEvents: []BreakerEvent{{T: 1.5, Addr: "127.0.0.1:2", From: "CLOSED", To: "OPEN"}},
	}
}

func TestHTMLComparisonIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := WriteHTML(&b, sample("adaptive"), sample("round-robin")); err != nil {
		t.Fatal(err)
	}
	h := b.String()
	if strings.Count(h, "<svg") != 4 || !strings.Contains(h, "round-robin") || strings.Contains(h, "<script") ||
		strings.Contains(h, "<link") || !strings.Contains(h, "CLOSED</td><td>OPEN") {
		t.Fatalf("comparison page wrong (%d bytes)", len(h))
	}
	// An empty report still renders.
	b.Reset()
	if err := (&Report{Strategy: "random"}).WriteHTML(&b); err != nil {
		t.Fatal(err)
	}
}
