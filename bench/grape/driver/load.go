package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// loadResult mirrors the JSON line the load generator prints.
type loadResult struct {
	Conc     int     `json:"conc"`
	Names    int     `json:"names"`
	Seconds  float64 `json:"seconds"`
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Empty    int64   `json:"empty"`
	RPS      float64 `json:"rps"`
	P50us    int64   `json:"p50_us"`
	P90us    int64   `json:"p90_us"`
	P99us    int64   `json:"p99_us"`
	MaxUs    int64   `json:"max_us"`
	FirstErr string  `json:"first_error"`
	// CPUus is the servers' CPU time (user + system, every process of the
	// target) per request over the measured window, in µs; 0 when not
	// sampled. It is steadier than req/s on a shared machine: other load
	// takes wall time from the servers far more than CPU time per request.
	CPUus float64 `json:"-"`
}

// loadSpec is one measured point.
type loadSpec struct {
	url    string
	conc   int
	names  int
	warmup time.Duration
	dur    time.Duration
	// cpuOf are the server processes whose CPU time per request is
	// sampled over the measured window (none: not sampled).
	cpuOf []int
}

// runLoad runs the load generator pinned to the load CPU and waits for its
// result line.
func (c *config) runLoad(s loadSpec) (loadResult, error) {
	p, err := startProc("loadgen", c.loadCPU, "", []string{"GOMAXPROCS=1"}, c.loadgenBin,
		"-url", s.url, "-c", strconv.Itoa(s.conc), "-names", strconv.Itoa(s.names),
		"-prefix", namePrefix, "-warmup", s.warmup.String(), "-d", s.dur.String())
	if err != nil {
		return loadResult{}, err
	}
	// The measured window starts after the warm-up; the CPU reading at its
	// start is taken then, the one at its end when the generator exits
	// (a few ms after the window: idle servers, no requests).
	var cpu0 time.Duration = -1
	warm := time.NewTimer(s.warmup)
	defer warm.Stop()
	hung := time.NewTimer(s.warmup + s.dur + 30*time.Second)
	defer hung.Stop()
wait:
	for {
		select {
		case <-warm.C:
			if len(s.cpuOf) > 0 {
				cpu0 = cpuTime(s.cpuOf)
			}
		case <-p.done:
			break wait
		case <-hung.C:
			p.kill()
			return loadResult{}, fmt.Errorf("loadgen hung: %s", p.out.tail(2000))
		}
	}
	cpu1 := cpuTime(s.cpuOf)
	var r loadResult
	out := strings.TrimSpace(p.out.tail(1 << 16))
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:] // the result is the last line
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("loadgen output %q: %w", out, err)
	}
	if cpu0 >= 0 && cpu1 > cpu0 && r.Requests > 0 {
		r.CPUus = float64((cpu1 - cpu0).Microseconds()) / float64(r.Requests)
	}
	return r, nil
}
