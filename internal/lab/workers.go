package lab

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/worker"
)

// BaseService is the healthy service time every worker adds to a request
// (Latency + up to Jitter). With it, latency ratios between strategies
// compare service times rather than loopback scheduling noise of a few
// microseconds, which a loaded CI machine swamps.
var BaseService = worker.Faults{Latency: time.Millisecond, Jitter: time.Millisecond}

// Workers is a pool of in-process Go workers serving one service on
// loopback, announcing to the given grapes. A worker can be slowed, made to
// fail, killed and restarted on the same port while clients use the pool.
type Workers struct {
	service  string
	grapes   []string
	announce time.Duration
	// drainGrace is every worker's Config.DrainGrace (0: a stop is a crash).
	drainGrace time.Duration

	mu    sync.Mutex
	slots []*slot
	stops []*stopWindow // graceful restarts, for Stopped
}

type slot struct {
	port   int
	addr   string
	past   []string // addresses it had before a restart onto a new port
	w      *worker.Worker
	cancel context.CancelFunc
	done   chan error
	faults worker.Faults
}

// StartWorkers starts n workers of service, all with BaseService as their
// faults, announcing every announce to grapes. Their drain grace is 0, so
// Kill takes a worker away at once (it still unannounces on the way out).
func StartWorkers(grapes []string, service string, n int, announce time.Duration) (*Workers, error) {
	return StartDrainingWorkers(grapes, service, n, announce, 0)
}

// StartDrainingWorkers is StartWorkers with workers whose Config.DrainGrace
// is drainGrace: stopping one (Kill, GracefulRestart) runs the host's real
// drain, the one SIGTERM runs in cmd/worker — unannounce, keep answering
// for drainGrace, then refuse with ERR_SERVER_DRAINING, finish the requests
// in flight, close.
func StartDrainingWorkers(grapes []string, service string, n int, announce, drainGrace time.Duration) (*Workers, error) {
	if drainGrace < 0 {
		return nil, fmt.Errorf("lab: drain grace %v must not be negative", drainGrace)
	}
	p := &Workers{service: service, grapes: grapes, announce: announce, drainGrace: drainGrace}
	for range n {
		s := &slot{faults: BaseService}
		if err := p.start(s); err != nil {
			_ = p.Close()
			return nil, err
		}
		p.slots = append(p.slots, s)
	}
	return p, nil
}

func (p *Workers) start(s *slot) error {
	cfg := worker.DefaultConfig()
	cfg.Service = p.service
	cfg.Bind = "127.0.0.1"
	cfg.Port = s.port
	cfg.Grapes = p.grapes
	cfg.AnnounceInterval = p.announce
	cfg.Faults = s.faults
	// A short grace: a killed worker must drop what it holds, like a crash,
	// and a black-holed request must not hold the test's shutdown.
	cfg.ShutdownGrace = 100 * time.Millisecond
	cfg.DrainGrace = p.drainGrace // 0 unless the pool drains: Kill then stands for a crash
	w, err := worker.New(cfg)
	if err != nil {
		return fmt.Errorf("lab: start worker: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	s.w, s.cancel, s.done = w, cancel, done
	s.port, s.addr = w.Port(), w.Addr()
	go func() { done <- w.Run(ctx) }()
	return nil
}

// Len returns the number of workers (running or killed).
func (p *Workers) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.slots)
}

// Addr returns worker i's "127.0.0.1:port" (stable across restarts, except
// GracefulRestart onto a new port).
func (p *Workers) Addr(i int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.slots[i].addr
}

// Addrs returns every worker's address in index order.
func (p *Workers) Addrs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, len(p.slots))
	for i, s := range p.slots {
		out[i] = s.addr
	}
	return out
}

// Index returns the index of the worker that has or had addr, or -1.
func (p *Workers) Index(addr string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, s := range p.slots {
		if s.addr == addr || slices.Contains(s.past, addr) {
			return i
		}
	}
	return -1
}

// SetFaults sets worker i's faults on top of nothing: pass
// Slower(BaseService, d) and the like to keep the base service time.
// The faults survive a restart.
func (p *Workers) SetFaults(i int, f worker.Faults) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[i]
	s.faults = f
	if s.w == nil {
		return nil
	}
	return s.w.SetFaults(f)
}

// Kill stops worker i by cancelling its Run, as SIGTERM does. In a pool
// without a drain grace that is abrupt: the worker unannounces, requests in
// flight are cut after a 100 ms grace and the port closes at once (Go
// grapes drop it from lookups; a Node grape would keep it until expiry). In
// a draining pool it is the full drain, and Kill returns when it is over.
func (p *Workers) Kill(i int) error {
	p.mu.Lock()
	s := p.slots[i]
	if s.w == nil {
		p.mu.Unlock()
		return nil
	}
	cancel, done := s.cancel, s.done
	s.w, s.cancel, s.done = nil, nil, nil
	p.mu.Unlock()
	cancel()
	return <-done
}

// Restart starts worker i again on its old port with its last faults.
func (p *Workers) Restart(i int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.slots[i]
	if s.w != nil {
		return fmt.Errorf("lab: worker %d is running", i)
	}
	var err error
	// The port was ours a moment ago; retry briefly in case the kernel
	// still holds it.
	for range 50 {
		if err = p.start(s); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// Close stops every running worker, all at once (in a draining pool each
// drain takes its grace, so one after another would add them up).
func (p *Workers) Close() error {
	p.mu.Lock()
	n := len(p.slots)
	p.mu.Unlock()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.Kill(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// WaitVisible polls a lookup of the service until every running worker is
// listed, so load starts against the whole pool. It looks up through via
// (the grapes the clients will use), or the workers' own grapes if none.
func (p *Workers) WaitVisible(ctx context.Context, via ...string) error {
	cfg := link.DefaultConfig()
	cfg.Grapes = p.grapes
	if len(via) > 0 {
		cfg.Grapes = via
	}
	cfg.LookupCacheTTL = 0
	l, err := link.New(cfg)
	if err != nil {
		return err
	}
	defer l.Close()
	want := p.Addrs()
	var lastErr error
	for {
		got, err := l.Lookup(ctx, p.service)
		if err == nil && containsAll(got, want) {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("lab: workers not visible (got %v, want %v; last lookup error: %v): %w", got, want, lastErr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func containsAll(got, want []string) bool {
	for _, w := range want {
		if !slices.Contains(got, w) {
			return false
		}
	}
	return true
}

// Slower returns f with d more fixed latency.
func Slower(f worker.Faults, d time.Duration) worker.Faults {
	f.Latency += d
	return f
}

// Failing returns f answering rate of its requests with an injected error.
func Failing(f worker.Faults, rate float64) worker.Faults {
	f.ErrorRate = rate
	return f
}

// BlackHole returns f never answering any request.
func BlackHole(f worker.Faults) worker.Faults {
	f.ErrorRate = 0
	f.TimeoutRate = 1
	return f
}
