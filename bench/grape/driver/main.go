// Command driver runs the grape benchmark for scripts/bench-grape.sh: a
// 2-grape Go cluster against a 2-grape Node cluster (grenache-grape 1.0.0)
// and a bare net/http ceiling, all driven by the same closed-loop load
// generator (bench/grape/loadgen), servers pinned to one CPU and the load
// to the other. It also measures RSS, how fast a new announcement becomes
// visible under load, and lookups after one grape of five is killed, and
// prints a markdown report (also written to -out).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// namePrefix is the benchmark's service-name prefix (names are <prefix>%04d).
const namePrefix = "bench-svc-"

// reannounceEvery keeps the benchmark names well inside their shortest
// lifetime (2/3 of --dpa 120000 = 80 s), allowing for one point's length.
const reannounceEvery = 40 * time.Second

// config holds the driver's flags.
type config struct {
	grapeBin, loadgenBin, bareBin, nodeDir string
	serverCPU, loadCPU                     string
	warmup, dur                            time.Duration
	concs                                  []int
	names, reps                            int
	out, command                           string
	only                                   map[string]bool // phases to run; empty = all
}

// want reports whether a phase ("node", "go", "bare", "kill") should run.
func (c *config) want(phase string) bool { return len(c.only) == 0 || c.only[phase] }

func main() {
	var c config
	var concs string
	flag.StringVar(&c.grapeBin, "grape", "bin/grape", "Go grape binary (go build -o bin/grape ./cmd/grape)")
	flag.StringVar(&c.loadgenBin, "loadgen", "bin/grape-loadgen", "load generator binary")
	flag.StringVar(&c.bareBin, "bare", "bin/grape-bare", "bare net/http ceiling binary")
	flag.StringVar(&c.nodeDir, "node-dir", "test/interop/node", "directory holding the pinned Node packages")
	flag.StringVar(&c.serverCPU, "server-cpu", "1", "CPU list the grapes and the bare server are pinned to")
	flag.StringVar(&c.loadCPU, "load-cpu", "0", "CPU list the load generator is pinned to")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "warm-up per point (discarded)")
	flag.DurationVar(&c.dur, "d", 5*time.Second, "measured time per point")
	flag.StringVar(&concs, "conc", "1,8,64", "concurrency levels")
	flag.IntVar(&c.names, "names", 1000, "rotating names")
	flag.IntVar(&c.reps, "reps", 3, "repetitions of every point (interleaved); the median is reported")
	flag.StringVar(&c.out, "out", "reports/bench-grape.md", "markdown report file")
	flag.StringVar(&c.command, "command", "bash scripts/bench-grape.sh", "command shown in the report")
	only := flag.String("only", "", "comma-separated phases to run (node,go,bare,kill); default all")
	mode := flag.String("mode", "lookup", "benchmark: lookup (bench-grape), announce (bench-announce) or scale (bench-scale)")
	flag.Parse()
	c.only = map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.only[p] = true
		}
	}
	for _, s := range strings.Split(concs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "driver: bad -conc %q\n", concs)
			os.Exit(2)
		}
		c.concs = append(c.concs, n)
	}

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stopAll()
		os.Exit(130)
	}()
	if *mode != "lookup" {
		os.Exit(c.runMode(*mode))
	}
	rep, err := c.run()
	stopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver:", err)
		os.Exit(1)
	}
	md := rep.markdown(&c)
	fmt.Print(md)
	if c.out != "" {
		if err := os.MkdirAll(dirOf(c.out), 0o755); err == nil {
			err = os.WriteFile(c.out, []byte(md), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "driver: write report:", err)
			os.Exit(1)
		}
	}
}

func dirOf(p string) string {
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "."
}

// point is one (target, names, concurrency) measurement.
type point struct {
	target string // "node", "go", "bare"
	names  int
	conc   int
	res    loadResult
}

// report collects everything the markdown needs.
type report struct {
	start, end         time.Time
	loadStart, loadEnd string
	points             []point
	rssIdle, rssPeak   map[string][]int // impl -> kB per grape (grape 1 takes the load)
	fresh              map[string]freshResult
	kill               map[string]killResult
}

func (c *config) run() (*report, error) {
	rep := &report{start: time.Now(), loadStart: loadavg(),
		rssIdle: map[string][]int{}, rssPeak: map[string][]int{},
		fresh: map[string]freshResult{}, kill: map[string]killResult{}}
	impls := []impl{nodeImpl(c.nodeDir, c.serverCPU), goImpl(c.grapeBin, c.serverCPU)}

	// Every server is up at once and the points are interleaved (node, go,
	// bare for each (names, conc), repeated): the machine is shared, and
	// interleaving spreads any slow phase over all three columns instead
	// of biasing one. Idle servers on the server CPU cost next to nothing.
	targets := map[string]string{} // target -> /lookup URL of the loaded grape
	var order []string
	clusters := map[string][]*runningGrape{}
	defer func() {
		for _, gs := range clusters {
			stopCluster(gs)
		}
	}()
	for _, im := range impls {
		if !c.want(im.name) {
			continue
		}
		gs, err := c.setupImpl(rep, im)
		clusters[im.name] = gs
		if err != nil {
			return nil, fmt.Errorf("%s: %w", im.name, err)
		}
		targets[im.name] = gs[0].api + "/lookup"
		order = append(order, im.name)
	}
	serverPids := map[string][]int{} // target -> its server processes
	if c.want("bare") {
		url, pid, err := c.startBare()
		if err != nil {
			return nil, fmt.Errorf("bare: %w", err)
		}
		targets["bare"] = url
		serverPids["bare"] = []int{pid}
		order = append(order, "bare")
	}
	var pids []int
	for _, name := range order {
		for _, g := range clusters[name] {
			pids = append(pids, g.p.pid())
			serverPids[name] = append(serverPids[name], g.p.pid())
		}
	}
	// Announcements live 80-160 s (--dpa 120000) and the matrix takes
	// minutes, so the names are re-announced between points (never inside
	// a measured window), like services that announce periodically.
	announced := map[string]time.Time{}
	for name := range clusters {
		announced[name] = time.Now()
	}
	sampler := sampleRSS(pids...)
	for rep1 := 1; rep1 <= c.reps; rep1++ {
		for _, names := range []int{1, c.names} {
			for _, conc := range c.concs {
				for _, target := range order {
					if gs := clusters[target]; gs != nil && time.Since(announced[target]) > reannounceEvery {
						if err := announceAll(gs[0], namePrefix, c.names, 10000); err != nil {
							sampler.stop()
							return nil, fmt.Errorf("%s re-announce: %w", target, err)
						}
						announced[target] = time.Now()
					}
					progress("rep %d/%d %s: /lookup names=%d conc=%d", rep1, c.reps, target, names, conc)
					r, err := c.runLoad(loadSpec{url: targets[target], conc: conc, names: names, warmup: c.warmup, dur: c.dur, cpuOf: serverPids[target]})
					if err != nil {
						sampler.stop()
						return nil, fmt.Errorf("%s: %w", target, err)
					}
					rep.points = append(rep.points, point{target: target, names: names, conc: conc, res: r})
				}
			}
		}
	}
	for _, im := range impls {
		if gs := clusters[im.name]; gs != nil {
			if err := announceAll(gs[0], namePrefix, c.names, 10000); err != nil {
				sampler.stop()
				return nil, fmt.Errorf("%s re-announce: %w", im.name, err)
			}
			progress("%s: fresh announcements under load", im.name)
			fr, err := c.freshUnderLoad(gs, 5)
			if err != nil {
				sampler.stop()
				return nil, fmt.Errorf("%s fresh: %w", im.name, err)
			}
			rep.fresh[im.name] = fr
		}
	}
	peaks := sampler.stop()
	for _, name := range order {
		for _, g := range clusters[name] {
			rep.rssPeak[name] = append(rep.rssPeak[name], peaks[g.p.pid()])
		}
		stopCluster(clusters[name])
	}
	stopAll() // the bare server

	for _, im := range impls {
		if !c.want("kill") {
			break
		}
		progress("%s: kill one grape of five", im.name)
		k, err := c.killOneOfFive(im, 4)
		if err != nil {
			return nil, fmt.Errorf("%s kill test: %w", im.name, err)
		}
		rep.kill[im.name] = k
	}
	rep.end, rep.loadEnd = time.Now(), loadavg()
	return rep, nil
}

// setupImpl starts one implementation's 2-grape cluster, announces the
// benchmark names through grape 1 and records the idle RSS.
func (c *config) setupImpl(rep *report, im impl) ([]*runningGrape, error) {
	progress("%s: starting 2 grapes", im.name)
	gs, err := startCluster(im, 2)
	if err != nil {
		return gs, err
	}
	progress("%s: announcing %d names", im.name, c.names)
	if err := announceAll(gs[0], namePrefix, c.names, 10000); err != nil {
		return gs, err
	}
	for _, i := range []int{0, c.names / 2, c.names - 1} {
		if ok, err := lookupHas(gs[1], benchName(namePrefix, i), 10000+i); err != nil || !ok {
			return gs, fmt.Errorf("announced name %d not visible on grape 2 (%v)", i, err)
		}
	}
	time.Sleep(time.Second)
	for _, g := range gs {
		kb, err := rssKB(g.p.pid())
		if err != nil {
			return gs, err
		}
		rep.rssIdle[im.name] = append(rep.rssIdle[im.name], kb)
	}
	return gs, nil
}

// startBare starts the ceiling server and returns its URL and pid.
func (c *config) startBare() (string, int, error) {
	port, err := freePort("tcp")
	if err != nil {
		return "", 0, err
	}
	p, err := startProc("bare", c.serverCPU, "", []string{"GOMAXPROCS=1"}, c.bareBin, "-addr", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return "", 0, err
	}
	time.Sleep(300 * time.Millisecond)
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/lookup", p.pid(), nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
