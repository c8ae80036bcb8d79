package worker

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// seqRand returns the given numbers in turn (then zeros), so fault rolls are exact.
func seqRand(xs ...float64) func() float64 {
	return func() float64 {
		if len(xs) == 0 {
			return 0
		}
		x := xs[0]
		xs = xs[1:]
		return x
	}
}

func newTestHandler(f Faults, rnd func() float64, stop <-chan struct{}) (*handler, *recSleep) {
	rs := &recSleep{}
	h := &handler{
		limits:   testLimits,
		m:        newMetrics(),
		hardStop: stop,
		now:      time.Now,
		sleep:    rs.sleep,
		rand:     rnd,
	}
	h.faults.Store(&f)
	return h, rs
}

func count(h *handler, job string, o outcome) float64 {
	return value(h.m.requests[jobIndex(job)][o])
}

func TestHandlerRunsJobsAndCounts(t *testing.T) {
	h, _ := newTestHandler(Faults{}, seqRand(), nil)
	res, err := h.handle(context.Background(), "job_service", json.RawMessage(`"hello"`))
	if err != nil || string(res.(json.RawMessage)) != `"hello"` {
		t.Fatalf("echo: %v %v", res, err)
	}
	if _, err := h.handle(context.Background(), "job_service", json.RawMessage(`{"job":"sleep","ms":-1}`)); !errors.Is(err, ErrInvalidJob) {
		t.Fatalf("invalid sleep: %v", err)
	}
	if count(h, jobOther, outcomeOK) != 1 || count(h, JobSleep, outcomeInvalid) != 1 {
		t.Fatal("request counters not updated")
	}
	if value(h.m.inFlight) != 0 {
		t.Fatal("in-flight gauge leaked")
	}
}

func TestHandlerInjectsLatencyAndError(t *testing.T) {
	f := Faults{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond, ErrorRate: 0.5}
	// Request 1: jitter 0.5, fault roll 0.2 → error. Request 2: jitter 0, roll 0.9 → passes.
	h, rs := newTestHandler(f, seqRand(0.5, 0.2, 0, 0.9), nil)
	_, err := h.handle(context.Background(), "k", json.RawMessage(`{"job":"echo"}`))
	if err == nil || err.Error() != ErrMsgInjected {
		t.Fatalf("want injected error, got %v", err)
	}
	res, err := h.handle(context.Background(), "k", json.RawMessage(`{"job":"echo"}`))
	if err != nil || string(res.(json.RawMessage)) != `{"job":"echo"}` {
		t.Fatalf("second request: %v %v", res, err)
	}
	if len(rs.slept) != 2 || rs.slept[0] != 45*time.Millisecond || rs.slept[1] != 40*time.Millisecond {
		t.Fatalf("delays %v", rs.slept)
	}
	if value(h.m.faults[faultError]) != 1 || value(h.m.faults[faultLatency]) != 2 {
		t.Fatal("fault counters wrong")
	}
	if count(h, JobEcho, outcomeInjected) != 1 || count(h, JobEcho, outcomeOK) != 1 {
		t.Fatal("outcome counters wrong")
	}
}

func TestHandlerHoldsTimedOutRequestUntilCallerLeaves(t *testing.T) {
	h, _ := newTestHandler(Faults{TimeoutRate: 1}, seqRand(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := h.handle(ctx, "k", json.RawMessage(`"x"`))
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("held request answered early: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	if value(h.m.inFlight) != 1 {
		t.Fatal("held request not in flight")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("want canceled, got %v", err)
	}
	if count(h, jobOther, outcomeHeld) != 1 || value(h.m.faults[faultTimeout]) != 1 {
		t.Fatal("held request not counted")
	}
}

func TestHandlerReleasesHeldRequestAtHardStop(t *testing.T) {
	stop := make(chan struct{})
	h, _ := newTestHandler(Faults{TimeoutRate: 1}, seqRand(), stop)
	done := make(chan error, 1)
	go func() {
		_, err := h.handle(context.Background(), "k", json.RawMessage(`"x"`))
		done <- err
	}()
	close(stop)
	if err := <-done; err == nil || err.Error() != ErrMsgShutdown {
		t.Fatalf("want %s, got %v", ErrMsgShutdown, err)
	}
}

func TestHandlerFaultsChangeAtRunTime(t *testing.T) {
	h, _ := newTestHandler(Faults{}, seqRand(0, 0), nil)
	if _, err := h.handle(context.Background(), "k", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	f := Faults{ErrorRate: 1}
	h.faults.Store(&f)
	if _, err := h.handle(context.Background(), "k", json.RawMessage(`1`)); err == nil {
		t.Fatal("error rate 1 did not inject")
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("sleepCtx ignored ctx: %v", err)
	}
}

// value reads a counter or gauge without prometheus/testutil (whose deps are not in go.sum).
func value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.Gauge.GetValue()
}
