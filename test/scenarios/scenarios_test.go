package scenarios

import (
	"fmt"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/internal/lab"
)

// Bounds from issue #4. They apply to the adaptive client; round-robin and
// random run beside it as baselines and are reported, not judged. Every
// bound is a ratio within one run or a count, never an absolute time.
const (
	// Adaptive p50 / round-robin p50, both over the same 600 requests (10 s
	// at 60 req/s) to the same workers at the same time. Service time is
	// 1 ms + U(0, 1 ms) jitter, so the sample median's standard error is
	// about J/(2√n) = 1 ms/(2·√600) = 0.020 ms per client, 0.029 ms for the
	// difference: σ ≈ 1% of the 2.9 ms p50, so 1.10 is 10σ above 1.0
	// (normal tail P < 1e-9). Measured over 13 runs: 0.994-1.018 (sd 0.008).
	// It catches a picker that prefers slower peers or queues requests on
	// one (the ratio of a client piling onto one worker's queue is > 1.3).
	s0MaxP50Ratio = 1.10
	// Busiest / idlest peer: the tolerance. On its own it is not a
	// bound one can judge at 600 requests: uniform random picking exceeds it
	// in 41% of runs (simulated, 10^6 multinomial(600, 1/5) draws; q99.9 of
	// the ratio is 1.67), and the adaptive client, whose least-recently-
	// picked tie-break shares like round robin only while every cost stays
	// inside the balance band, drifts by as much on a loaded box (1.379 seen).
	s0MaxImbalance = 1.25
	// So the ratio only fails S0 if the counts are also uneven beyond what
	// the sample explains: Pearson's χ² of the per-peer attempt counts
	// against equal shares, 4 degrees of freedom over 5 peers. For even
	// independent picks P(χ²₄ > x) = e^(-x/2)(1 + x/2), 4.99e-4 at x = 20
	// (simulated at n = 600: P(χ² > 18.47) = 1.04e-3 against the 1.0e-3 of
	// the formula, so the approximation holds at this size). The adaptive
	// client is less dispersed than that: χ² 0.2-4.7 over 13 runs, mean 1.8
	// (2.9 over 4 runs on a host loaded by other jobs, one of them at
	// busiest/idlest 1.290; random: mean 3.5), and the real balancer in
	// virtual time gives q99.9 4.4 over 2000 seeds. At 600 requests χ² > 20 takes one peer at ≥ 27.3% or
	// ≤ 12.7% of attempts (a picker herding onto the fastest peer, or starving
	// one); at 12000 (full mode) the 1.25 ratio is the binding side.
	s0MaxChi2  = 20.0
	s0MaxNoise = 4.0 // machine noise (attempt p99 / p50) beyond which S0 is not judged
	// S1 over the 840 requests of the slow phase: ≤ 16 attempts at the slow
	// worker (share), and < 9 slow requests, or the p99 is one (ratio:
	// round-robin's p99 is the slow worker's ~52 ms, a quarter is 13 ms).
	// The real balancer in virtual time (open loop 60 req/s, service
	// 1.5 ms + U(0, 1 ms), w1 +50 ms after 3 s; 2000 seeds, throwaway
	// program) sent it 2-3 attempts in every seed: no seed near either
	// bound. Full live runs: 0.06-0.08%. They catch a client that keeps
	// probing a slow peer (the 1 s freshness probe alone gave 1.7%).
	s1MaxSlowShare = 0.02
	s1MaxP99Ratio  = 0.25 // adaptive p99 / round-robin p99
	// S2: a request fails only if every attempt does, and the retry after
	// a failure at w2 goes to an untried, healthy peer, so a correct client
	// loses none (1 of 1020 allowed, for a stall past the attempt timeout).
	// Extra attempts are those at w2 that fail: 1.1 needs 102 of them,
	// ~40× the 2-9 measured (1.002-1.009 attempts/request).
	s2MinSuccess  = 0.999
	s2MaxAttempts = 1.1
	// S3: the p99 of ~1000 requests with an exponential-like tail has a
	// relative standard error of about √(0.99/(0.01·n))/ln(100) ≈ 7%, 10%
	// for a ratio of two, so 2.0 is ~10σ above 1 (measured 0.16-0.46). It
	// fails when ≥ 1% of requests meet the black hole (each waits 1.25 s).
	s3MinSuccess    = 0.999
	s3MaxP99Healthy = 2.0 // fault p99 / healthy p99
	// S4: once w1 is back in the rotation it gets Binomial(60, 1/5) attempts
	// a second, below half its fair share (6) with P ≈ 2.5%; recovery was
	// 2-3 s, so 10 s needs 7 such seconds in a row (P ≈ 1e-11) from a
	// correct client and catches one that ramps a returned peer too slowly
	// or never.
	s4MinSuccess   = 0.999
	s4MaxRecovery  = 10 * time.Second
	s4MinFairShare = 0.5
	// S5: 3 of 720 failures allowed; as in S2 a retry leaves the failing
	// peer; the full run measured 100% and 1.002 attempts/request.
	s5MinSuccess  = 0.995
	s5MaxAttempts = 1.2
	// S1 and S3: the adaptive hedge (issue #14 point 7) fires when an
	// attempt outlasts the service's p99, so on a steady machine about 1%
	// of requests get a second copy, plus the few that meet the fault
	// (S1: the 2-4 detection attempts at the slow worker; S3: the black
	// hole's attempts before its breaker opens, ~15). Over the ~840-1020
	// requests of a short fault phase the hedges are about Binomial(n,
	// 0.01): mean 10, sd 3.2, so 1.05 (42-51 extra attempts with the
	// fault's 15) is > 8σ above a correct client (P < 1e-15). It fails
	// when hedges fire far more often than the p99 allows (a delay stuck
	// low) or a hedge is sent at every pick of the faulty worker.
	// p99.9 is reported, not bounded: over 1000 requests it is the single
	// worst, not a statistic a short run can judge.
	tailMaxAttempts = 1.05
)

// checkSuccess checks a window against a success bound. The failures the
// bound allows are computed from the window's size, so a short run judges
// the same rate as a full one.
func (s *section) checkSuccess(w lab.Window, minRate float64, where string) {
	s.t.Helper()
	allowed := int64(float64(w.Requests) * (1 - minRate) * (1 + 1e-9))
	s.check(w.Failed <= allowed, "success %.3f%% ≥ %.1f%%%s (%d of %d failed, %d allowed)",
		100*w.SuccessRate(), 100*minRate, where, w.Failed, w.Requests, allowed)
}

// chiSquareEven is Pearson's χ² statistic of the window's attempts per peer
// over addrs against equal shares (len(addrs)-1 degrees of freedom).
func chiSquareEven(w lab.Window, addrs []string) float64 {
	var total int64
	for _, a := range addrs {
		total += w.PeerAttempts[a]
	}
	if total == 0 {
		return 0
	}
	want := float64(total) / float64(len(addrs))
	var chi2 float64
	for _, a := range addrs {
		d := float64(w.PeerAttempts[a]) - want
		chi2 += d * d / want
	}
	return chi2
}

// checkAttempts checks a window's attempts per logical request.
func (s *section) checkAttempts(w lab.Window, max float64) {
	s.t.Helper()
	s.check(w.AttemptsPerRequest() <= max, "attempts/request %.3f ≤ %g", w.AttemptsPerRequest(), max)
}

func adaptiveRun(t *testing.T, res *lab.Result) *lab.RunResult {
	t.Helper()
	r := res.Run(client.StrategyAdaptive)
	if r == nil {
		t.Fatal("no adaptive run")
	}
	return r
}

// from is the window from the named phase to the end of the run.
func from(res *lab.Result, phase string) func(*lab.RunResult) lab.Window {
	return phases(res, phase, phase, "")
}

func TestScenarioS0Healthy(t *testing.T) {
	d := pick(10*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S0", title: "healthy", service: "scenario:s0",
		extra: registryPolicies,
		setup: fmt.Sprintf("All workers healthy for %v.", d),
		run:   func(e *env) *lab.Result { return e.run(d, lab.Step{Phase: "healthy"}) },
		// Even shares are decidable only on a quiet machine: when 1% of
		// attempts stall for more than s0MaxNoise× the median (a loaded
		// box), a stall on one peer cannot be told from that peer turning
		// slow, which the adaptive client is built to react to.
		resolves: func(e *env, res *lab.Result) string {
			all := res.Pooled(0, len(res.Phases))
			noise := all.AttemptLatency(99, e.except())
			if float64(noise) > s0MaxNoise*float64(all.P50) {
				return fmt.Sprintf("healthy workers' attempt p99 %.2f ms is over %g× the median %.2f ms", ms(noise), s0MaxNoise, ms(all.P50))
			}
			return ""
		},
		judge: func(e *env, res *lab.Result, s *section) {
			a := adaptiveRun(s.t, res).Total()
			rr := res.Run(client.StrategyRoundRobin).Total()
			ratio := float64(a.P50) / float64(rr.P50)
			s.check(ratio <= s0MaxP50Ratio, "p50 %.2f ms vs round-robin %.2f ms: ratio %.3f ≤ %.2f", ms(a.P50), ms(rr.P50), ratio, s0MaxP50Ratio)
			imb, chi2 := a.Imbalance(e.workers.Addrs()), chiSquareEven(a, e.workers.Addrs())
			s.check(imb <= s0MaxImbalance || chi2 <= s0MaxChi2,
				"busiest/idlest peer %.3f ≤ %.2f, or the spread within sampling noise: χ² of per-peer attempts vs equal shares %.2f ≤ %g",
				imb, s0MaxImbalance, chi2, s0MaxChi2)
			s.check(a.Failed == 0, "no failed request (%d failed)", a.Failed)
		},
	})
}

func TestScenarioS1SlowWorker(t *testing.T) {
	// 14 s of slow phase at 60 req/s is 840 requests: p99 then tolerates
	// 8 slow ones, which the detection and the freshness probes must fit in.
	warm, fault := pick(3*time.Second, 15*time.Second), pick(14*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S1", title: "one worker +50 ms", service: "scenario:s1",
		extra: registryPolicies,
		setup: fmt.Sprintf("Healthy for %v, then w1 answers 50 ms slower for %v. Bounds over the slow phase.", warm, fault),
		run: func(e *env) *lab.Result {
			return e.run(warm+fault,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "slow", Do: func() error {
					e.notes[1] = "+50 ms"
					return e.workers.SetFaults(1, lab.Slower(lab.BaseService, 50*time.Millisecond))
				}})
		},
		// The bound is decidable only if the machine's own latency
		// (successful attempts at the healthy workers, all clients, same
		// window) leaves room under it. A correct client still sends the
		// slow worker its 2-4 detection attempts, which take up to half of
		// the 8 slowest slots of the p99 of 840 requests, so its p99 is the
		// noise floor's 99.5th percentile, not its 99th: on a host at load
		// 15 the noise p99 was 10.2 ms (under 80% of the 14 ms bound) and a
		// client that sent the slow worker 4 attempts had a p99 of 19 ms,
		// from the deeper noise tail its other slots reached.
		resolves: func(e *env, res *lab.Result) string {
			i := res.PhaseIndex("slow")
			noise := res.Pooled(i, len(res.Phases)).AttemptLatency(99.5, e.except(1))
			limit := s1MaxP99Ratio * float64(from(res, "slow")(res.Run(client.StrategyRoundRobin)).P99)
			if float64(noise) > 0.8*limit {
				return fmt.Sprintf("healthy workers' attempt p99.5 %.2f ms is above 80%% of the bound (%.2f ms)", ms(noise), limit/1e6)
			}
			return ""
		},
		judge: func(e *env, res *lab.Result, s *section) {
			slow := from(res, "slow")
			a, rr := slow(adaptiveRun(s.t, res)), slow(res.Run(client.StrategyRoundRobin))
			share := a.Share(e.workers.Addr(1))
			s.check(share <= s1MaxSlowShare, "slow worker's share %.2f%% ≤ %.0f%%", 100*share, 100*s1MaxSlowShare)
			ratio := float64(a.P99) / float64(rr.P99)
			s.check(ratio <= s1MaxP99Ratio, "p99 %.2f ms vs round-robin %.2f ms: ratio %.3f ≤ %.2f", ms(a.P99), ms(rr.P99), ratio, s1MaxP99Ratio)
			s.checkAttempts(a, tailMaxAttempts)
			h := res.Run(client.StrategyAdaptive).Phases("healthy", 0, res.PhaseIndex("slow"))
			s.note("p99.9 %.2f ms beside p99 %.2f ms (healthy phase p99.9 %.2f ms over %d requests, %.2f×; round-robin p99.9 %.2f ms)",
				ms(a.P999), ms(a.P99), ms(h.P999), h.Requests, float64(a.P999)/float64(max(h.P999, 1)), ms(rr.P999))
			s.note("attempts the slow worker got per second of the slow phase: %v", perSecond(adaptiveRun(s.t, res), e.workers.Addr(1), warm, warm+fault))
		},
	})
}

func TestScenarioS2FailingWorker(t *testing.T) {
	warm, fault := pick(3*time.Second, 15*time.Second), pick(17*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S2", title: "one worker failing 50% of requests", service: "scenario:s2",
		extra: registryPolicies,
		setup: fmt.Sprintf("Healthy for %v, then w2 answers half its requests with an error for %v. Bounds over the failing phase.", warm, fault),
		run: func(e *env) *lab.Result {
			return e.run(warm+fault,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "failing", Do: func() error {
					e.notes[2] = "fails 50%"
					return e.workers.SetFaults(2, lab.Failing(lab.BaseService, 0.5))
				}})
		},
		judge: func(e *env, res *lab.Result, s *section) {
			a := from(res, "failing")(adaptiveRun(s.t, res))
			s.checkSuccess(a, s2MinSuccess, "")
			s.checkAttempts(a, s2MaxAttempts)
		},
	})
}

func TestScenarioS3BlackHole(t *testing.T) {
	warm, fault := pick(5*time.Second, 20*time.Second), pick(17*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S3", title: "one worker never answering", service: "scenario:s3",
		setup: fmt.Sprintf("Healthy for %v, then w3 holds every request without answering for %v. "+
			"Healthy p99 is that of the healthy phase over all three clients' requests (same run, same machine).", warm, fault),
		blackHoles: []int{3},
		run: func(e *env) *lab.Result {
			return e.run(warm+fault,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "black hole", Do: func() error {
					e.notes[3] = "never answers"
					return e.workers.SetFaults(3, lab.BlackHole(lab.BaseService))
				}})
		},
		// The bound compares two phases, so the machine's noise must not
		// have grown between them: healthy workers' attempt p99 in the
		// black-hole phase within 1.5× that of the healthy phase.
		resolves: func(e *env, res *lab.Result) string {
			i := res.PhaseIndex("black hole")
			before := res.Pooled(0, i).AttemptLatency(99, e.except())
			after := res.Pooled(i, len(res.Phases)).AttemptLatency(99, e.except(3))
			if float64(after) > 1.5*float64(before) {
				return fmt.Sprintf("healthy workers' attempt p99 grew from %.2f ms to %.2f ms between the phases", ms(before), ms(after))
			}
			return ""
		},
		judge: func(e *env, res *lab.Result, s *section) {
			a := from(res, "black hole")(adaptiveRun(s.t, res))
			s.checkSuccess(a, s3MinSuccess, "")
			healthy := res.Pooled(0, res.PhaseIndex("black hole")).P99
			ratio := float64(a.P99) / float64(healthy)
			s.check(ratio <= s3MaxP99Healthy, "p99 %.2f ms vs healthy p99 %.2f ms: ratio %.2f ≤ %.1f", ms(a.P99), ms(healthy), ratio, s3MaxP99Healthy)
			s.checkAttempts(a, tailMaxAttempts)
			h := res.Pooled(0, res.PhaseIndex("black hole"))
			s.note("p99.9 %.2f ms beside p99 %.2f ms (healthy phase p99.9 %.2f ms, %.2f×): a request whose attempt meets the black hole waits one hedge delay, not an attempt timeout",
				ms(a.P999), ms(a.P99), ms(h.P999), float64(a.P999)/float64(max(h.P999, 1)))
		},
	})
}

func TestScenarioS4KilledWorker(t *testing.T) {
	warm, down, back := pick(3*time.Second, 15*time.Second), pick(6*time.Second, 30*time.Second), pick(12*time.Second, 30*time.Second)
	play(t, scenario{
		key: "S4", title: "a worker killed mid-run and restarted", service: "scenario:s4",
		setup: fmt.Sprintf("Healthy for %v, then w1 is killed (no drain grace: it unannounces, in-flight requests are cut and the port "+
			"closes at once) for %v, then restarted on the same port and watched for %v. "+
			"Recovery: the end of the first whole second after the restart in which w1 got ≥ 50%% of its fair share (1/%d) of attempts.",
			warm, down, back, numWorkers),
		run: func(e *env) *lab.Result {
			return e.run(warm+down+back,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "killed", Do: func() error {
					e.notes[1] = "killed, restarted"
					return e.workers.Kill(1)
				}},
				lab.Step{At: warm + down, Phase: "restarted", Do: func() error { return e.workers.Restart(1) }})
		},
		judge: func(e *env, res *lab.Result, s *section) {
			ar := adaptiveRun(s.t, res)
			a := from(res, "killed")(ar)
			s.checkSuccess(a, s4MinSuccess, " from the kill on")
			back0 := warm + down
			s.note("attempts w1 got per second from its return: %v", perSecond(ar, e.workers.Addr(1), back0, back0+back))
			for _, r := range res.Runs {
				rec, ok := recovery(r, e.workers.Addr(1), back0, back)
				if r.Strategy == client.StrategyAdaptive {
					s.check(ok && rec <= s4MaxRecovery, "back to ≥ 50%% of its fair share %s after its return (≤ %v)", recStr(rec, ok), s4MaxRecovery)
				} else {
					s.note("%s back to ≥ 50%% of its fair share %s after its return", r.Strategy, recStr(rec, ok))
				}
			}
		},
	})
}

// perSecond lists addr's attempts in each whole second of [from, to).
func perSecond(r *lab.RunResult, addr string, from, to time.Duration) []int64 {
	var out []int64
	for sec := int(from / time.Second); sec < int(to/time.Second); sec++ {
		out = append(out, r.Seconds("", sec, sec+1).PeerAttempts[addr])
	}
	return out
}

// recovery finds the first whole second at or after the restart in which
// addr got at least s4MinFairShare of its fair share, and returns the time
// from the restart to that second's end.
func recovery(r *lab.RunResult, addr string, restart, watch time.Duration) (time.Duration, bool) {
	first := int((restart + time.Second - 1) / time.Second)
	last := int((restart + watch) / time.Second)
	for sec := first; sec < last && sec < r.NumSeconds(); sec++ {
		w := r.Seconds("", sec, sec+1)
		if w.Share(addr) >= s4MinFairShare/numWorkers {
			return time.Duration(sec+1)*time.Second - restart, true
		}
	}
	return 0, false
}

func recStr(d time.Duration, ok bool) string {
	if !ok {
		return "never"
	}
	return fmt.Sprintf("in %v", d)
}

func TestScenarioS5FlappingWorker(t *testing.T) {
	warm, flap := pick(3*time.Second, 15*time.Second), pick(12*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S5", title: "a flapping worker (2 s failing / 2 s healthy)", service: "scenario:s5",
		setup: fmt.Sprintf("Healthy for %v, then w2 fails every request for 2 s and is healthy for 2 s, for %v. Bounds over the flapping phase.", warm, flap),
		run: func(e *env) *lab.Result {
			steps := []lab.Step{{Phase: "healthy"}}
			for at, i := warm, 0; at < warm+flap; at, i = at+2*time.Second, i+1 {
				f := lab.BaseService
				if i%2 == 0 {
					f = lab.Failing(f, 1)
				}
				steps = append(steps, lab.Step{At: at, Phase: "flapping", Do: func() error {
					e.notes[2] = "flapping 2 s/2 s"
					return e.workers.SetFaults(2, f)
				}})
			}
			return e.run(warm+flap, steps...)
		},
		judge: func(e *env, res *lab.Result, s *section) {
			a := from(res, "flapping")(adaptiveRun(s.t, res))
			s.checkSuccess(a, s5MinSuccess, "")
			s.checkAttempts(a, s5MaxAttempts)
		},
	})
}

func TestScenarioS6AllSlower(t *testing.T) {
	warm, fault := pick(3*time.Second, 15*time.Second), pick(8*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S6", title: "every worker +20 ms", service: "scenario:s6",
		setup: fmt.Sprintf("Healthy for %v, then every worker answers 20 ms slower for %v. Bounds over the whole run.", warm, fault),
		run: func(e *env) *lab.Result {
			return e.run(warm+fault,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "all +20 ms", Do: func() error {
					for i := range numWorkers {
						e.notes[i] = "+20 ms"
						if err := e.workers.SetFaults(i, lab.Slower(lab.BaseService, 20*time.Millisecond)); err != nil {
							return err
						}
					}
					return nil
				}})
		},
		judge: func(e *env, res *lab.Result, s *section) {
			a := adaptiveRun(s.t, res).Total()
			s.check(a.OpensTotal() == 0, "no breaker opens (%d)", a.OpensTotal())
			s.check(a.Failed == 0, "success 100%% (%d of %d failed)", a.Failed, a.Requests)
		},
	})
}
