package report

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText writes the end-of-run summary: totals, latency percentiles and
// one row per peer.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "strategy %s, service %s, %s, %.1fs\n", r.Strategy, r.Service, r.modeText(), r.DurationS)
	fmt.Fprintf(w, "requests %d  succeeded %d  failed %d  success %.3f%%  attempts/request %.3f\n",
		r.Requests, r.Succeeded, r.Failed, 100*r.SuccessRate, r.AttemptsPerRequest)
	l := r.LatencyMS
	fmt.Fprintf(w, "latency ms  p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f  max %.2f\n", l.P50, l.P90, l.P99, l.P999, l.Max)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "peer\tattempts\tshare\terrors\ttimeouts\tbreaker opens\tscore\tstate\t")
	for _, p := range r.Peers {
		fmt.Fprintf(tw, "%s\t%d\t%.1f%%\t%d\t%d\t%d\t%.3f\t%s\t\n", p.Addr, p.Requests, 100*p.Share, p.Errors, p.Timeouts, p.BreakerOpens, p.Score, p.State)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if g := r.Gossip; g != nil {
		fmt.Fprintf(w, "gossip  published %d  received %d  applied %d  rejected %d\n", g.Published, g.Received, g.Applied, g.Rejected)
	}
	for msg, n := range r.Errors {
		fmt.Fprintf(w, "error x%d: %s\n", n, msg)
	}
	return nil
}

func (r *Report) modeText() string {
	if r.Mode == "rate" {
		return fmt.Sprintf("open loop at %g req/s", r.Rate)
	}
	return fmt.Sprintf("closed loop, %d in flight", r.Concurrency)
}
