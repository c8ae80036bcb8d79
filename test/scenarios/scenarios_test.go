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
	s0MaxP50Ratio   = 1.10 // adaptive p50 / round-robin p50
	s0MaxImbalance  = 1.25 // busiest / idlest peer
	s0MaxNoise      = 4.0  // machine noise (attempt p99 / p50) beyond which S0 is not judged
	s1MaxSlowShare  = 0.02
	s1MaxP99Ratio   = 0.25 // adaptive p99 / round-robin p99
	s2MinSuccess    = 0.999
	s2MaxAttempts   = 1.1
	s3MinSuccess    = 0.999
	s3MaxP99Healthy = 2.0 // fault p99 / healthy p99
	s4MinSuccess    = 0.999
	s4MaxRecovery   = 10 * time.Second
	s4MinFairShare  = 0.5
	s5MinSuccess    = 0.995
	s5MaxAttempts   = 1.2
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

// checkAttempts checks a window's attempts per logical request.
func (s *section) checkAttempts(w lab.Window, max float64) {
	s.t.Helper()
	s.check(w.AttemptsPerRequest() <= max, "attempts/request %.3f ≤ %.1f", w.AttemptsPerRequest(), max)
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
			imb := a.Imbalance(e.workers.Addrs())
			s.check(imb <= s0MaxImbalance, "busiest/idlest peer %.3f ≤ %.2f", imb, s0MaxImbalance)
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
		setup: fmt.Sprintf("Healthy for %v, then w1 answers 50 ms slower for %v. Bounds over the slow phase.", warm, fault),
		run: func(e *env) *lab.Result {
			return e.run(warm+fault,
				lab.Step{Phase: "healthy"},
				lab.Step{At: warm, Phase: "slow", Do: func() error {
					e.notes[1] = "+50 ms"
					return e.workers.SetFaults(1, lab.Slower(lab.BaseService, 50*time.Millisecond))
				}})
		},
		// The bound is decidable only if the machine's own p99 (successful
		// attempts at the healthy workers, all clients, same window) leaves
		// room under it: a client that avoids the slow worker perfectly has
		// that p99, no less.
		resolves: func(e *env, res *lab.Result) string {
			i := res.PhaseIndex("slow")
			noise := res.Pooled(i, len(res.Phases)).AttemptLatency(99, e.except(1))
			limit := s1MaxP99Ratio * float64(from(res, "slow")(res.Run(client.StrategyRoundRobin)).P99)
			if float64(noise) > 0.8*limit {
				return fmt.Sprintf("healthy workers' attempt p99 %.2f ms is above 80%% of the bound (%.2f ms)", ms(noise), limit/1e6)
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
			s.note("attempts the slow worker got per second of the slow phase: %v", perSecond(adaptiveRun(s.t, res), e.workers.Addr(1), warm, warm+fault))
		},
	})
}

func TestScenarioS2FailingWorker(t *testing.T) {
	warm, fault := pick(3*time.Second, 15*time.Second), pick(17*time.Second, 60*time.Second)
	play(t, scenario{
		key: "S2", title: "one worker failing 50% of requests", service: "scenario:s2",
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
			s.note("p99.9 %.2f ms (a request whose first attempt meets the black hole waits one attempt timeout)", ms(a.P999))
		},
	})
}

func TestScenarioS4KilledWorker(t *testing.T) {
	warm, down, back := pick(3*time.Second, 15*time.Second), pick(6*time.Second, 30*time.Second), pick(12*time.Second, 30*time.Second)
	play(t, scenario{
		key: "S4", title: "a worker killed mid-run and restarted", service: "scenario:s4",
		setup: fmt.Sprintf("Healthy for %v, then w1 is killed (port closed, in-flight requests cut; its announcement stays in the grapes "+
			"until it expires, as after a crash) for %v, then restarted on the same port and watched for %v. "+
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
