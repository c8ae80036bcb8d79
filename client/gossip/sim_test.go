package gossip

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// This file runs the scenarios of issue #5 (S7, S8) against a small model
// of the adaptive picker, with the real gossip pipeline (Recorder → Assess
// → Composer → wire → Book → NudgeLocal) in virtual time. The model picker
// is P2C over cost = (1 + penalty·errEWMA) × nudge with the client's
// defaults (tolerance 0.15, freshness probe after 2 s idle, failure penalty
// 10 × error weight 0.6, EWMA alpha 0.1), plus the integration rule
// proposed for client/: the freshness probe is skipped when gossip's
// Advice says DeferProbe (own record failing, remote hints agree).

const (
	simTol       = 0.15
	simProbe     = 2 * time.Second
	simPenalty   = 10 * 0.6
	simAlpha     = 0.1
	simStep      = 5 * time.Millisecond
	simDuration  = 120 * time.Second
	simWarmup    = 10 * time.Second
	simBadFailPr = 0.5
)

var simWorkers = []string{"10.0.0.1:1001", "10.0.0.2:1002", "10.0.0.3:1003", "10.0.0.4:1004"}

type simPeer struct {
	err               float64
	lastPick, lastRec time.Time
}

type simClient struct {
	name   string
	rate   float64 // requests per second
	acc    float64
	gossip bool
	liar   string // when set, publishes DEGRADED about this peer and sends nothing

	peers   map[string]*simPeer
	rec     *Recorder
	book    *Book
	comp    *Composer
	sent    map[string]int // requests per worker after warm-up
	total   int
	rng     *rand.Rand
	nextPub time.Time
}

func newSimClient(t testing.TB, clk *fakeClock, name string, rate float64, gossip bool, seed uint64) *simClient {
	cfg := DefaultConfig()
	cfg.Origin = name
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	c := &simClient{name: name, rate: rate, gossip: gossip, peers: map[string]*simPeer{},
		rec: NewRecorder(cfg), book: NewBook(cfg, clk.Now), comp: NewComposer(cfg),
		sent: map[string]int{}, rng: rand.New(rand.NewPCG(seed, 7))}
	for _, w := range simWorkers {
		c.peers[w] = &simPeer{}
	}
	return c
}

func (c *simClient) advise(p string, now time.Time) Advice {
	if !c.gossip {
		return Advice{Factor: 1}
	}
	sp := c.peers[p]
	l := Local{Age: NoLocalEvidence, FailureRate: -1}
	if !sp.lastRec.IsZero() {
		l = Local{Age: now.Sub(sp.lastRec), FailureRate: sp.err}
	}
	return c.book.Advise(p, l)
}

func (c *simClient) pick(now time.Time) string {
	i := c.rng.IntN(len(simWorkers))
	j := c.rng.IntN(len(simWorkers) - 1)
	if j >= i {
		j++
	}
	x, y := simWorkers[i], simWorkers[j]
	ax, ay := c.advise(x, now), c.advise(y, now)
	for _, p := range []struct {
		addr string
		a    Advice
	}{{x, ax}, {y, ay}} {
		if now.Sub(c.peers[p.addr].lastPick) >= simProbe && !p.a.DeferProbe {
			return p.addr
		}
	}
	cx := (1 + simPenalty*c.peers[x].err) * ax.Factor
	cy := (1 + simPenalty*c.peers[y].err) * ay.Factor
	if math.Abs(cx-cy) <= simTol*math.Max(cx, cy) {
		if c.peers[x].lastPick.Before(c.peers[y].lastPick) {
			return x
		}
		return y
	}
	if cx < cy {
		return x
	}
	return y
}

// simRun drives the clients for simDuration; bad fails half its requests.
func simRun(t testing.TB, clk *fakeClock, clients []*simClient, bad string) {
	simRunUntil(t, clk, clients, bad, simDuration, nil)
}

// simRunUntil is simRun where bad recovers after badFor, and tick (if set)
// is called every step with the elapsed time.
func simRunUntil(t testing.TB, clk *fakeClock, clients []*simClient, bad string, badFor time.Duration, tick func(time.Duration)) {
	start := clk.Now()
	rng := rand.New(rand.NewPCG(42, 42))
	for now := start; now.Sub(start) < simDuration; now = now.Add(simStep) {
		clk.t = now
		if tick != nil {
			tick(now.Sub(start))
		}
		for _, c := range clients {
			if c.liar == "" {
				c.acc += c.rate * simStep.Seconds()
				for ; c.acc >= 1; c.acc-- {
					p := c.pick(now)
					sp := c.peers[p]
					sp.lastPick = now
					failed := p == bad && now.Sub(start) < badFor && rng.Float64() < simBadFailPr
					f := 0.0
					if failed {
						f = 1
					}
					sp.err += simAlpha * (f - sp.err)
					sp.lastRec = now
					if c.gossip {
						c.rec.Record(p, failed, now)
					}
					if now.Sub(start) >= simWarmup {
						c.sent[p]++
						c.total++
					}
				}
			}
			if !c.gossip || now.Before(c.nextPub) {
				continue
			}
			c.nextPub = now.Add(c.rec.cfg.PublishInterval)
			hs := c.rec.Hints(now)
			if c.liar != "" {
				hs = nil
				for _, w := range simWorkers {
					st := Healthy
					if w == c.liar {
						st = Degraded
					}
					hs = append(hs, Hint{Peer: w, State: st, Conf: 1})
				}
			}
			frame, err := c.comp.Compose(now, hs)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range clients {
				if o.gossip && o.liar == "" {
					o.book.Ingest(c.name, frame)
				}
			}
		}
	}
}

// S7: a busy client (200 req/s) and two quiet clients (2 req/s) share 4
// workers, one failing 50%: the quiet client with gossip sends at most a
// third as many requests to the bad worker as the quiet client without.
func TestSimS7QuietClientLearnsFromBusyOne(t *testing.T) {
	bad := simWorkers[0]
	for seed := range uint64(3) {
		clk := newClock()
		busy := newSimClient(t, clk, "busy", 200, true, seed*10+1)
		withG := newSimClient(t, clk, "quiet-gossip", 2, true, seed*10+2)
		without := newSimClient(t, clk, "quiet-plain", 2, false, seed*10+3)
		simRun(t, clk, []*simClient{busy, withG, without}, bad)
		t.Logf("seed %d: bad worker got %d/%d from the quiet client with gossip, %d/%d without; busy %d/%d",
			seed, withG.sent[bad], withG.total, without.sent[bad], without.total, busy.sent[bad], busy.total)
		if 3*withG.sent[bad] > without.sent[bad] {
			t.Errorf("seed %d: with gossip %d, without %d: want at most a third", seed, withG.sent[bad], without.sent[bad])
		}
	}
}

// S8: a client keeps publishing DEGRADED for a healthy worker: honest
// clients, quiet or busy, still give that worker at least half its fair share.
func TestSimS8LiarCannotStarveAHealthyWorker(t *testing.T) {
	victim := simWorkers[1]
	for _, rate := range []float64{2, 50} {
		for seed := range uint64(3) {
			clk := newClock()
			liar := newSimClient(t, clk, "liar", 0, true, seed*10+1)
			liar.liar = victim
			honest := newSimClient(t, clk, "honest", rate, true, seed*10+2)
			simRun(t, clk, []*simClient{liar, honest}, "")
			fair := float64(honest.total) / float64(len(simWorkers))
			t.Logf("rate %v seed %d: victim got %d of %d (fair %.0f)", rate, seed, honest.sent[victim], honest.total, fair)
			if float64(honest.sent[victim]) < fair/2 {
				t.Errorf("rate %v seed %d: victim got %d, fair share %.0f", rate, seed, honest.sent[victim], fair)
			}
		}
	}
}

// Deferred probes are not a life sentence: once the bad worker recovers,
// the busy client's hints turn HEALTHY and the quiet client goes back to it.
func TestSimRecoveredWorkerComesBack(t *testing.T) {
	bad := simWorkers[0]
	clk := newClock()
	busy := newSimClient(t, clk, "busy", 200, true, 1)
	quiet := newSimClient(t, clk, "quiet-gossip", 2, true, 2)
	var before, total int
	simRunUntil(t, clk, []*simClient{busy, quiet}, bad, 50*time.Second, func(el time.Duration) {
		if el == 90*time.Second {
			before, total = quiet.sent[bad], quiet.total
		}
	})
	last := quiet.sent[bad] - before
	fair := float64(quiet.total-total) / float64(len(simWorkers))
	t.Logf("last 30 s after recovery: bad worker got %d of %d from the quiet client (fair %.0f)", last, quiet.total-total, fair)
	if float64(last) < fair/2 {
		t.Fatalf("recovered worker got %d, fair %.0f", last, fair)
	}
}
