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
}

// loadSpec is one measured point.
type loadSpec struct {
	url    string
	conc   int
	names  int
	warmup time.Duration
	dur    time.Duration
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
	select {
	case <-p.done:
	case <-time.After(s.warmup + s.dur + 30*time.Second):
		p.kill()
		return loadResult{}, fmt.Errorf("loadgen hung: %s", p.out.tail(2000))
	}
	var r loadResult
	out := strings.TrimSpace(p.out.tail(1 << 16))
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:] // the result is the last line
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		return r, fmt.Errorf("loadgen output %q: %w", out, err)
	}
	return r, nil
}
