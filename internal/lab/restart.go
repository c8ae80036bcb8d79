package lab

import (
	"context"
	"fmt"
	"time"
)

// maxStopWindows bounds the graceful restarts a pool remembers for Stopped
// (a scenario makes a handful; the oldest go first).
const maxStopWindows = 1024

// stopWindow is a span in which a worker's address could not serve: from
// the end of its drain grace (it refuses with ERR_SERVER_DRAINING, then its
// listener closes) until its replacement listens there and starts
// announcing. to is zero while the window is open, and stays zero for an
// address left for a new port.
type stopWindow struct {
	addr     string
	from, to time.Time
}

// GracefulRestart restarts worker i the way a rolling deploy does: it
// stops it through the host's real drain path (what SIGTERM does: context
// cancelled, see worker.Run), waits for the old process to finish, starts a
// new worker on the same port — what a deploy on a fixed port, a systemd
// unit or a container with a published port does — and returns once a
// lookup through via (the clients' grapes; the pool's own if none) lists
// the new worker among every running one. The span from the end of the
// drain grace to the moment the new worker listens and starts announcing
// is recorded for Stopped.
func (p *Workers) GracefulRestart(ctx context.Context, i int, via ...string) error {
	return p.gracefulRestart(ctx, i, false, via)
}

// GracefulReplace is GracefulRestart with the new worker on a new free
// port, as a deploy that schedules a fresh instance with a dynamic port
// does: clients that still hold the old address after its drain grace
// reach nothing there (its stop window never closes).
func (p *Workers) GracefulReplace(ctx context.Context, i int, via ...string) error {
	return p.gracefulRestart(ctx, i, true, via)
}

func (p *Workers) gracefulRestart(ctx context.Context, i int, newPort bool, via []string) error {
	p.mu.Lock()
	s := p.slots[i]
	if s.w == nil {
		p.mu.Unlock()
		return fmt.Errorf("lab: worker %d is not running", i)
	}
	// The window opens when the drain grace, which starts right after the
	// unannounce, ends; opening it at cancel + grace starts it the length
	// of the unannounce call (under a millisecond on loopback) early, so
	// it over-counts, never under-counts.
	win := p.openWindow(s.addr, time.Now().Add(p.drainGrace))
	p.mu.Unlock()
	if err := p.Kill(i); err != nil {
		return fmt.Errorf("lab: drain worker %d: %w", i, err)
	}
	if newPort {
		p.mu.Lock()
		s.past = append(s.past, s.addr)
		s.port = 0
		p.mu.Unlock()
	}
	err := p.Restart(i)
	if !newPort {
		p.mu.Lock()
		win.to = time.Now() // from here on the address answers again
		p.mu.Unlock()
	}
	if err != nil {
		return err
	}
	return p.WaitVisible(ctx, via...)
}

// openWindow records a stop window from from on (p.mu held); the caller
// closes it by setting to, under p.mu.
func (p *Workers) openWindow(addr string, from time.Time) *stopWindow {
	if len(p.stops) >= maxStopWindows {
		p.stops = append(p.stops[:0], p.stops[1:]...)
	}
	w := &stopWindow{addr: addr, from: from}
	p.stops = append(p.stops, w)
	return w
}

// Stopped reports whether an attempt sent to addr at t fell in one of the
// pool's stop windows: after a gracefully restarted worker's drain grace
// ended and before its replacement listened. Every attempt refused with
// ERR_SERVER_DRAINING or a refused connection falls in one.
func (p *Workers) Stopped(addr string, t time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.stops {
		if w.addr == addr && !t.Before(w.from) && (w.to.IsZero() || t.Before(w.to)) {
			return true
		}
	}
	return false
}

// DrainGrace is the pool's drain grace.
func (p *Workers) DrainGrace() time.Duration { return p.drainGrace }
