// Package worker is a Grenache service host: Serve(ctx, cfg, handler) serves a Handler over
// the Grenache HTTP and WebSocket RPC wire (via pkg/transport, with TLS or mutual TLS when
// configured), announces its service names to grapes (via pkg/link) and, when ctx ends,
// drains: it stops announcing, asks the grapes to drop its names, keeps answering for
// Config.DrainGrace while callers' lookup caches expire, then refuses new requests with a
// retryable 503 ERR_SERVER_DRAINING, lets those in flight finish and closes.
//
// Handlers are plain Go: a HandlerFunc, a Mux dispatching {"action","args"} payloads, or
// Func adapting a typed function. With no handler (New), the host runs the built-in jobs
// (echo, sleep, hash) used by tests and benchmarks. Every host injects faults on demand
// (latency, jitter, errors, black-holed requests) as middleware around its handler, so
// clients can be tested against misbehaving peers; faults change at run time through
// SetFaults or the admin HTTP API, which also serves /healthz and Prometheus /metrics.
// NewForward makes the host a sidecar that forwards each request to an HTTP service.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
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
	refusing atomic.Bool   // set when the drain grace is over: new requests get 503

	annMu      sync.Mutex // guards announcing and stopped
	announcing bool       // the announce loops run
	stopped    bool       // draining began: announcing never resumes

	runOnce sync.Once
	closeMu sync.Mutex
	closed  bool
}

// Serve runs h as a Grenache service configured by cfg until ctx is done, then drains (see
// the package doc) and returns nil; it returns an error if the host cannot start or serving
// fails. It is NewService followed by Run.
func Serve(ctx context.Context, cfg Config, h Handler) error {
	w, err := NewService(cfg, h)
	if err != nil {
		return err
	}
	return w.Run(ctx)
}

// New is NewService with the built-in jobs (echo, sleep, hash) as the handler.
func New(cfg Config) (*Worker, error) { return NewService(cfg, nil) }

// NewService validates cfg, binds the RPC listener (and the admin listener when enabled) and
// prepares the link for a host serving h (nil: the built-in jobs). Nothing is announced
// until Run. Call Run or Close to release the listeners.
func NewService(cfg Config, h Handler) (*Worker, error) {
	cfg.Grapes = append([]string(nil), cfg.Grapes...)
	cfg.Services = append([]string(nil), cfg.Services...)
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
			next:     h,
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

// Run serves RPC (and admin) requests and announces the service names until ctx is done.
// Then it drains (see the package doc and shutdown) and returns nil. It returns an
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
	rpc := transport.HTTPServerConfig{TLS: w.cfg.TLS, MaxBodyBytes: MaxBodyBytes, BodyBudget: bodies,
		Logger: w.log, Refuse: w.refusing.Load, StreamHandler: w.streamHandler()}
	var ws *transport.WSServer
	if w.cfg.WebSocket {
		// Mounted on the RPC server, which hands it upgrade requests; TLS is the RPC
		// listener's. Its body budget is the same one: a request is one or the other.
		ws, err = transport.NewWSServer(w.wsHandle, transport.WSServerConfig{
			MaxMessageBytes: MaxBodyBytes, BodyBudget: bodies, Logger: w.log})
		if err != nil {
			return fmt.Errorf("worker: %w", err)
		}
		rpc.Upgrade = ws
	}
	srv, err := transport.NewHTTPServer(w.h.handle, rpc)
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
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
	healthCtx, stopHealth := context.WithCancel(context.Background())
	if w.cfg.HealthCheck != nil {
		// Announce only once the first check passed: a sidecar whose backend is down
		// must not appear in lookups even briefly.
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.healthLoop(healthCtx)
		}()
	} else {
		w.setAnnouncing(true)
	}
	w.log.Info().Str("addr", w.Addr()).Str("admin", w.AdminAddr()).Strs("services", w.cfg.names()).
		Strs("grapes", w.cfg.Grapes).Bool("tls", w.cfg.TLS != nil).Bool("ws", ws != nil).Msg("worker serving")

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	stopHealth()
	w.shutdown(srv, ws, adm)
	wg.Wait()
	return runErr
}

// wsHandle serves WebSocket requests through the same handler, refusing them like HTTP ones
// once the drain grace is over (a WS reply has no status, so the token travels alone).
func (w *Worker) wsHandle(ctx context.Context, key string, payload json.RawMessage) (any, error) {
	if w.refusing.Load() {
		return nil, errors.New(transport.TokenServerDraining)
	}
	return w.h.handle(ctx, key, payload)
}

// setAnnouncing starts or stops announcing every service name; stopping unannounces them
// (StopAnnouncing), so lookups stop returning this host at once on grapes that support it.
// Once draining began it only stops.
func (w *Worker) setAnnouncing(on bool) {
	w.annMu.Lock()
	defer w.annMu.Unlock()
	if on && w.stopped || on == w.announcing {
		return
	}
	w.announcing = on
	if on {
		for _, name := range w.cfg.names() {
			w.link.StartAnnouncing(name, w.Port(), w.cfg.AnnounceInterval)
		}
	} else {
		// All names at once: one name's announce must not land after
		// another's unannounce (a flake of TestDrainOrder showed it could).
		w.link.StopAnnouncingAll(w.Port(), w.cfg.names()...)
	}
	w.log.Info().Bool("announcing", on).Msg("announcing changed")
}

// Announcing reports whether the host announces its names now (false before Run, while a
// HealthCheck fails, and once draining began).
func (w *Worker) Announcing() bool {
	w.annMu.Lock()
	defer w.annMu.Unlock()
	return w.announcing
}

// healthLoop runs HealthCheck every HealthInterval until ctx ends, announcing while it passes.
func (w *Worker) healthLoop(ctx context.Context) {
	t := time.NewTicker(w.cfg.HealthInterval)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, w.cfg.HealthInterval)
		err := w.cfg.HealthCheck(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil && w.Announcing() {
			w.log.Warn().Err(err).Msg("health check failed: stop announcing")
		}
		w.setAnnouncing(err == nil)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shutdown drains in the order the package doc gives: healthz turns 503, announcing stops
// and the grapes are asked to drop our names, requests are answered normally for the drain
// grace, then refused with 503 ERR_SERVER_DRAINING; requests in flight get the shutdown grace
// to finish (held ones are released when it ends), then connections close.
func (w *Worker) shutdown(srv *transport.HTTPServer, ws *transport.WSServer, adm *http.Server) {
	close(w.draining)
	w.annMu.Lock()
	w.stopped = true
	w.annMu.Unlock()
	w.setAnnouncing(false)
	w.log.Info().Dur("drain_grace", w.cfg.DrainGrace).Msg("worker unannounced; draining")
	if w.cfg.DrainGrace > 0 {
		t := time.NewTimer(w.cfg.DrainGrace)
		<-t.C
	}
	w.refusing.Store(true)
	_ = w.link.Close()
	w.log.Info().Dur("grace", w.cfg.ShutdownGrace).Msg("worker refusing new requests; finishing those in flight")

	graceCtx, cancel := context.WithTimeout(context.Background(), w.cfg.ShutdownGrace)
	defer cancel()
	stopped := context.AfterFunc(graceCtx, func() { close(w.hardStop) })
	// Keep the listener open while requests are in flight, so late callers get the
	// retryable 503 rather than a refused connection, and only then shut the server down.
	waitIdle(graceCtx, &w.h.active)
	if err := srv.Shutdown(graceCtx); err != nil {
		w.log.Warn().Err(err).Msg("grace period over with requests in flight; closing them")
	}
	if ws != nil {
		_ = ws.Shutdown(graceCtx)
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

// waitIdle returns once n is 0 or ctx is done. It polls: a drain happens once per process
// and a few milliseconds of latency in it cost nothing.
func waitIdle(ctx context.Context, n *atomic.Int64) {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for n.Load() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
