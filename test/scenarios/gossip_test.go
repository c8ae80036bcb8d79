package scenarios

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/internal/lab"
)

// The gossip scenarios of issue #5. They do not call t.Parallel: a 200 req/s
// client next to the fault scenarios' three clients would starve a 2-core
// machine, and S7 judges request counts of a 2 req/s client that a stall
// would distort. So they run first, one after the other (~75 s together).

// gossipPick returns the short or the full (SCENARIOS_FULL=1) value.
func gossipPick[T any](short, long T) T {
	if os.Getenv("SCENARIOS_FULL") == "1" {
		return long
	}
	return short
}

// gossipWorld starts a 2-grape cluster and 4 workers of service announcing
// to the first grape, visible through the second; it returns both grape
// URLs and the workers (all stopped at the end of the test).
func gossipWorld(ctx context.Context, t *testing.T, service string) (a, b string, ws *lab.Workers) {
	t.Helper()
	gs := grapetest.Cluster(t, 2)
	a, b = gs[0].APIURL(), gs[1].APIURL()
	ws, err := lab.StartWorkers([]string{a}, service, 4, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.Close(); err != nil {
			t.Errorf("closing workers: %v", err)
		}
	})
	if err := ws.WaitVisible(ctx, b); err != nil {
		t.Fatal(err)
	}
	return a, b, ws
}

// gClientRow is one client's line in a scenario table.
func gClientRow(gc *gClient, rate float64, target string, warmed bool) string {
	att, counted := gc.totals()
	pc := gc.count(target)
	gc.mu.Lock()
	req, failed, over := gc.requests, gc.reqFailed, gc.overloaded
	gc.mu.Unlock()
	succ := 100.0
	if req > 0 {
		succ = 100 * float64(req-failed) / float64(req)
	}
	g := "no"
	if gc.g != nil {
		g = "yes"
	}
	after := "–"
	if warmed {
		after = fmt.Sprintf("%d of %d", pc.counted, counted)
	}
	return fmt.Sprintf("| %s | %s | %g | %d | %.2f%% | %d | %d of %d | %s | %d | %s |\n",
		gc.name, g, rate, req+over, succ, att, pc.attempts, att, after, gc.opensTotal(), gossipCounts(gc))
}

const gTableHead = "| client | gossip | req/s | requests | success | attempts | to %s: whole run | after warm-up | breaker opens | gossip pub / recv / applied / rejected |\n" +
	"|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n"

// S7: a busy client (200 req/s) and two quiet clients (2 req/s) share 4
// workers, one of which fails 50% of requests. The quiet client with gossip
// sends at most a third (short run: half) as many requests to the bad
// worker as the quiet client without it, in the same run. Attempts are
// counted after a warm-up: until the quiet client has failed on the bad
// worker itself, hints never stop it from trying a peer (by design, so a
// liar cannot starve a fresh client — S8), and a short run would mostly
// measure that.
//
// One run's verdict is a comparison of two small counts, so it is played in
// a fresh world once more when a bound fails (gossipTries). The per-run
// odds were measured on the same balancer and gossip pipeline in virtual
// time (client/gossip_sim_test.go's world, attempts of 1-2 ms, gossip every
// 1 s, 3000 seeds): the short run gives the quiet clients W (gossip) and X
// (none) attempts at w0 with W median 1 (q99 4) and X median 17 (q0.1% 3),
// and 2W > X in 12 of 3000 (4e-3); the full run W median 4, X median 50,
// 3W > X in 11 of 3000. Both tries fail with P ≈ 1.6e-5 (short) and
// 1.3e-5 (full). A client whose hints change nothing (W and X both
// ~Poisson(17)) passes 2W ≤ X in 3.2% of runs, so two tries still catch it
// in 94% of runs.
func TestScenarioS7GossipQuietClient(t *testing.T) {
	gossipTries(t, playS7)
}

func playS7(t *testing.T) (failed []string) {
	// The short run is 45 s, not 30: its verdict compares attempt counts of
	// 2 req/s clients, and with 22 counted seconds those were 0-6 against
	// 5-13, so a stall on a busy CI machine could flip the 1/3 bound.
	dur := gossipPick(45*time.Second, 120*time.Second)
	warm := gossipPick(10*time.Second, 10*time.Second)
	const service = "s7:gossip"
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	a, b, ws := gossipWorld(ctx, t, service)
	if err := ws.SetFaults(0, lab.Failing(lab.BaseService, 0.5)); err != nil {
		t.Fatal(err)
	}
	bad := ws.Addr(0)

	busy := newGClient(t, "busy", service, true, a)
	quietG := newGClient(t, "quiet with gossip", service, true, b)
	quietP := newGClient(t, "quiet without gossip", service, false, b)
	// The hint channel works before the load starts: each gossiper has
	// applied a message of the other.
	if !gWaitFor(20*time.Second, func() bool {
		return quietG.g.Counters().Applied > 0 && busy.g.Counters().Applied > 0
	}) {
		t.Fatalf("gossipers never heard each other: busy %+v, quiet %+v", busy.g.Counters(), quietG.g.Counters())
	}
	if err := gDriveAll(ctx, service, dur, warm, gLoad{busy, 200}, gLoad{quietG, 2}, gLoad{quietP, 2}); err != nil {
		t.Fatal(err)
	}

	withG, without := quietG.count(bad), quietP.count(bad)
	var s strings.Builder
	fmt.Fprintf(&s, "### S7 a quiet client learns from a busy one\n\n"+
		"4 workers, w0 fails 50%% of requests from the start; a busy client (200 req/s, gossip) and two quiet "+
		"clients (2 req/s, one with gossip, one without), all at once for %v; attempts to w0 counted after a "+
		"%v warm-up.\n\n", dur, warm)
	fmt.Fprintf(&s, gTableHead, "w0 (failing 50%)")
	for _, r := range []struct {
		gc   *gClient
		rate float64
	}{{busy, 200}, {quietG, 2}, {quietP, 2}} {
		s.WriteString(gClientRow(r.gc, r.rate, bad, true))
	}
	// The full run holds the bound, a third. The short run in
	// `make test` holds half: on a quiet machine it gives 0-2 against 8-12,
	// but next to other packages' tests on 2 cores the healthy workers'
	// latencies blur and it gave 6 against 17 — gossip still clearly
	// helps, which is what a regression check has to catch.
	div, bound := gossipPick(int64(2), int64(3)), gossipPick("1/2", "1/3")
	ok := div*withG.counted <= without.counted
	fmt.Fprintf(&s, "\nBounds:\n\n- %s: quiet client with gossip sent w0 %d attempts after the warm-up, without gossip %d (≤ %s required; whole run %d vs %d)\n",
		gMark(ok), withG.counted, without.counted, bound, withG.attempts, without.attempts)
	// Without gossip the quiet client must reach the bad worker at all, or
	// the comparison says nothing.
	power := without.counted >= 3
	fmt.Fprintf(&s, "- %s: without gossip the quiet client still reached w0 (%d ≥ 3 attempts after the warm-up)\n", gMark(power), without.counted)
	heard := quietG.g.Counters().Applied > 0
	writeGossipReport(t, "S7", s.String())
	if !ok {
		failed = append(failed, fmt.Sprintf("S7: with gossip %d attempts to the bad worker, without %d: want at most %s", withG.counted, without.counted, bound))
	}
	if !power {
		failed = append(failed, fmt.Sprintf("S7: without gossip only %d attempts to the bad worker after the warm-up: the run shows nothing", without.counted))
	}
	if !heard {
		failed = append(failed, fmt.Sprintf("S7: the quiet client applied no hints: %+v", quietG.g.Counters()))
	}
	return failed
}

// S8: a client keeps publishing DEGRADED for a healthy worker. Honest
// clients (a quiet one at 2 req/s and a busier one at 50 req/s, both with
// gossip) still give that worker at least half of their fair share, and no
// breaker opens. The load starts only once both have the lie in their hint
// books, so they meet it before they have any evidence of their own.
//
// The quiet client's 40 requests over 20 s give the victim a count whose
// spread, measured on the same balancer and gossip pipeline in virtual
// time (3000 seeds, as for S7), has median 10 of a fair 10, q0.1% 4:
// below half its fair share in 5 of 3000 runs (1.7e-3; the busy client
// never went below 85%). As in S7 a failed bound is played once more in a
// fresh world (gossipTries): both fail with P ≈ 2.8e-6, for 20 s more only
// in the runs that need it. A liar that starves the victim (count near 0)
// fails both.
func TestScenarioS8GossipLiar(t *testing.T) {
	gossipTries(t, playS8)
}

func playS8(t *testing.T) (failed []string) {
	dur := gossipPick(20*time.Second, 60*time.Second)
	const service = "s8:gossip"
	ctx, cancel := context.WithTimeout(context.Background(), dur+2*time.Minute)
	defer cancel()
	a, b, ws := gossipWorld(ctx, t, service)
	victim := ws.Addr(1)

	lr := gStartLiar(t, gNewLink(t, a), service, victim)
	quiet := newGClient(t, "honest quiet", service, true, b)
	busy := newGClient(t, "honest busy", service, true, b)
	lied := func() bool {
		dq, _ := quiet.g.Book().Pressure(victim)
		db, _ := busy.g.Book().Pressure(victim)
		return dq > 0 && db > 0
	}
	if !gWaitFor(20*time.Second, lied) {
		t.Fatalf("the lie never reached the honest clients: liar sent %d, quiet %+v, busy %+v",
			lr.published(), quiet.g.Counters(), busy.g.Counters())
	}
	if err := gDriveAll(ctx, service, dur, 0, gLoad{quiet, 2}, gLoad{busy, 50}); err != nil {
		t.Fatal(err)
	}
	// The liar kept talking to the end: the lie is still in both books.
	stillLying := lied()

	var s strings.Builder
	fmt.Fprintf(&s, "### S8 a lying client cannot starve a healthy worker\n\n"+
		"4 healthy workers; a liar publishes \"w1 DEGRADED, confidence 1\" every %v on the hint channel from its "+
		"own pub/sub publisher (%d messages); two honest clients with gossip, 2 and 50 req/s, for %v, starting "+
		"once both have the lie in their hint books. Counts are over the whole run.\n\n", gossipPublishInterval, lr.published(), dur)
	fmt.Fprintf(&s, gTableHead, "w1 (slandered)")
	s.WriteString(gClientRow(quiet, 2, victim, false))
	s.WriteString(gClientRow(busy, 50, victim, false))
	s.WriteString("\nBounds:\n\n")
	for _, gc := range []*gClient{quiet, busy} {
		att, _ := gc.totals()
		got, fair := gc.count(victim).attempts, float64(att)/4
		ok := float64(got) >= fair/2
		fmt.Fprintf(&s, "- %s: %s gave w1 %d attempts, fair share %.0f (≥ half required: %.1f%% of fair)\n",
			gMark(ok), gc.name, got, fair, 100*float64(got)/max(fair, 1))
		if !ok {
			failed = append(failed, fmt.Sprintf("S8: %s gave the slandered worker %d attempts, fair share %.0f", gc.name, got, fair))
		}
		opens := gc.opensTotal()
		fmt.Fprintf(&s, "- %s: %s breaker opens %d (0 required)\n", gMark(opens == 0), gc.name, opens)
		if opens != 0 {
			failed = append(failed, fmt.Sprintf("S8: %s opened %d breakers", gc.name, opens))
		}
	}
	fmt.Fprintf(&s, "- %s: the lie was still in both hint books at the end\n", gMark(stillLying))
	if !stillLying {
		failed = append(failed, "S8: the lie was gone from the honest clients' books before the end of the run")
	}
	writeGossipReport(t, "S8", s.String())
	return failed
}

// gossipTries plays a gossip scenario in a fresh world (its own subtest,
// whose cleanups stop that world) and, if a bound failed, once more: the
// scenario fails only if both runs do. A bound on small counts that a
// correct client misses in about 3 of 1000 runs (see S7, S8) then misses
// in about 1 in 100000, while a defect that fails most runs still fails
// the test. Setup errors (t.Fatal inside play) fail at once.
func gossipTries(t *testing.T, play func(t *testing.T) []string) {
	const tries = 2
	for try := 1; try <= tries; try++ {
		var failed []string
		t.Run(fmt.Sprintf("run%d", try), func(t *testing.T) {
			failed = play(t)
			if len(failed) > 0 && try < tries {
				t.Logf("a bound failed, playing a fresh world once more: %s", strings.Join(failed, "; "))
				return
			}
			for _, f := range failed {
				t.Error(f)
			}
		})
		if len(failed) == 0 || t.Failed() {
			return
		}
	}
}

// gMark is a bound's verdict word in the report.
func gMark(ok bool) string {
	if ok {
		return "holds"
	}
	return "FAILS"
}
