// Package worker is a Grenache RPC service: it serves the Grenache HTTP RPC wire (via
// pkg/transport), announces itself to grapes (via pkg/link), runs small jobs (echo, sleep,
// hash) and injects faults on demand (latency, jitter, errors, black-holed requests) so
// clients can be tested against misbehaving peers. Faults change at run time through
// SetFaults or the admin HTTP API.
package worker

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/connlimit"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// Worker is one running (or ready to run) service instance. Create it with New, start it with
// Run; Addr is valid as soon as New returns.
type Worker struct {
	cfg  Config
	log  zerolog.Logger
	h    *handler
	ln   net.Listener
	adm  net.Listener // nil when the admin listener is off
	link *link.Link

	adminMu  sync.Mutex    // serialises read-modify-write of faults from the admin API
	hardStop chan struct{} // closed when the shutdown grace is over
	draining chan struct{} // closed when shutdown starts (healthz reports it)

	runOnce sync.Once
	closeMu sync.Mutex
	closed  bool
}

// New validates cfg, binds the RPC listener (and the admin listener when enabled) and prepares
// the link. Nothing is announced until Run. Call Run or Close to release the listeners.
func New(cfg Config) (*Worker, error) {
	cfg.Grapes = append([]string(nil), cfg.Grapes...)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("worker: invalid config: %w", err)
	}
	lcfg := link.DefaultConfig()
	lcfg.Grapes = cfg.Grapes
	lcfg.Logger = cfg.Logger
	lk, err := link.New(lcfg)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.Port)))
	if err != nil {
		_ = lk.Close()
		return nil, fmt.Errorf("worker: listen on port %d: %w", cfg.Port, err)
	}
	var adm net.Listener
	if addr := cfg.adminAddr(); addr != "" {
		if adm, err = net.Listen("tcp", addr); err != nil {
			_ = ln.Close()
			_ = lk.Close()
			return nil, fmt.Errorf("worker: admin listen on %s: %w", addr, err)
		}
	}
	hardStop := make(chan struct{})
	w := &Worker{
		cfg:      cfg,
		log:      cfg.Logger.With().Str("service", cfg.Service).Logger(),
		ln:       ln,
		adm:      adm,
		link:     lk,
		hardStop: hardStop,
		draining: make(chan struct{}),
		h: &handler{
			limits:   cfg.Limits,
			m:        newMetrics(),
			hardStop: hardStop,
			now:      time.Now,
			sleep:    sleepCtx,
			rand:     rand.Float64,
		},
	}
	f := cfg.Faults
	w.h.faults.Store(&f)
	return w, nil
}

// adminAddr is where the admin listener binds, or "" when it is off.
func (c Config) adminAddr() string {
	if c.AdminAddr != "" {
		return c.AdminAddr
	}
	if c.AdminPort == 0 {
		return ""
	}
	return net.JoinHostPort(c.Bind, strconv.Itoa(c.AdminPort))
}

// Addr returns the RPC address as "ip:port"; an unspecified bind address (0.0.0.0, ::) is
// reported as 127.0.0.1 so the result can be dialled directly.
func (w *Worker) Addr() string { return dialable(w.ln.Addr()) }

// Port returns the RPC port actually bound (useful with Config.Port 0).
func (w *Worker) Port() int { return w.ln.Addr().(*net.TCPAddr).Port }

// AdminAddr returns the admin listener's "ip:port", or "" when it is off.
func (w *Worker) AdminAddr() string {
	if w.adm == nil {
		return ""
	}
	return dialable(w.adm.Addr())
}

func dialable(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// Faults returns the faults currently injected.
func (w *Worker) Faults() Faults { return *w.h.faults.Load() }

// SetFaults replaces the injected faults; requests that start afterwards see the new values.
// Invalid faults are rejected and the current ones kept.
func (w *Worker) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	w.h.faults.Store(&f)
	return nil
}

// Run serves RPC (and admin) requests and announces the service until ctx is done. Then it
// stops announcing, lets requests in flight finish (bounded by Config.ShutdownGrace: after
// that, held requests are released and connections closed) and returns nil. It returns an
// error if serving fails. Run may be called once.
func (w *Worker) Run(ctx context.Context) error {
	err := errors.New("worker: Run called twice or after Close")
	w.runOnce.Do(func() { err = w.run(ctx) })
	return err
}

func (w *Worker) run(ctx context.Context) error {
	bodies, err := budget.New(w.cfg.BodyBudget, budget.DefaultWait)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	srv := transport.NewHTTPServer(w.h.handle, transport.WithServerLogger(w.log),
		transport.WithMaxBodyBytes(MaxBodyBytes), transport.WithBodyBudget(bodies))
	var adm *http.Server
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(connlimit.NewListener(w.ln, w.cfg.MaxConns)); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("worker: rpc server: %w", err)
		}
	}()
	if w.adm != nil {
		adm = &http.Server{Handler: w.adminRouter(), ReadHeaderTimeout: 5 * time.Second}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := adm.Serve(w.adm); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("worker: admin server: %w", err)
			}
		}()
	}
	w.link.StartAnnouncing(w.cfg.Service, w.Port(), w.cfg.AnnounceInterval)
	w.log.Info().Str("addr", w.Addr()).Str("admin", w.AdminAddr()).Strs("grapes", w.cfg.Grapes).Msg("worker serving")

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	w.shutdown(srv, adm)
	wg.Wait()
	return runErr
}

// shutdown stops announcing first (so clients stop finding us), then drains the RPC server
// within the grace period, releasing held requests when it ends, and finally the admin server.
func (w *Worker) shutdown(srv *transport.HTTPServer, adm *http.Server) {
	close(w.draining)
	w.link.StopAnnouncing(w.cfg.Service, w.Port())
	_ = w.link.Close()
	w.log.Info().Dur("grace", w.cfg.ShutdownGrace).Msg("worker draining")

	graceCtx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownGrace)
	defer cancel()
	stopped := context.AfterFunc(graceCtx, func() { close(w.hardStop) })
	if err := srv.Shutdown(graceCtx); err != nil {
		w.log.Warn().Err(err).Msg("grace period over with requests in flight; closing them")
	}
	if stopped() {
		// Drained before the grace ended: release anything still held (nothing should be).
		close(w.hardStop)
	}
	_ = w.ln.Close()
	if adm != nil {
		actx, acancel := context.WithTimeout(context.Background(), time.Second)
		_ = adm.Shutdown(actx)
		acancel()
		_ = w.adm.Close()
	}
	w.markClosed()
	w.log.Info().Msg("worker stopped")
}

// Close releases the listeners and the link of a worker whose Run was never called. After Run
// has started, cancel its context instead; Close is then a no-op.
func (w *Worker) Close() error {
	started := true
	w.runOnce.Do(func() { started = false })
	if started {
		return nil
	}
	if !w.markClosed() {
		return nil
	}
	close(w.hardStop)
	errs := []error{w.ln.Close(), w.link.Close()}
	if w.adm != nil {
		errs = append(errs, w.adm.Close())
	}
	return errors.Join(errs...)
}

// markClosed records the close and reports whether this call was the first.
func (w *Worker) markClosed() bool {
	w.closeMu.Lock()
	defer w.closeMu.Unlock()
	first := !w.closed
	w.closed = true
	return first
}
