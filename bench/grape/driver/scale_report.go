package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// runScale runs -mode scale: every Go size, then every Node size, one
// cluster at a time, and returns the markdown report.
func (c *config) runScale() (string, error) {
	sizes, err := parseSizes(*scaleSizes)
	if err != nil {
		return "", fmt.Errorf("-scale-sizes: %w", err)
	}
	nodeSizes, err := parseSizes(*scaleNodeSizes)
	if err != nil {
		return "", fmt.Errorf("-scale-node-sizes: %w", err)
	}
	start, loadStart := time.Now(), loadavg()
	var rows []scaleResult
	for _, n := range sizes {
		rows = append(rows, runScaleSize(goImpl(c.grapeBin, c.serverCPU), n))
	}
	if c.want("node") {
		for _, n := range nodeSizes {
			rows = append(rows, runScaleSize(nodeImpl(c.nodeDir, c.serverCPU), n))
		}
	}
	return scaleMarkdown(c, rows, start, loadStart), nil
}

func msNum(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

func successCell(s lookupStats) string {
	n := s.ok + s.wrong + s.errs
	if n == 0 {
		return "–"
	}
	cell := fmt.Sprintf("%d/%d (%.2f%%)", s.ok, n, 100*float64(s.ok)/float64(n))
	if s.errs > 0 {
		cell += fmt.Sprintf(", %d errors", s.errs)
	}
	if s.killed > 0 {
		cell += fmt.Sprintf(" (+%d in flight to a killed grape)", s.killed)
	}
	return cell
}

func scaleMarkdown(c *config, rows []scaleResult, start time.Time, loadStart string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## Grapes at scale (%s)\n\n", start.UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "Command: `%s`. %s; grapes pinned to CPU %s (Go with GOMAXPROCS=1), the driver to CPU %s. "+
		"Load average %s at start, %s at end; %s wall.\n\n",
		c.command, cpuModel(), c.serverCPU, c.loadCPU, loadStart, loadavg(), time.Since(start).Round(time.Second))
	fmt.Fprintf(&b, "Each grape bootstraps at %d random earlier ones; %d names announced from random grapes; "+
		"then each name looked up once from a random grape plus %d absent names, %d in flight, one call per lookup (no retry). "+
		"Churn: %.0f%% of the grapes SIGKILLed at once and as many new ones started while lookups of random announced names run; "+
		"then every name looked up once more from random grapes. Join time: process start until the grape answers /lookup "+
		"and (Go) its /status says ready, over every grape but the first (whose bootstrap address is nobody's).\n\n",
		*scaleBoot, *scaleNames, *scaleAbsent, *scaleConc, 100**scaleChurn)
	b.WriteString("| grapes | impl | join p50 / max ms | lookups found | absent → [] | p50 / p99 ms | KRPC msgs / lookup | RSS / grape median (max) MB | churn: during found, p50 / p99 ms | after churn found, p50 / p99 ms |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		if r.err != "" {
			fmt.Fprintf(&b, "| %d | %s | failed: %s |||||||||\n", r.size, r.impl, strings.ReplaceAll(r.err, "|", "/"))
			continue
		}
		msgs := "n/a (no counters)"
		if r.msgsPerLookup >= 0 {
			msgs = fmt.Sprintf("%.1f", r.msgsPerLookup)
		}
		fmt.Fprintf(&b, "| %d | %s | %s / %s | %s | %d/%d | %s / %s | %s | %.1f (%.1f) | %s, %s / %s | %s, %s / %s |\n",
			r.size, r.impl, msNum(r.joinP50), msNum(r.joinMax), successCell(r.look), r.look.absentOK, r.look.absN,
			msNum(pct(r.look.lat, 50)), msNum(pct(r.look.lat, 99)), msgs, mb(r.rssMed), mb(r.rssMax),
			successCell(r.during), msNum(pct(r.during.lat, 50)), msNum(pct(r.during.lat, 99)),
			successCell(r.after), msNum(pct(r.after.lat, 50)), msNum(pct(r.after.lat, 99)))
	}
	b.WriteString("\nKRPC messages per lookup (Go) against log2 of the size: the ratio column stays flat or falls when the cost grows no faster than log2.\n\n")
	b.WriteString("| grapes | log2 | msgs / lookup | msgs / log2 | bar |\n|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		if r.impl != "go" || r.err != "" || r.msgsPerLookup < 0 {
			continue
		}
		l := math.Log2(float64(r.size))
		fmt.Fprintf(&b, "| %d | %.0f | %.1f | %.2f | %s |\n", r.size, l, r.msgsPerLookup, r.msgsPerLookup/l,
			strings.Repeat("█", int(math.Round(r.msgsPerLookup))))
	}
	var p8, pMax time.Duration
	var nMax int
	for _, r := range rows {
		if r.impl == "go" && r.err == "" {
			if p8 == 0 {
				p8 = pct(r.look.lat, 99)
			}
			pMax, nMax = pct(r.look.lat, 99), r.size
		}
	}
	if p8 > 0 && nMax > 0 {
		fmt.Fprintf(&b, "\nGo lookup p99 at %d grapes / p99 at the smallest size: %.2f (target ≤ 2).\n", nMax, float64(pMax)/float64(p8))
	}
	for _, r := range rows {
		for _, s := range []lookupStats{r.look, r.during, r.after} {
			if s.firstWrong != "" {
				fmt.Fprintf(&b, "\n%s %d first miss: %s\n", r.impl, r.size, s.firstWrong)
				break
			}
		}
	}
	return b.String()
}
