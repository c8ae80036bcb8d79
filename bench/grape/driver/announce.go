package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Flags of -mode announce (scripts/bench-announce.sh).
var (
	annRates    = flag.String("ann-rates", "50,100,200,500,1000,2000,3000,5000,7000,10000,15000,20000", "announce: announce rates (per second) tried in order until the announce side of the criterion breaks")
	annStep     = flag.Duration("ann-step", 5*time.Second, "announce: length of each rate step")
	annLookups  = flag.Int("ann-lookup-rate", 500, "announce: fixed /lookup load (per second) during every step")
	annWorkers  = flag.Int("ann-workers", 2000, "announce: simulated workers (name, port) that re-announce")
	annServices = flag.Int("ann-services", 200, "announce: service names the workers share")
	annFresh    = flag.Int("ann-fresh", 20, "announce: new announcements per step timed until visible on every grape")
	annInflight = flag.Int("ann-inflight", 512, "announce: requests in flight at most; a send that finds no slot counts as not sustained")
)

// Criterion of a sustained step (issue 13, point 1).
const (
	annVisibleWithin = time.Second
	annLookupP99     = 10 * time.Millisecond
	annAchievedShare = 0.95 // achieved / target announce rate
)

// loadClient carries the open-loop load; the shared httpc keeps too few
// idle connections for thousands of requests a second.
var loadClient = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
	MaxIdleConns: 2048, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 3 * time.Second}} // under the grapes' 5 s keep-alive (see httpc)

// post sends {"data": data} to url and returns the body.
func post(url string, data any) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"data": data})
	resp, err := loadClient.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("%s: status %d", url, resp.StatusCode)
	}
	return bytes.TrimSpace(b), nil
}

// stepResult is one announce rate step.
type stepResult struct {
	target          int // announces per second asked
	announces, errs int64
	unsent          int64 // sends that found every in-flight slot taken
	achieved        float64
	lookups         []time.Duration
	lookupErrs      int64
	fresh           []time.Duration // -1: not visible within 5 s
	cpu             time.Duration   // utime+stime of the 3 grapes over the step
	wall            time.Duration
	rssPeak         []int // kB per grape
	firstErr        string
}

// pass applies the whole criterion.
func (s *stepResult) pass() bool {
	return s.passAnnounce() && s.lookupErrs == 0 && pct(s.lookups, 99) < annLookupP99
}

// passAnnounce applies the announce side of the criterion alone (rate
// done without error, new announcements visible in time), for a figure
// that does not hinge on the lookup p99 of a shared machine.
func (s *stepResult) passAnnounce() bool {
	if s.errs > 0 || s.unsent > 0 || s.achieved < annAchievedShare*float64(s.target) {
		return false
	}
	for _, d := range s.fresh {
		if d < 0 || d > annVisibleWithin {
			return false
		}
	}
	return true
}

// announceRun is one implementation's whole run.
type announceRun struct {
	impl     string
	baseline stepResult // lookup load only
	steps    []stepResult
	err      string
}

// openLoop calls fire rate times a second for d, spread over 5 ms ticks,
// each call in its own goroutine holding one of the slots; a call that
// finds no free slot is counted in unsent and not made.
func openLoop(rate int, d time.Duration, slots chan struct{}, unsent *atomic.Int64, wg *sync.WaitGroup, fire func(k int)) {
	if rate <= 0 {
		return
	}
	const tick = 5 * time.Millisecond
	t0 := time.Now()
	t := time.NewTicker(tick)
	defer t.Stop()
	sent := 0
	for now := range t.C {
		el := now.Sub(t0)
		want := int(float64(rate) * min(el, d).Seconds())
		for ; sent < want; sent++ {
			select {
			case slots <- struct{}{}:
				wg.Add(1)
				go func(k int) {
					defer wg.Done()
					defer func() { <-slots }()
					fire(k)
				}(sent)
			default:
				unsent.Add(1)
			}
		}
		if el >= d {
			return
		}
	}
}

// runStep runs one rate step on a 3-grape cluster.
func runStep(gs []*runningGrape, rate int, d time.Duration, stepNo int) stepResult {
	res := stepResult{target: rate}
	var pids []int
	for _, g := range gs {
		pids = append(pids, g.p.pid())
	}
	cpu0 := cpuTime(pids)
	sampler := sampleRSS(pids...)
	t0 := time.Now()

	slots := make(chan struct{}, *annInflight)
	var (
		wg                             sync.WaitGroup
		annOK, annErr, lookErr, unsent atomic.Int64
		mu                             sync.Mutex
		lookups                        []time.Duration
		firstErr                       atomic.Value
		loopWG                         sync.WaitGroup
	)
	noteErr := func(err error) { firstErr.CompareAndSwap(nil, err.Error()) }
	loopWG.Add(3)
	go func() {
		defer loopWG.Done()
		openLoop(rate, d, slots, &unsent, &wg, func(k int) {
			w := rand.IntN(*annWorkers)
			g := gs[rand.IntN(len(gs))]
			b, err := post(g.api+"/announce", []any{"ann-svc-" + strconv.Itoa(w%*annServices), 30000 + w})
			if err == nil {
				if _, aerr := strconv.Atoi(string(b)); aerr != nil {
					err = fmt.Errorf("/announce: %q", b)
				}
			}
			if err != nil {
				annErr.Add(1)
				noteErr(err)
				return
			}
			annOK.Add(1)
		})
	}()
	go func() {
		defer loopWG.Done()
		openLoop(*annLookups, d, slots, &unsent, &wg, func(int) {
			g := gs[rand.IntN(len(gs))]
			s := time.Now()
			b, err := post(g.api+"/lookup", "ann-svc-"+strconv.Itoa(rand.IntN(*annServices)))
			took := time.Since(s)
			if err == nil && !bytes.HasPrefix(b, []byte(`["`)) {
				err = fmt.Errorf("/lookup of a worker service: %q", b)
			}
			if err != nil {
				lookErr.Add(1)
				noteErr(err)
				return
			}
			mu.Lock()
			lookups = append(lookups, took)
			mu.Unlock()
		})
	}()
	// Fresh announcements: new (name, port) pairs on a random grape,
	// timed from the announce request until every grape's /lookup shows
	// them (polled every 10 ms).
	freshc := make(chan time.Duration, max(1, *annFresh))
	go func() {
		defer loopWG.Done()
		if *annFresh <= 0 {
			return
		}
		every := d / time.Duration(*annFresh)
		var fw sync.WaitGroup
		for k := range *annFresh {
			time.Sleep(every / 2)
			fw.Add(1)
			go func() {
				defer fw.Done()
				freshc <- timeFresh(gs, fmt.Sprintf("ann-fresh-%d-%d-%d", stepNo, k, time.Now().UnixNano()), 40000+k)
			}()
			time.Sleep(every - every/2)
		}
		fw.Wait()
	}()
	loopWG.Wait()
	wg.Wait()
	res.wall = time.Since(t0)
	close(freshc)
	for f := range freshc {
		res.fresh = append(res.fresh, f)
	}
	res.cpu = cpuTime(pids) - cpu0
	peaks := sampler.stop()
	for _, p := range pids {
		res.rssPeak = append(res.rssPeak, peaks[p])
	}
	res.announces, res.errs, res.unsent = annOK.Load(), annErr.Load(), unsent.Load()
	res.lookupErrs, res.lookups = lookErr.Load(), lookups
	res.achieved = float64(res.announces) / d.Seconds()
	if e, ok := firstErr.Load().(string); ok {
		res.firstErr = e
	}
	return res
}

// timeFresh announces name on a random grape and returns how long until
// every grape's /lookup returns it (-1 when not within 5 s).
func timeFresh(gs []*runningGrape, name string, port int) time.Duration {
	want := []byte(`"127.0.0.1:` + strconv.Itoa(port) + `"`)
	t0 := time.Now()
	if _, err := post(gs[rand.IntN(len(gs))].api+"/announce", []any{name, port}); err != nil {
		return -1
	}
	seen := make([]bool, len(gs))
	for time.Since(t0) < 5*time.Second {
		all := true
		for i, g := range gs {
			if !seen[i] {
				b, err := post(g.api+"/lookup", name)
				seen[i] = err == nil && bytes.Contains(b, want)
			}
			all = all && seen[i]
		}
		if all {
			return time.Since(t0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1
}

// runAnnounceImpl starts a 3-grape cluster of im, announces every
// simulated worker once and climbs the rate steps until one fails.
func runAnnounceImpl(im impl, rates []int) (run announceRun) {
	run.impl = im.name
	progress("announce %s: starting 3 grapes", im.name)
	gs, err := startCluster(im, 3)
	defer stopCluster(gs)
	if err != nil {
		run.err = err.Error()
		return run
	}
	for w := range *annWorkers {
		if err := announce(gs[w%len(gs)], "ann-svc-"+strconv.Itoa(w%*annServices), 30000+w); err != nil {
			run.err = err.Error()
			return run
		}
	}
	// Warm-up, discarded: Node's JIT (and both runtimes' pools) settle
	// here, not in the baseline the CPU per announce is measured against.
	progress("announce %s: warm-up", im.name)
	_ = runStep(gs, rates[0], 2*time.Second, -1)
	progress("announce %s: baseline (lookups only)", im.name)
	run.baseline = runStep(gs, 0, *annStep, 0)
	for i, r := range rates {
		progress("announce %s: %d announces/s", im.name, r)
		s := runStep(gs, r, *annStep, i+1)
		run.steps = append(run.steps, s)
		if !s.passAnnounce() {
			break // past both figures
		}
	}
	return run
}

// runAnnounce runs -mode announce for Node then Go and returns the report.
func (c *config) runAnnounce() (string, error) {
	var rates []int
	for _, f := range strings.Split(*annRates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 1 {
			return "", fmt.Errorf("bad -ann-rates %q", *annRates)
		}
		rates = append(rates, r)
	}
	start, loadStart := time.Now(), loadavg()
	var runs []announceRun
	for _, im := range []impl{nodeImpl(c.nodeDir, c.serverCPU), goImpl(c.grapeBin, c.serverCPU)} {
		if c.want(im.name) {
			runs = append(runs, runAnnounceImpl(im, rates))
		}
	}
	return announceMarkdown(c, runs, start, loadStart), nil
}
