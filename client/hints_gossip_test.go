package client

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client/gossip"
)

// The gossip scenarios of issue #5 against the real balancer: the whole
// gossip pipeline (Recorder fed by the hooks → Assess → Composer → wire
// frame → Book → Advise) in virtual time, frames handed between clients
// instead of over pub/sub (the pub/sub path has its own tests).

var simBase = time.UnixMilli(1_800_000_000_000)

type simGossipClient struct {
	name  string
	rate  float64
	acc   float64
	b     *balancer
	s     *service
	rec   *gossip.Recorder
	book  *gossip.Book
	comp  *gossip.Composer
	liar  string // publishes DEGRADED for this peer and sends nothing
	sent  map[string]int
	total int
	next  time.Time
}

// bookHints adapts a gossip book and recorder to HintSource; the time comes
// from the book's own (virtual) clock, as the balancer's wall time is real.
type bookHints struct {
	rec  *gossip.Recorder
	book *gossip.Book
	now  func() time.Time
}

func (h bookHints) Advise(_, addr string, _ time.Time) HintAdvice {
	now := h.now()
	a := h.book.AdviseAt(addr, h.rec.Local(addr, now), now)
	return HintAdvice{Factor: a.Factor, DeferProbe: a.DeferProbe}
}

func newSimGossipClient(t *testing.T, clk *testClock, name string, rate float64, withGossip bool, seed uint64) *simGossipClient {
	now := func() time.Time { return simBase.Add(time.Duration(clk.t)) }
	gcfg := gossip.DefaultConfig()
	gcfg.Origin = name
	if err := gcfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &simGossipClient{name: name, rate: rate, sent: map[string]int{},
		rec: gossip.NewRecorder(gcfg), book: gossip.NewBook(gcfg, now), comp: gossip.NewComposer(gcfg)}
	cfg := DefaultConfig()
	r := rand.New(rand.NewPCG(seed, 99))
	cfg.rand = r.Float64
	cfg.now = clk.now
	if withGossip {
		cfg.Hints = bookHints{c.rec, c.book, now}
		cfg.Hooks.OnAttempt = func(e AttemptEvent) {
			if e.Outcome != Canceled {
				c.rec.Record(e.Addr, e.Outcome != Success, now())
			}
		}
		cfg.Hooks.OnBreaker = func(e BreakerEvent) { c.rec.SetBroken(e.Addr, e.To != Closed, now()) }
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c.b = newBalancer(cfg)
	c.s = newService("svc")
	c.s.update(addrs(4), cfg.MaxPeers, clk.now())
	if !withGossip {
		c.rec, c.book = nil, nil
	}
	return c
}

// runGossipSim runs clients for 120 s of virtual time (10 s warm-up not
// counted); bad fails half its requests.
func runGossipSim(t *testing.T, clk *testClock, clients []*simGossipClient, bad string) {
	const step = 5 * time.Millisecond
	rng := rand.New(rand.NewPCG(5, 5))
	start := clk.t
	for clk.t-start < int64(120*time.Second) {
		clk.advance(step)
		now := simBase.Add(time.Duration(clk.t))
		counted := clk.t-start >= int64(10*time.Second)
		for _, c := range clients {
			c.acc += c.rate * step.Seconds()
			for ; c.acc >= 1; c.acc-- {
				tk, ok := c.b.pick(c.s, nil)
				if !ok {
					t.Fatal("no pick")
				}
				o := Success
				if tk.p.addr == bad && rng.Float64() < 0.5 {
					o = RemoteError
				}
				c.b.record(tk, o)
				if counted {
					c.sent[tk.p.addr]++
					c.total++
				}
			}
			if c.rec == nil || now.Before(c.next) {
				continue
			}
			c.next = now.Add(5 * time.Second)
			hs := c.rec.Hints(now)
			if c.liar != "" {
				hs = []gossip.Hint{{Peer: c.liar, State: gossip.Degraded, Conf: 1}}
			}
			frame, err := c.comp.Compose(now, hs)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range clients {
				if o != c && o.book != nil {
					o.book.Ingest(c.name, frame)
				}
			}
		}
	}
}

// S7: a busy client (200 req/s) and two quiet ones (2 req/s) share 4
// workers, one failing 50%: the quiet client with gossip sends at most a
// third as many requests to the bad worker as the quiet client without.
func TestGossipS7QuietClientLearnsFromBusyOne(t *testing.T) {
	bad := addrs(4)[0]
	for seed := range uint64(3) {
		clk := &testClock{t: int64(time.Hour)}
		busy := newSimGossipClient(t, clk, "busy", 200, true, seed*10+1)
		withG := newSimGossipClient(t, clk, "quiet-gossip", 2, true, seed*10+2)
		plain := newSimGossipClient(t, clk, "quiet-plain", 2, false, seed*10+3)
		runGossipSim(t, clk, []*simGossipClient{busy, withG, plain}, bad)
		t.Logf("seed %d: bad worker got %d/%d from the quiet client with gossip, %d/%d without (busy: %d/%d)",
			seed, withG.sent[bad], withG.total, plain.sent[bad], plain.total, busy.sent[bad], busy.total)
		if 3*withG.sent[bad] > plain.sent[bad] {
			t.Errorf("seed %d: with gossip %d, without %d: want at most a third", seed, withG.sent[bad], plain.sent[bad])
		}
	}
}

// S8: a client keeps publishing DEGRADED for a healthy worker: an honest
// client (quiet or busy) still gives it at least half its fair share.
func TestGossipS8LiarCannotStarveAHealthyWorker(t *testing.T) {
	victim := addrs(4)[1]
	for _, rate := range []float64{2, 50} {
		for seed := range uint64(3) {
			clk := &testClock{t: int64(time.Hour)}
			liar := newSimGossipClient(t, clk, "liar", 0, true, seed*10+1)
			liar.liar = victim
			honest := newSimGossipClient(t, clk, "honest", rate, true, seed*10+2)
			runGossipSim(t, clk, []*simGossipClient{liar, honest}, "")
			fair := float64(honest.total) / 4
			t.Logf("rate %v seed %d: victim got %d of %d (fair %.0f)", rate, seed, honest.sent[victim], honest.total, fair)
			if float64(honest.sent[victim]) < fair/2 {
				t.Errorf("rate %v seed %d: victim got %d, fair %.0f", rate, seed, honest.sent[victim], fair)
			}
			for _, p := range honest.s.snapshot() {
				if p.br.state() != Closed {
					t.Errorf("breaker of %s is %v", p.addr, p.br.state())
				}
			}
		}
	}
}
