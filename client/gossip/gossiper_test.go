package gossip

import (
	"context"
	"crypto/ed25519"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/prometheus/client_golang/prometheus"
)

// registry stands in for the grapes: StartAnnouncing makes 127.0.0.1:port
// visible to Lookup at once. The publishers and sockets are real.
type registry struct {
	mu    sync.Mutex
	names map[string]map[string]bool
	stops int
}

func newRegistry() *registry { return &registry{names: map[string]map[string]bool{}} }

func (r *registry) StartAnnouncing(name string, port int, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names[name] == nil {
		r.names[name] = map[string]bool{}
	}
	r.names[name]["127.0.0.1:"+strconv.Itoa(port)] = true
}

func (r *registry) StopAnnouncing(name string, port int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.names[name], "127.0.0.1:"+strconv.Itoa(port))
	r.stops++
}

func (r *registry) Lookup(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for a := range r.names[name] {
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("empty lookup")
	}
	return out, nil
}

// fastConfig is a loopback config with a short publish interval.
func fastConfig(t *testing.T, origin string) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.Origin = origin
	cfg.Listen = "127.0.0.1:0"
	cfg.PublishInterval = 100 * time.Millisecond
	cfg.HintTTL = 5 * time.Second
	return cfg
}

// peerStats is what a client's Stats says of one peer: samples outcomes
// just now, failures of them failed, its breaker in state.
func peerStats(addr string, samples, failures float64, state client.BreakerState) client.PeerStats {
	return client.PeerStats{Addr: addr, Active: true, State: state, Samples: samples, Failures: failures}
}

// observeFixed makes g publish these peer metrics (a client's, given as data).
func observeFixed(t *testing.T, g *Gossiper, stats ...client.PeerStats) {
	t.Helper()
	if !g.observe(func() []client.PeerStats { return stats }) {
		t.Fatal("gossiper already observes a client")
	}
}

// startGossiper runs g until the test ends.
func startGossiper(t *testing.T, g *Gossiper) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- g.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Two gossipers on loopback exchange hints through real WebSocket pub/sub:
// what the busy one learns about a failing peer reaches the quiet one.
func TestTwoGossipersExchangeHints(t *testing.T) {
	reg := newRegistry()
	busy, err := New(fastConfig(t, "busy"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	quiet, err := New(fastConfig(t, "quiet"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	if busy.Channel() != "svc:hints" {
		t.Fatalf("channel %q", busy.Channel())
	}
	startGossiper(t, busy)
	startGossiper(t, quiet)

	bad := "127.0.0.1:7001"
	// The busy client's metrics: one peer failing half its requests, one
	// healthy (hints decay by half every 100 ms here, so they are live).
	observeFixed(t, busy, peerStats(bad, 20, 10, client.Closed), peerStats("127.0.0.1:7002", 20, 0, client.Closed))
	waitFor(t, "the quiet client to be advised against the bad peer", func() bool {
		return quiet.Advise("svc", bad, time.Now()).Weight > 0
	})
	a := quiet.Advise("svc", bad, time.Now())
	if a.FailureRate < 0.39 || a.FailureRate > 0.4 || a.Weight > quiet.cfg.PriorWeight/2 {
		t.Fatalf("one origin advised %+v: want a 40%% failure share worth at most half of PriorWeight", a)
	}
	if a := quiet.Advise("svc", "127.0.0.1:7002", time.Now()); a != (client.HintAdvice{}) {
		t.Fatalf("healthy peer advised %+v", a)
	}
	if a := quiet.Advise("other", bad, time.Now()); a != (client.HintAdvice{}) {
		t.Fatalf("another service's peer advised %+v", a)
	}
	waitFor(t, "counters on both sides", func() bool {
		b, q := busy.Counters(), quiet.Counters()
		return b.Published >= 2 && q.Received >= 2 && q.Applied >= 1 && b.Received >= 1
	})
	if s := quiet.Stats(); s.Own == 0 {
		t.Errorf("quiet never saw its own frames come back (subscribes to itself): %+v", s)
	}
	if c := quiet.Counters(); c.Rejected != 0 {
		t.Errorf("rejected frames between honest gossipers: %+v (%v)", c, quiet.Stats().ByVerdict)
	}
}

// A foreign publisher on the channel sending garbage is ignored and counted.
func TestForeignFramesOnTheChannelAreRejected(t *testing.T) {
	reg := newRegistry()
	g, err := New(fastConfig(t, "me"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	startGossiper(t, g)

	foreign, err := transport.NewPublisher(transport.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ln := listen(t)
	go func() { _ = foreign.Serve(ln) }()
	t.Cleanup(func() { _ = foreign.Shutdown(context.Background()) })
	_, port, _ := splitPort(ln.Addr().String())
	reg.StartAnnouncing("svc:hints", port, time.Second)

	waitFor(t, "the subscriber to connect to the foreign publisher", func() bool { return foreign.Subscribers() > 0 })
	for _, f := range []string{`{"n":3,"hint":"gossip"}`, `not json`, `{"v":1}`} {
		foreign.Publish([]byte(f))
	}
	waitFor(t, "three rejections", func() bool { return g.Counters().Rejected == 3 })
	if s := g.Stats(); s.ByVerdict["malformed"] != 3 || s.Origins != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCloseWithoutRunReleasesThePort(t *testing.T) {
	reg := newRegistry()
	g, err := New(fastConfig(t, "me"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if err := g.Run(context.Background()); err == nil {
		t.Fatal("Run after Close succeeded")
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	reg := newRegistry()
	g, err := New(fastConfig(t, "me"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- g.Run(ctx) }()
	waitFor(t, "the channel to be announced", func() bool {
		a, _ := reg.Lookup(ctx, "svc:hints")
		return len(a) == 1
	})
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if reg.stops != 1 {
		t.Fatalf("StopAnnouncing called %d times", reg.stops)
	}
	_ = g.Close()
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func splitPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	return h, n, err
}

// Signed end to end: with trusted keys set, only the trusted signer's hints
// apply; an unsigned client on the same channel is counted as untrusted.
func TestTrustedKeysOverTheWire(t *testing.T) {
	reg := newRegistry()
	cfgA := fastConfig(t, "signed")
	cfgA.SigningKey = keyN(1)
	cfgB := fastConfig(t, "verifier")
	cfgB.TrustedKeys = []ed25519.PublicKey{pub(keyN(1))}
	a, err := New(cfgA, "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(cfgB, "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(fastConfig(t, "unsigned"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range []*Gossiper{a, b, c} {
		startGossiper(t, g)
	}
	waitFor(t, "b to apply a and reject c", func() bool {
		s := b.Stats()
		return s.Applied >= 2 && s.ByVerdict["untrusted"] >= 2
	})
	if s := b.Stats(); s.Origins != 1 || s.ByVerdict["bad_signature"] != 0 {
		t.Fatalf("b: %+v", s)
	}
}

func TestCollectorReportsTheCounters(t *testing.T) {
	reg := newRegistry()
	g, err := New(fastConfig(t, "me"), "svc", reg, reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	g.book.Ingest("x", []byte("garbage"))
	g.published.Add(3)
	r := prometheus.NewPedanticRegistry()
	if err := r.Register(g.Collector()); err != nil {
		t.Fatal(err)
	}
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	series := map[string]int{}
	for _, mf := range mfs {
		series[mf.GetName()] = len(mf.GetMetric())
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() != "svc:hints" {
				t.Errorf("%s has labels %v", mf.GetName(), m.GetLabel())
			}
			if m.Counter != nil && len(m.GetLabel()) == 1 {
				got[mf.GetName()] = m.GetCounter().GetValue()
			}
		}
	}
	if got["grenache_client_gossip_published_total"] != 3 || got["grenache_client_gossip_rejected_total"] != 1 ||
		got["grenache_client_gossip_received_total"] != 1 || got["grenache_client_gossip_applied_total"] != 0 {
		t.Fatalf("counters %v", got)
	}
	if series["grenache_client_gossip_frames_total"] != int(numVerdicts) {
		t.Fatalf("frames_total has %d series, want one per verdict", series["grenache_client_gossip_frames_total"])
	}
}
