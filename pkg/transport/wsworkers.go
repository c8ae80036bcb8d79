package transport

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// wsWorkers runs one connection's requests on goroutines that serve one
// request after another, at most max at once. A goroutine per request paid
// for its start and, on the write path, for growing its stack twice: an
// eighth of the server's CPU on a busy socket. Workers idle at a
// retirement tick exit, so a connection that was busy once does not keep
// its peak of goroutines while it is quiet; a busy one restarts at most its
// in-flight count per tick, which costs nothing beside the requests.
type wsWorkers struct {
	run  func(wsRequest)
	max  int32
	jobs chan wsRequest // unbuffered: a send succeeds only into an idle worker
	// retire takes one idle worker per receive.
	retire chan struct{}
	live   atomic.Int32
	busy   atomic.Int32 // requests dispatched and not yet answered
	wg     sync.WaitGroup

	mu     sync.Mutex // orders the retirement tick against dispatch and stop
	every  time.Duration
	ticker *time.Timer
	armed  bool // the tick is due: only while workers live, so a quiet socket costs no timer
	closed bool
}

// wsWorkerRetire is the retirement tick of a connection's workers: an idle
// worker waits at most this long for more work.
const wsWorkerRetire = time.Second

// newWSWorkers runs requests through run, at most max at once, retiring
// idle workers every retireEvery.
func newWSWorkers(max int, retireEvery time.Duration, run func(wsRequest)) *wsWorkers {
	w := &wsWorkers{run: run, max: int32(max), jobs: make(chan wsRequest), retire: make(chan struct{}), every: retireEvery}
	w.ticker = time.AfterFunc(retireEvery, w.retireIdle)
	w.ticker.Stop()
	return w
}

// dispatch hands r to an idle worker, or to a new one while fewer than max
// run, or else waits for a worker to finish (pushing back on the reader)
// until ctx ends, then reports false.
func (w *wsWorkers) dispatch(ctx context.Context, r wsRequest) bool {
	w.busy.Add(1)
	select {
	case w.jobs <- r:
		return true
	default:
	}
	if w.live.Load() < w.max {
		w.live.Add(1) // before the tick can see it: see retireIdle
		w.wg.Add(1)
		go w.work(r)
		w.mu.Lock()
		if !w.armed && !w.closed {
			w.armed = true
			w.ticker.Reset(w.every)
		}
		w.mu.Unlock()
		return true
	}
	select {
	case w.jobs <- r:
		return true
	case <-ctx.Done():
		w.busy.Add(-1)
		return false
	}
}

// crowded reports whether other requests are in flight beside the
// caller's own.
func (w *wsWorkers) crowded() bool { return w.busy.Load() > 1 }

func (w *wsWorkers) work(r wsRequest) {
	defer w.wg.Done()
	defer w.live.Add(-1)
	for {
		w.run(r)
		w.busy.Add(-1)
		var ok bool
		select {
		case r, ok = <-w.jobs:
			if !ok {
				return
			}
		case <-w.retire:
			return
		}
	}
}

func (w *wsWorkers) retireIdle() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	for retiring := true; retiring; {
		select {
		case w.retire <- struct{}{}:
		default:
			retiring = false
		}
	}
	// A worker started after this check armed the tick again (dispatch
	// counts it live before it takes mu).
	if w.armed = w.live.Load() > 0; w.armed {
		w.ticker.Reset(w.every)
	}
}

// stop lets the workers finish what they run and waits for them. Only the
// dispatching goroutine calls it, after its last dispatch; again is a no-op.
func (w *wsWorkers) stop() {
	w.mu.Lock()
	again := w.closed
	w.closed = true
	w.ticker.Stop()
	w.mu.Unlock()
	if !again {
		close(w.jobs)
	}
	w.wg.Wait()
}
