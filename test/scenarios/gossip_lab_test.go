package scenarios

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/gossip"
	"github.com/grenache-go/grenache/internal/lab"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// The gossip scenarios (S7, S8) need what the lab's runners cannot give:
// each client has its own link and gossip publisher, as separate processes
// would, and is judged on what it sent each worker. So this file has its
// own small client wrapper and open-loop driver; the gossip wiring is the
// library's (gossip.Attach), the workers and grapes are the lab's and
// grapetest's.

// gossipPublishInterval is GOSSIP_PUBLISH_INTERVAL in these tests: 1 s
// instead of the default 5 s, so hints reach the quiet clients within the
// short runs (the decay unit shrinks with it, as it would in production
// with the same setting).
const gossipPublishInterval = time.Second

// gossipTestConfig is the gossip configuration of every client here: the
// defaults but for the publish interval and a loopback listener.
func gossipTestConfig(origin string) gossip.Config {
	c := gossip.DefaultConfig()
	c.Enabled = true
	c.Listen = "127.0.0.1:0"
	c.PublishInterval = gossipPublishInterval
	c.Origin = origin
	return c
}

// gNewLink returns a link over grapes, closed at the end of the test.
func gNewLink(t *testing.T, grapes ...string) *link.Link {
	t.Helper()
	cfg := link.DefaultConfig()
	cfg.Grapes = grapes
	l, err := link.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// gPeerCount is what one client sent one peer.
type gPeerCount struct {
	attempts, failed int64 // whole run
	counted          int64 // attempts after the warm-up
}

// gClient is one client.Client (default config, adaptive) with its own
// link and, optionally, a gossip.Gossiper attached as `client run
// --gossip` attaches it (gossip.Attach); its hooks count what it sent.
type gClient struct {
	name    string
	service string
	c       *client.Client
	g       *gossip.Gossiper // nil without gossip

	mu         sync.Mutex
	countFrom  time.Time // attempts from here on are "counted"
	peers      map[string]*gPeerCount
	opens      map[string]int64
	requests   int64
	reqFailed  int64
	overloaded int64
}

// newGClient builds a client looking up through grapes, with a gossiper
// when withGossip; both are stopped at the end of the test.
func newGClient(t *testing.T, name, service string, withGossip bool, grapes ...string) *gClient {
	t.Helper()
	lk := gNewLink(t, grapes...)
	gc := &gClient{name: name, service: service, peers: map[string]*gPeerCount{}, opens: map[string]int64{}}
	cfg := client.DefaultConfig()
	cfg.Hooks = client.Hooks{OnAttempt: gc.onAttempt, OnBreaker: gc.onBreaker}
	if !withGossip {
		c, err := client.New(lk, cfg)
		if err != nil {
			t.Fatal(err)
		}
		gc.c = c
		t.Cleanup(func() { _ = c.Close() })
		return gc
	}
	g, err := gossip.New(gossipTestConfig(strings.ReplaceAll(name, " ", "-")), service, lk, lk)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossip.Attach(g, lk, cfg)
	if err != nil {
		_ = g.Close()
		t.Fatal(err)
	}
	gc.c, gc.g = c, g
	done := make(chan struct{})
	go func() { defer close(done); _ = g.Run(context.Background()) }()
	t.Cleanup(func() { _ = c.Close() })
	t.Cleanup(func() { _ = g.Close(); <-done }) // before the client closes (cleanups run last first)
	return gc
}

func (gc *gClient) onAttempt(e client.AttemptEvent) {
	if e.Outcome == client.Canceled {
		return
	}
	failed := e.Outcome != client.Success
	gc.mu.Lock()
	defer gc.mu.Unlock()
	pc := gc.peers[e.Addr]
	if pc == nil {
		if len(gc.peers) >= 64 { // addresses come from lookups: bound them
			return
		}
		pc = &gPeerCount{}
		gc.peers[e.Addr] = pc
	}
	pc.attempts++
	if failed {
		pc.failed++
	}
	if !gc.countFrom.IsZero() && !e.At.Before(gc.countFrom) {
		pc.counted++
	}
}

func (gc *gClient) onBreaker(e client.BreakerEvent) {
	if e.From == client.Closed && e.To == client.Open {
		gc.mu.Lock()
		if _, ok := gc.opens[e.Addr]; ok || len(gc.opens) < 64 {
			gc.opens[e.Addr]++
		}
		gc.mu.Unlock()
	}
}

// count returns what the client sent addr.
func (gc *gClient) count(addr string) gPeerCount {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	if pc := gc.peers[addr]; pc != nil {
		return *pc
	}
	return gPeerCount{}
}

// totals returns all attempts and the counted ones, over every peer.
func (gc *gClient) totals() (attempts, counted int64) {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	for _, pc := range gc.peers {
		attempts += pc.attempts
		counted += pc.counted
	}
	return attempts, counted
}

// opensTotal is the number of breaker trips over every peer.
func (gc *gClient) opensTotal() int64 {
	gc.mu.Lock()
	defer gc.mu.Unlock()
	var n int64
	for _, v := range gc.opens {
		n += v
	}
	return n
}

// gLoad is one client's share of a run: rate requests per second.
type gLoad struct {
	gc   *gClient
	rate float64
}

// gDriveAll sends every load's open-loop traffic at once for d (request i of
// a load is due at start + i/rate, each in its own goroutine, at most 512
// outstanding per client, beyond that counted as overloaded), counting
// attempts from start+warm on, and waits for the requests in flight.
func gDriveAll(ctx context.Context, service string, d, warm time.Duration, loads ...gLoad) error {
	for _, l := range loads {
		if err := l.gc.c.Refresh(ctx, service); err != nil {
			return fmt.Errorf("%s: %w", l.gc.name, err)
		}
	}
	start := time.Now().Add(20 * time.Millisecond)
	for _, l := range loads {
		l.gc.mu.Lock()
		l.gc.countFrom = start.Add(warm)
		l.gc.mu.Unlock()
	}
	var wg sync.WaitGroup
	for _, l := range loads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.gc.drive(ctx, service, l.rate, start, d)
		}()
	}
	wg.Wait()
	return ctx.Err()
}

func (gc *gClient) drive(ctx context.Context, service string, rate float64, start time.Time, d time.Duration) {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	sem := make(chan struct{}, 512)
	var wg sync.WaitGroup
	defer wg.Wait()
	payload := []byte(`{"job":"echo"}`)
	for i := range n {
		if !gSleepUntil(ctx, start.Add(time.Duration(i)*interval)) {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			gc.mu.Lock()
			gc.overloaded++
			gc.mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := gc.c.Request(ctx, service, payload)
			gc.mu.Lock()
			gc.requests++
			if err != nil {
				gc.reqFailed++
			}
			gc.mu.Unlock()
		}()
	}
}

// gSleepUntil waits for t or ctx; it reports whether t was reached.
func gSleepUntil(ctx context.Context, t time.Time) bool {
	tm := time.NewTimer(time.Until(t))
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-tm.C:
		return true
	}
}

// gWaitFor polls cond every 50 ms until it holds or timeout passes.
func gWaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// gLiar publishes, every gossipPublishInterval, a well-formed gossip message
// (client/gossip's Composer and encoder) saying victim is DEGRADED with full
// confidence, from a real pub/sub Publisher announced on the service's hint
// channel — what a misbehaving or compromised client could do.
type gLiar struct {
	frames int64
	mu     sync.Mutex
}

// gStartLiar starts the liar on lk; it stops at the end of the test.
func gStartLiar(t *testing.T, lk *link.Link, service, victim string) *gLiar {
	t.Helper()
	cfg := gossipTestConfig("liar")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	comp := gossip.NewComposer(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	port, _ := strconv.Atoi(p)
	pub, err := transport.NewPublisher(transport.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = pub.Serve(ln) }()
	channel := cfg.ChannelFor(service)
	lk.StartAnnouncing(channel, port, time.Second)
	l := &gLiar{}
	ctx, cancel := context.WithCancel(context.Background())
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		tk := time.NewTicker(gossipPublishInterval)
		defer tk.Stop()
		for {
			frame, err := comp.Compose(time.Now(), []gossip.Hint{{Peer: victim, State: gossip.Degraded, Conf: 1}})
			if err != nil {
				t.Errorf("liar: %v", err)
				return
			}
			pub.Publish(frame)
			l.mu.Lock()
			l.frames++
			l.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-ticked
		lk.StopAnnouncing(channel, port)
		sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer scancel()
		if err := pub.Shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("liar publisher shutdown: %v", err)
		}
		<-served
	})
	return l
}

// published returns how many frames the liar sent.
func (l *gLiar) published() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.frames
}

// gossipCounts formats a gossiper's counters for the report ("–" without).
func gossipCounts(gc *gClient) string {
	if gc.g == nil {
		return "–"
	}
	c := gc.g.Counters()
	return fmt.Sprintf("%d / %d / %d / %d", c.Published, c.Received, c.Applied, c.Rejected)
}

var (
	gossipReportMu sync.Mutex
	gossipSections = map[string]string{}
)

// writeGossipReport keeps reports/scenarios-gossip.md whole with every
// gossip scenario finished so far (full mode only: short runs are for the
// bounds, their numbers go to the test log).
func writeGossipReport(t *testing.T, key, text string) {
	t.Log("\n" + text)
	if os.Getenv("SCENARIOS_FULL") != "1" {
		return
	}
	gossipReportMu.Lock()
	defer gossipReportMu.Unlock()
	gossipSections[key] = text
	keys := make([]string, 0, len(gossipSections))
	for k := range gossipSections {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "## Gossip scenarios — full (`make bench-scenarios`)\n\n"+
		"In-process on loopback: a 2-grape Go cluster, 4 Go workers (base service %v + up to %v jitter), "+
		"real client.Clients (client.DefaultConfig, adaptive) each with its own link and, where marked, "+
		"its own gossip.Gossiper over WebSocket pub/sub (GOSSIP_PUBLISH_INTERVAL %v, other gossip settings "+
		"default). Gossip counters are published / received / applied / rejected. Generated %s.\n\n",
		lab.BaseService.Latency, lab.BaseService.Jitter, gossipPublishInterval, time.Now().UTC().Format(time.RFC3339))
	for _, k := range keys {
		b.WriteString(gossipSections[k] + "\n")
	}
	dir := filepath.Join("..", "..", "reports")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Logf("report not written: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "scenarios-gossip.md"), []byte(b.String()), 0o644); err != nil {
		t.Logf("report not written: %v", err)
	}
}
