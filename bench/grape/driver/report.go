package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
)

// agg is the repetitions of one point, summarised.
type agg struct {
	n                  int
	rps, rpsLo, rpsHi  float64 // median, min, max over repetitions
	p50us, p99us       int64   // medians over repetitions
	errors, empty, req int64   // sums
	firstErr           string
	cpuUs              float64 // median server CPU µs per request (0: not sampled)
}

// find summarises every repetition of (target, names, conc).
func (r *report) find(target string, names, conc int) agg {
	var rs []loadResult
	for _, p := range r.points {
		if p.target == target && p.names == names && p.conc == conc {
			rs = append(rs, p.res)
		}
	}
	a := agg{n: len(rs)}
	if len(rs) == 0 {
		return a
	}
	rps := make([]float64, len(rs))
	var cpu []float64
	p50 := make([]int64, len(rs))
	p99 := make([]int64, len(rs))
	for i, x := range rs {
		rps[i], p50[i], p99[i] = x.RPS, x.P50us, x.P99us
		if x.CPUus > 0 {
			cpu = append(cpu, x.CPUus)
		}
		a.errors += x.Errors
		a.empty += x.Empty
		a.req += x.Requests
		if a.firstErr == "" {
			a.firstErr = x.FirstErr
		}
	}
	slices.Sort(rps)
	slices.Sort(p50)
	slices.Sort(p99)
	a.rps, a.rpsLo, a.rpsHi = rps[len(rps)/2], rps[0], rps[len(rps)-1]
	a.p50us, a.p99us = p50[len(p50)/2], p99[len(p99)/2]
	if len(cpu) > 0 {
		slices.Sort(cpu)
		a.cpuUs = cpu[len(cpu)/2]
	}
	return a
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
	w("  %v warm-up + %v measured per point, %d repetitions interleaved across Node, Go and the ceiling (the house method is 10 s x 3; this run trades time per point for a script of a few minutes).\n", c.warmup, c.dur, c.reps)
	w("  \"1 name\" repeats one announced name; \"%d names\" rotates through %d announced names. Ceiling = bare `net/http` handler returning a 19-byte JSON array, same load.\n", c.names, c.names)
	w("  A Node grape walks the DHT on every lookup (merging concurrent ones); a Go grape answers a name walked less than 7/8 of LookupCacheTTL (500 ms) ago from memory, refreshes it in the background up to the TTL, and walks first after that or after a new announcement for the name was stored on or sent through it.\n\n")

	w("## /lookup throughput and latency\n\n")
	w("req/s: median of %d interleaved repetitions, with the range in brackets; latencies: medians of the per-run p50 and p99.\n\n", c.reps)
	w("| names | conc | Node req/s | Go req/s | ceiling req/s | Go/Node | Go/ceiling | Node p50 / p99 | Go p50 / p99 | ceiling p50 / p99 |\n")
	w("|---|---|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, names := range []int{1, c.names} {
		for _, conc := range c.concs {
			n, g, x := r.find("node", names, conc), r.find("go", names, conc), r.find("bare", names, conc)
			w("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s |\n", names, conc, rpsCell(n), rpsCell(g), rpsCell(x),
				ratio(g.rps, n.rps), ratio(g.rps, x.rps), lat(n), lat(g), lat(x))
			for _, p := range []struct {
				name string
				a    agg
			}{{"Node", n}, {"Go", g}} {
				if p.a.errors > 0 || p.a.empty > 0 {
					notes = append(notes, fmt.Sprintf("%s, %d names, conc %d: %d errors (%s), %d empty replies of %d",
						p.name, names, conc, p.a.errors, p.a.firstErr, p.a.empty, p.a.req))
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
	w("\n## Server CPU per request\n\n")
	w("User + system CPU time of the target's server processes (both grapes of a cluster, or the bare server) over each measured window, per request; median of %d repetitions. ", c.reps)
	w("A pinned server at saturation serves 1/CPU-per-request, so ceiling/Go by CPU is the throughput ratio with the other load on the machine taken out (that load costs the servers wall time, not CPU time per request).\n\n")
	w("| names | conc | Node µs/req | Go µs/req | ceiling µs/req | Go/ceiling by CPU |\n|---|---|---|---|---|---|\n")
	for _, names := range []int{1, c.names} {
		for _, conc := range c.concs {
			n, g, x := r.find("node", names, conc), r.find("go", names, conc), r.find("bare", names, conc)
			w("| %d | %d | %s | %s | %s | %s |\n", names, conc, cpuCell(n), cpuCell(g), cpuCell(x), ratio(x.cpuUs, g.cpuUs))
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
	w("Five grapes, each bootstrapped at the other four; after the kill and a 1 s pause (longer than the Go grape's 500 ms lookup cache, so every lookup walks the DHT) each survivor does 4 sequential lookups, each of a different announced name it last looked up before the kill (survivors in parallel).\n\n")
	w("| | Node | Go |\n|---|---|---|\n")
	nk, gk := r.kill["node"], r.kill["go"]
	w("| first lookup after the kill, median / max | %s / %s | %s / %s |\n", ms(median(nk.First)), ms(maxD(nk.First)), ms(median(gk.First)), ms(maxD(gk.First)))
	w("| all %d lookups, median / max | %s / %s | %s / %s |\n", len(gk.All), ms(median(nk.All)), ms(maxD(nk.All)), ms(median(gk.All)), ms(maxD(gk.All)))
	w("| lookups slower than 1 s | %d of %d | %d of %d |\n", countOver(nk.All, time.Second), len(nk.All), countOver(gk.All, time.Second), len(gk.All))
	w("| lookups missing the announced peer | %d | %d |\n", nk.Wrong, gk.Wrong)
	w("\nLoad average during the run is shown above: this machine is shared, so compare the columns of one run, not runs with each other.\n")
	return b.String()
}

func lat(a agg) string {
	if a.n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f / %.2f ms", float64(a.p50us)/1000, float64(a.p99us)/1000)
}

func rpsCell(a agg) string {
	if a.n == 0 {
		return "-"
	}
	if a.n == 1 {
		return fmt.Sprintf("%.0f", a.rps)
	}
	return fmt.Sprintf("%.0f [%.0f–%.0f]", a.rps, a.rpsLo, a.rpsHi)
}

func ratio(a, b float64) string {
	if a == 0 || b == 0 {
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

func cpuCell(a agg) string {
	if a.cpuUs == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", a.cpuUs)
}
