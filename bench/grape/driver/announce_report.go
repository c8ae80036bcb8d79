package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// best is the highest step of an unbroken run of passing steps from the
// lowest rate (pass: the whole criterion or its announce side), or nil.
func (r *announceRun) best(pass func(*stepResult) bool) *stepResult {
	var b *stepResult
	for i := range r.steps {
		if !pass(&r.steps[i]) {
			break
		}
		b = &r.steps[i]
	}
	return b
}

// cpuPerAnnounce is the grapes' CPU per announce over a step, less the
// fixed lookup load's share measured in the baseline step.
func (r *announceRun) cpuPerAnnounce(s *stepResult) time.Duration {
	if s.announces == 0 {
		return 0
	}
	bg := time.Duration(float64(r.baseline.cpu) * s.wall.Seconds() / max(r.baseline.wall.Seconds(), 1e-9))
	return max(0, s.cpu-bg) / time.Duration(s.announces)
}

func freshCell(fs []time.Duration) string {
	never := 0
	var ok []time.Duration
	for _, f := range fs {
		if f < 0 {
			never++
		} else {
			ok = append(ok, f)
		}
	}
	cell := fmt.Sprintf("%s / %s", msNum(pct(ok, 50)), msNum(slices.Max(append(ok, 0))))
	if never > 0 {
		cell += fmt.Sprintf(", %d never", never)
	}
	return cell
}

func sumKB(kb []int) int {
	t := 0
	for _, k := range kb {
		t += k
	}
	return t
}

func announceMarkdown(c *config, runs []announceRun, start time.Time, loadStart string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Announce storm (%s)\n\n", start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `%s`. %s; the 3 grapes of each cluster pinned to CPU %s (Go with GOMAXPROCS=1), the driver to CPU %s. "+
		"Load average %s at start, %s at end; %s wall.\n\n",
		c.command, cpuModel(), c.serverCPU, c.loadCPU, loadStart, loadavg(), time.Since(start).Round(time.Second))
	fmt.Fprintf(&b, "%d simulated workers (%d services) re-announce at the step's rate, open loop, through random grapes' /announce; "+
		"%d /lookup/s of the services run throughout; %d new announcements per step are timed until every grape's /lookup returns them. "+
		"A step of %s is sustained when ≥ %.0f%% of the rate completed without error, every new announcement was visible on all 3 grapes within %s "+
		"and lookup p99 < %s. CPU per announce: the grapes' utime+stime over the step, less the lookup load's CPU from a lookups-only step, divided by the announces.\n\n",
		*annWorkers, *annServices, *annLookups, *annFresh, *annStep, 100*annAchievedShare, annVisibleWithin, annLookupP99)
	b.WriteString("| impl | announces/s asked | done/s | errors | visible p50 / max ms | lookup p50 / p99 ms | CPU µs / announce | RSS peak, 3 grapes MB | sustained |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for i := range runs {
		r := &runs[i]
		if r.err != "" {
			fmt.Fprintf(&b, "| %s | failed: %s ||||||||\n", r.impl, strings.ReplaceAll(r.err, "|", "/"))
			continue
		}
		bl := r.baseline
		fmt.Fprintf(&b, "| %s | 0 (lookups only) | – | %d | – | %s / %s | – | %.1f | – |\n", r.impl, bl.lookupErrs,
			msNum(pct(bl.lookups, 50)), msNum(pct(bl.lookups, 99)), mb(sumKB(bl.rssPeak)))
		for j := range r.steps {
			s := &r.steps[j]
			verdict := "yes"
			switch {
			case s.unsent > 0:
				verdict = fmt.Sprintf("**no** (%d sends found all %d slots busy)", s.unsent, *annInflight)
			case !s.passAnnounce():
				verdict = "**no**"
			case !s.pass():
				verdict = "**no**: lookup p99; announce side yes"
			}
			fmt.Fprintf(&b, "| %s | %d | %.0f | %d | %s | %s / %s | %.0f | %.1f | %s |\n", r.impl, s.target, s.achieved,
				s.errs+s.lookupErrs, freshCell(s.fresh), msNum(pct(s.lookups, 50)), msNum(pct(s.lookups, 99)),
				float64(r.cpuPerAnnounce(s))/float64(time.Microsecond), mb(sumKB(s.rssPeak)), verdict)
		}
	}
	b.WriteString("\n")
	rates, annRates := map[string]int{}, map[string]int{}
	for i := range runs {
		r := &runs[i]
		if r.err != "" {
			continue
		}
		if s := r.best((*stepResult).pass); s != nil {
			rates[r.impl] = s.target
			fmt.Fprintf(&b, "- **%s**: highest sustained %d announces/s (CPU %.0f µs per announce, RSS peak %.1f MB over 3 grapes).\n",
				r.impl, s.target, float64(r.cpuPerAnnounce(s))/float64(time.Microsecond), mb(sumKB(s.rssPeak)))
		} else {
			fmt.Fprintf(&b, "- **%s**: no step met the whole criterion (lookups-only p99 %s ms).\n", r.impl, msNum(pct(r.baseline.lookups, 99)))
		}
		if s := r.best((*stepResult).passAnnounce); s != nil {
			annRates[r.impl] = s.target
			fmt.Fprintf(&b, "  announce side alone (done, visible ≤ %s): %d announces/s (CPU %.0f µs per announce, RSS peak %.1f MB, lookup p99 %s ms).\n",
				annVisibleWithin, s.target, float64(r.cpuPerAnnounce(s))/float64(time.Microsecond), mb(sumKB(s.rssPeak)), msNum(pct(s.lookups, 99)))
		}
		for _, s := range r.steps {
			if s.firstErr != "" {
				fmt.Fprintf(&b, "  first error at %d/s: %s\n", s.target, s.firstErr)
				break
			}
		}
	}
	if rates["node"] > 0 && rates["go"] > 0 {
		fmt.Fprintf(&b, "- Go / Node, whole criterion: %.1f× (target ≥ 10×).\n", float64(rates["go"])/float64(rates["node"]))
	}
	if annRates["node"] > 0 && annRates["go"] > 0 {
		fmt.Fprintf(&b, "- Go / Node, announce side: %.1f×.\n", float64(annRates["go"])/float64(annRates["node"]))
	}
	return b.String()
}
