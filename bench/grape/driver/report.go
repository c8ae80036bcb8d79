package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

func (r *report) find(target string, names, conc int) (loadResult, bool) {
	for _, p := range r.points {
		if p.target == target && p.names == names && p.conc == conc {
			return p.res, true
		}
	}
	return loadResult{}, false
}

// markdown renders the report.
func (r *report) markdown(c *config) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Grape benchmark: Go grape vs Node grape (grenache-grape 1.0.0)\n\n")
	w("- Date: %s (%.0f s); machine: %s, %d CPUs; load average at start %s, at end %s\n",
		r.start.UTC().Format(time.RFC3339), r.end.Sub(r.start).Seconds(), cpuModel(), runtime.NumCPU(), r.loadStart, r.loadEnd)
	w("- Versions: %s, node %s\n", runtime.Version(), nodeVersion())
	w("- Command: `%s`\n", c.command)
	w("- Method: 2-grape clusters (bootstrapped at each other, `--dpa 120000 --check_maxPayloadSize 8192`, Go grape with `--log-level warn`);\n")
	w("  servers pinned to CPU %s (`taskset -c %s`, GOMAXPROCS=1 for Go), the load generator (`bench/grape/loadgen`, Go, GOMAXPROCS=1) to CPU %s;\n", c.serverCPU, c.serverCPU, c.loadCPU)
	w("  closed loop, one keep-alive connection per concurrent request, `POST /lookup {\"data\":name}` to grape 1;\n")
	w("  %v warm-up + %v measured per point, **1 repetition** (the house method is 10 s x 3; this run trades that for a ~5 minute script).\n", c.warmup, c.dur)
	w("  \"1 name\" repeats one announced name; \"%d names\" rotates through %d announced names. Ceiling = bare `net/http` handler returning a 19-byte JSON array, same load.\n\n", c.names, c.names)

	w("## /lookup throughput and latency\n\n")
	w("| names | conc | Node req/s | Go req/s | ceiling req/s | Go/Node | Go/ceiling | Node p50 / p99 | Go p50 / p99 | ceiling p50 / p99 |\n")
	w("|---|---|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, names := range []int{1, c.names} {
		for _, conc := range c.concs {
			n, _ := r.find("node", names, conc)
			g, _ := r.find("go", names, conc)
			x, _ := r.find("bare", names, conc)
			w("| %d | %d | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s |\n", names, conc, n.RPS, g.RPS, x.RPS,
				ratio(g.RPS, n.RPS), ratio(g.RPS, x.RPS), lat(n), lat(g), lat(x))
			for _, p := range []struct {
				name string
				res  loadResult
			}{{"Node", n}, {"Go", g}} {
				if p.res.Errors > 0 || p.res.Empty > 0 {
					notes = append(notes, fmt.Sprintf("%s, %d names, conc %d: %d errors (%s), %d empty replies of %d",
						p.name, names, conc, p.res.Errors, p.res.FirstErr, p.res.Empty, p.res.Requests))
				}
			}
		}
	}
	if len(notes) == 0 {
		w("\nEvery reply in the measured windows was a non-empty JSON array (0 errors, 0 empty lookups).\n")
	} else {
		w("\nErrors:\n")
		for _, n := range notes {
			w("- %s\n", n)
		}
	}

	w("\n## Memory (VmRSS from /proc/<pid>/status)\n\n")
	w("| grape | idle (after announcing %d names) | peak during the load runs |\n|---|---|---|\n", c.names)
	for _, im := range []string{"node", "go"} {
		for i := range r.rssIdle[im] {
			role := "grape 1 (takes the load)"
			if i == 1 {
				role = "grape 2 (answers its KRPC)"
			}
			w("| %s %s | %.1f MB | %.1f MB |\n", im, role, mb(r.rssIdle[im][i]), mb(at(r.rssPeak[im], i)))
		}
	}

	w("\n## New announcement under load (64 connections of rotating lookups on grape 1)\n\n")
	w("| | Node | Go |\n|---|---|---|\n")
	nf, gf := r.fresh["node"], r.fresh["go"]
	w("| /announce call, median / max | %s / %s | %s / %s |\n", ms(median(nf.Announce)), ms(maxD(nf.Announce)), ms(median(gf.Announce)), ms(maxD(gf.Announce)))
	w("| announce sent → visible in every grape's /lookup, median / max of %d | %s / %s | %s / %s |\n",
		len(gf.Times), ms(median(nf.Times)), ms(maxD(nf.Times)), ms(median(gf.Times)), ms(maxD(gf.Times)))

	w("\n## One grape of five killed (SIGKILL), lookups on the four survivors\n\n")
	w("Five grapes, each bootstrapped at the other four; after the kill each survivor does 4 sequential lookups of an announced name (survivors in parallel).\n\n")
	w("| | Node | Go |\n|---|---|---|\n")
	nk, gk := r.kill["node"], r.kill["go"]
	w("| first lookup after the kill, median / max | %s / %s | %s / %s |\n", ms(median(nk.First)), ms(maxD(nk.First)), ms(median(gk.First)), ms(maxD(gk.First)))
	w("| all %d lookups, median / max | %s / %s | %s / %s |\n", len(gk.All), ms(median(nk.All)), ms(maxD(nk.All)), ms(median(gk.All)), ms(maxD(gk.All)))
	w("| lookups slower than 1 s | %d of %d | %d of %d |\n", countOver(nk.All, time.Second), len(nk.All), countOver(gk.All, time.Second), len(gk.All))
	w("| lookups missing the announced peer | %d | %d |\n", nk.Wrong, gk.Wrong)
	w("\nLoad average during the run is shown above: this machine is shared, so compare the columns of one run, not runs with each other.\n")
	return b.String()
}

func lat(r loadResult) string {
	if r.Requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f / %.2f ms", float64(r.P50us)/1000, float64(r.P99us)/1000)
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func mb(kb int) float64 { return float64(kb) / 1024 }

func at(s []int, i int) int {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func maxD(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		if d < 0 {
			return d
		}
		m = max(m, d)
	}
	return m
}

func countOver(ds []time.Duration, limit time.Duration) int {
	n := 0
	for _, d := range ds {
		if d > limit {
			n++
		}
	}
	return n
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func nodeVersion() string {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}
