package transport

import (
	"context"
	"sync"
	"testing"
	"time"
)

// At most max requests run at once: the next dispatch waits for a worker
// (here until its context ends), and a finished worker takes the next one.
func TestWSWorkersBoundConcurrency(t *testing.T) {
	gate := make(chan struct{})
	var ran sync.WaitGroup
	w := newWSWorkers(2, time.Hour, func(wsRequest) { <-gate; ran.Done() })
	defer w.stop()
	ran.Add(2)
	for range 2 {
		if !w.dispatch(context.Background(), wsRequest{}) {
			t.Fatal("dispatch under the bound refused")
		}
	}
	if !w.crowded() {
		t.Fatal("two in flight, not crowded")
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if w.dispatch(done, wsRequest{}) {
		t.Fatal("a third request ran beside two busy workers (max 2)")
	}
	if n := w.live.Load(); n != 2 {
		t.Fatalf("%d workers, want 2", n)
	}
	close(gate)
	ran.Wait()
	ran.Add(1)
	if !w.dispatch(context.Background(), wsRequest{}) {
		t.Fatal("dispatch to a finished worker refused")
	}
	ran.Wait()
}

// Workers idle at a retirement tick exit; dispatch starts new ones.
func TestWSWorkersRetireIdle(t *testing.T) {
	var ran sync.WaitGroup
	gate := make(chan struct{})
	w := newWSWorkers(8, 10*time.Millisecond, func(wsRequest) { <-gate; ran.Done() })
	defer w.stop()
	ran.Add(5)
	for range 5 {
		w.dispatch(context.Background(), wsRequest{})
	}
	close(gate)
	ran.Wait()
	waitFor(t, "idle workers to retire", func() bool { return w.live.Load() == 0 })
	if w.crowded() {
		t.Fatal("nothing in flight, still crowded")
	}
	ran.Add(1)
	if !w.dispatch(context.Background(), wsRequest{}) {
		t.Fatal("dispatch after retirement refused")
	}
	ran.Wait()
}
