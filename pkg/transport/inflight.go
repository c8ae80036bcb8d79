package transport

import (
	"context"
	"sync"
)

// inflight counts running requests so Shutdown can wait for them. Unlike a
// WaitGroup it refuses new work once draining starts, which keeps "Add
// while Wait" races out and lets late requests be answered with an error.
type inflight struct {
	mu       sync.Mutex
	n        int
	draining bool
	zero     chan struct{} // closed when draining and n reaches 0
}

func (f *inflight) add() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.draining {
		return false
	}
	f.n++
	return true
}

func (f *inflight) done() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n--
	if f.n == 0 && f.draining {
		close(f.zero)
	}
}

// drain stops admitting work and waits until running work ends or ctx does.
func (f *inflight) drain(ctx context.Context) error {
	f.mu.Lock()
	if !f.draining {
		f.draining = true
		f.zero = make(chan struct{})
		if f.n == 0 {
			close(f.zero)
		}
	}
	zero := f.zero
	f.mu.Unlock()
	select {
	case <-zero:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
