package lab

import (
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
)

// A hedge's detached loser can settle after the run's result was taken.
// Its event must not touch the aggregates the result now owns: under
// -race this test fails if the recorder still writes into them.
func TestRecorderLateEventsLeaveResultAlone(t *testing.T) {
	r := newRecorder()
	start := time.Now()
	r.begin(start, []time.Duration{0}, nil)
	ev := client.AttemptEvent{Service: "s", Addr: "a", Outcome: client.Success, Latency: time.Millisecond, At: start}
	r.onAttempt(ev)
	phases, secs, _, _ := r.handOver()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 100 {
			r.onAttempt(ev)
			r.onBreaker(client.BreakerEvent{Service: "s", Addr: "a", From: client.Closed, To: client.Open, At: start})
		}
	}()
	var got int64
	for range 100 {
		got = sum("", phases, 2).PeerAttempts["a"]
		_ = sum("", secs, 2)
	}
	wg.Wait()
	if got != 1 {
		t.Fatalf("attempts at a after the hand-over: %d, want the 1 recorded before it", got)
	}
}
