package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Flags of -mode scale (scripts/bench-scale.sh).
var (
	scaleSizes     = flag.String("scale-sizes", "8,64,256", "scale: Go cluster sizes")
	scaleNodeSizes = flag.String("scale-node-sizes", "8,64", "scale: Node cluster sizes (run in the same invocation)")
	scaleNames     = flag.Int("scale-names", 1000, "scale: names announced from random grapes")
	scaleAbsent    = flag.Int("scale-absent", 200, "scale: lookups of names nobody announced")
	scaleConc      = flag.Int("scale-conc", 8, "scale: lookups in flight")
	scaleBoot      = flag.Int("scale-bootstrap", 3, "scale: random earlier grapes each grape bootstraps at")
	scaleChurn     = flag.Float64("scale-churn", 0.25, "scale: share of grapes killed (and replaced) in the churn phase")
)

// scaleGrape is one grape process of a scale cluster.
type scaleGrape struct {
	*runningGrape
	join time.Duration // process start -> joined (see waitJoined)
}

// scaleCluster is a cluster of grapes started one by one, each
// bootstrapped at a few random earlier ones.
type scaleCluster struct {
	im   impl
	boot int
	mu   sync.Mutex
	live []*scaleGrape
}

// start starts one grape bootstrapped at up to c.boot random live grapes
// (the first grape at a port nobody listens on yet: it learns the others
// from their queries) and waits until it has joined.
func (c *scaleCluster) start() (*scaleGrape, error) {
	d, err := freePort("udp4")
	if err != nil {
		return nil, err
	}
	a, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	peers := slices.Clone(c.live)
	c.mu.Unlock()
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	var bn []string
	for _, p := range peers[:min(c.boot, len(peers))] {
		bn = append(bn, "127.0.0.1:"+strconv.Itoa(p.dhtPort))
	}
	if len(bn) == 0 {
		spare, err := freePort("udp4")
		if err != nil {
			return nil, err
		}
		bn = []string{"127.0.0.1:" + strconv.Itoa(spare)}
	}
	t0 := time.Now()
	p, err := c.im.start(d, a, bn)
	if err != nil {
		return nil, err
	}
	g := &scaleGrape{runningGrape: &runningGrape{p: p, dhtPort: d, api: "http://127.0.0.1:" + strconv.Itoa(a)}}
	if err := waitJoined(c.im.name, g.runningGrape); err != nil {
		p.kill()
		return nil, err
	}
	g.join = time.Since(t0)
	c.mu.Lock()
	c.live = append(c.live, g)
	c.mu.Unlock()
	return g, nil
}

// waitJoined waits until a grape has joined: a Go grape's /status says
// ready (its bootstrap walk ended with an answer); a Node grape answers
// /lookup, which grenache-grape serves only after its DHT is ready.
func waitJoined(implName string, g *runningGrape) error {
	if err := waitReady(g); err != nil {
		return err
	}
	if implName != "go" {
		return nil
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := httpc.Get(g.api + "/status")
		if err == nil {
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if bytes.Contains(b.Bytes(), []byte(`"ready": true`)) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 20 s", g.p.name)
}

// pick returns a random live grape.
func (c *scaleCluster) pick() *scaleGrape {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.live[rand.IntN(len(c.live))]
}

func (c *scaleCluster) isLive(g *scaleGrape) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.live, g)
}

func (c *scaleCluster) snapshot() []*scaleGrape {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.live)
}

// remove takes gs out of the live set (before they are killed, so no new
// lookup is sent to them).
func (c *scaleCluster) remove(gs []*scaleGrape) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.live = slices.DeleteFunc(c.live, func(g *scaleGrape) bool { return slices.Contains(gs, g) })
}

func (c *scaleCluster) stop() {
	var rgs []*runningGrape
	for _, g := range c.snapshot() {
		rgs = append(rgs, g.runningGrape)
	}
	stopCluster(rgs)
}

// krpcSent sums grape_krpc_queries_sent_total over every live Go grape
// (Node grapes expose no counters: -1).
func (c *scaleCluster) krpcSent() int64 {
	if c.im.name != "go" {
		return -1
	}
	var total int64
	for _, g := range c.snapshot() {
		n, err := scrapeSent(g.api)
		if err != nil {
			return -1
		}
		total += n
	}
	return total
}

// scrapeSent reads one grape's /metrics and sums the KRPC queries it sent.
func scrapeSent(api string) (int64, error) {
	resp, err := httpc.Get(api + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s/metrics: status %d", api, resp.StatusCode)
	}
	var total int64
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		line := s.Text()
		if !strings.HasPrefix(line, "grape_krpc_queries_sent_total{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, err
		}
		total += int64(v)
	}
	return total, s.Err()
}

// lookupStats is one phase of lookups.
type lookupStats struct {
	ok, wrong, errs int // announced names found / not found / call failed
	// killed counts calls that failed because the churn killed their
	// grape while they were in flight (a client-side loss, not a miss).
	killed         int
	absentOK, absN int // absent names answered [] / asked
	lat            []time.Duration
	firstWrong     string
}

func (s *lookupStats) add(o lookupStats) {
	s.ok += o.ok
	s.wrong += o.wrong
	s.errs += o.errs
	s.killed += o.killed
	s.absentOK += o.absentOK
	s.absN += o.absN
	s.lat = append(s.lat, o.lat...)
	if s.firstWrong == "" {
		s.firstWrong = o.firstWrong
	}
}

// scaleName and scalePort are announcement i of the scale benchmark.
func scaleName(i int) string { return "scale-svc-" + strconv.Itoa(i) }
func scalePort(i int) int    { return 20000 + i }

// lookupOne asks a random live grape once (no retry: one call, one answer)
// for announced name i, or for an absent name when i < 0.
func (c *scaleCluster) lookupOne(i int, out *lookupStats) {
	g := c.pick()
	name := "scale-absent-" + strconv.Itoa(rand.Int())
	if i >= 0 {
		name = scaleName(i)
	}
	t0 := time.Now()
	b, err := call(g.runningGrape, "lookup", name)
	took := time.Since(t0)
	if i < 0 {
		out.absN++
		if err == nil && string(b) == "[]" {
			out.absentOK++
		}
		return
	}
	out.lat = append(out.lat, took)
	switch {
	case err != nil && !c.isLive(g):
		out.killed++
	case err != nil:
		out.errs++
		if out.firstWrong == "" {
			out.firstWrong = err.Error()
		}
	case bytes.Contains(b, []byte(`"127.0.0.1:`+strconv.Itoa(scalePort(i))+`"`)):
		out.ok++
	default:
		out.wrong++
		if out.firstWrong == "" {
			out.firstWrong = fmt.Sprintf("%s on %s: %s", name, g.p.name, b)
		}
	}
}

// lookupPhase runs the jobs (announced index, or -1 for absent) conc at a
// time until done or stop closes.
func (c *scaleCluster) lookupPhase(jobs []int, conc int, stop <-chan struct{}) lookupStats {
	next := make(chan int)
	go func() {
		defer close(next)
		for k := 0; ; k++ {
			if jobs != nil && k == len(jobs) {
				return
			}
			j := rand.IntN(*scaleNames)
			if jobs != nil {
				j = jobs[k]
			}
			select {
			case next <- j:
			case <-stop:
				return
			}
		}
	}()
	var (
		mu  sync.Mutex
		all lookupStats
		wg  sync.WaitGroup
	)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine lookupStats
			for j := range next {
				c.lookupOne(j, &mine)
			}
			mu.Lock()
			all.add(mine)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

// scaleResult is one (implementation, size) row.
type scaleResult struct {
	impl             string
	size             int
	joinP50, joinMax time.Duration
	startAll         time.Duration
	rssMed, rssMax   int // kB per grape
	look             lookupStats
	msgsPerLookup    float64 // -1: not measurable (Node)
	during, after    lookupStats
	churned          int
	err              string
}

// runScaleSize runs the whole scale scenario for one implementation and size.
func runScaleSize(im impl, n int) (res scaleResult) {
	res = scaleResult{impl: im.name, size: n, msgsPerLookup: -1}
	c := &scaleCluster{im: im, boot: *scaleBoot}
	defer c.stop()
	fail := func(err error) scaleResult { res.err = err.Error(); return res }

	progress("scale %s %d: starting grapes", im.name, n)
	t0 := time.Now()
	var joins []time.Duration
	for i := range n {
		g, err := c.start()
		if err != nil {
			return fail(err)
		}
		if i > 0 { // the first grape's bootstrap address is nobody's
			joins = append(joins, g.join)
		}
	}
	res.startAll = time.Since(t0)
	res.joinP50, res.joinMax = pct(joins, 50), pct(joins, 100)
	time.Sleep(2 * time.Second) // let the last joiners' tables fill

	progress("scale %s %d: announcing %d names from random grapes", im.name, n, *scaleNames)
	if err := c.announceRandom(*scaleNames); err != nil {
		return fail(err)
	}

	// Background KRPC traffic (pings, bucket refreshes) over a quiet
	// window, subtracted from the lookup phase's count.
	base0 := c.krpcSent()
	q0 := time.Now()
	time.Sleep(3 * time.Second)
	base1 := c.krpcSent()
	quiet := time.Since(q0)

	progress("scale %s %d: lookups", im.name, n)
	jobs := make([]int, 0, *scaleNames+*scaleAbsent)
	for i := range *scaleNames {
		jobs = append(jobs, i)
	}
	for range *scaleAbsent {
		jobs = append(jobs, -1)
	}
	rand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	s0 := c.krpcSent()
	l0 := time.Now()
	res.look = c.lookupPhase(jobs, *scaleConc, nil)
	took := time.Since(l0)
	s1 := c.krpcSent()
	if base0 >= 0 && base1 >= 0 && s0 >= 0 && s1 >= 0 {
		bg := float64(base1-base0) * took.Seconds() / quiet.Seconds()
		res.msgsPerLookup = max(0, float64(s1-s0)-bg) / float64(len(jobs))
	}
	var rss []int
	for _, g := range c.snapshot() {
		if kb, err := rssKB(g.p.pid()); err == nil {
			rss = append(rss, kb)
		}
	}
	slices.Sort(rss)
	if len(rss) > 0 {
		res.rssMed, res.rssMax = rss[len(rss)/2], rss[len(rss)-1]
	}

	res.churned = max(1, int(float64(n)**scaleChurn))
	progress("scale %s %d: churn (kill %d, start %d) under lookups", im.name, n, res.churned, res.churned)
	stop := make(chan struct{})
	duringc := make(chan lookupStats, 1)
	go func() { duringc <- c.lookupPhase(nil, *scaleConc, stop) }()
	time.Sleep(500 * time.Millisecond)
	victims := c.snapshot()
	rand.Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
	victims = victims[:res.churned]
	c.remove(victims)
	var wg sync.WaitGroup
	for _, v := range victims {
		wg.Add(1)
		go func() { defer wg.Done(); v.p.kill() }()
	}
	wg.Wait()
	var startErr error
	for range res.churned {
		if _, err := c.start(); err != nil {
			startErr = err
			break
		}
	}
	time.Sleep(time.Second)
	close(stop)
	res.during = <-duringc
	if startErr != nil {
		return fail(fmt.Errorf("churn start: %w", startErr))
	}
	progress("scale %s %d: lookups after churn", im.name, n)
	after := make([]int, *scaleNames)
	for i := range after {
		after[i] = i
	}
	res.after = c.lookupPhase(after, *scaleConc, nil)
	return res
}

// announceRandom announces names 0..n-1, each on a random grape, 16 at a time.
func (c *scaleCluster) announceRandom(n int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := announce(c.pick().runningGrape, scaleName(i), scalePort(i)); err != nil {
				mu.Lock()
				first = errors.Join(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// pct is the p-th percentile (nearest rank) of ds; 0 for none.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(len(s)-1, i))]
}

// parseSizes reads a comma-separated list of positive sizes.
func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 2 {
			return nil, fmt.Errorf("bad size %q (want integers >= 2)", f)
		}
		out = append(out, n)
	}
	return out, nil
}
