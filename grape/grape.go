// Package grape is a Grenache grape: a DHT node (pkg/dht) plus the HTTP API
// that Grenache links speak (/announce, /lookup, /put, /get), answering
// byte for byte like grenache-grape 1.0.0, with /healthz, /metrics and
// /status added for operators.
package grape

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/connlimit"
	"github.com/grenache-go/grenache/pkg/dht"
	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"
)

// Grape is one running grape. Create it with New, serve with Run, stop by
// cancelling Run's context or with Close.
type Grape struct {
	cfg    Config
	log    zerolog.Logger
	node   dhtNode
	ln     net.Listener
	capped net.Listener // ln behind the MaxConns cap; what the API serves
	srv    *http.Server
	seen   *seenPeers
	lcache *lookupCache
	// removals keeps lookup walks from re-adding taken-back records.
	removals *removals
	// announcing lets /unannounce wait for announces of it in flight.
	announcing announcing
	lookups    singleflight.Group
	bodies     *budget.Budget // request bodies being read, over all connections

	// Background lookup refreshes (see refresh).
	bgMu      sync.Mutex
	bg        sync.WaitGroup
	bgRunning int
	bgStopped bool
	metrics   *metrics
	events    *eventStream
	selfIP    netip.Addr // valid when Bind is an IPv4 address: self-store
	started   time.Time
	// uiStreams counts open /ui/events streams; uiStop ends them at shutdown.
	uiStreams atomic.Int32
	uiStop    chan struct{}
	now       func() time.Time

	// opCtx bounds DHT work started by requests; it outlives a client's
	// disconnect (as in Node) and ends when the grape stops.
	opCtx    context.Context
	opCancel context.CancelFunc

	mu       sync.Mutex
	running  bool
	runStop  context.CancelFunc
	runDone  chan struct{}
	closed   bool
	closeErr error
}

// New validates cfg, binds the DHT's UDP socket and the API's TCP listener
// (port 0 picks free ones) and returns a grape that serves nothing until Run.
func New(cfg Config) (*Grape, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	lc := newLookupCache(cfg.LookupCacheTTL, lookupCacheMax, cfg.LookupCacheBytes, cfg.now())
	ev := newEventStream(cfg.EventBuffer, cfg.now())
	dcfg := cfg.dhtConfig()
	dcfg.OnNewPeer = lc.invalidate
	// The node answers packets before the grape exists: the hook looks
	// the grape up when it fires.
	var self atomic.Pointer[Grape]
	dcfg.OnPeerGone = func(key string, peer netip.AddrPort, stored bool) {
		if g := self.Load(); g != nil {
			g.peerGone(key, peer, stored)
		}
	}
	dcfg.OnEvent = ev.fromDHT
	node, err := dht.New(dcfg)
	if err != nil {
		return nil, fmt.Errorf("grape: dht: %w", err)
	}
	g, err := newGrapeWith(cfg, node, lc)
	if err != nil {
		_ = node.Close()
		return nil, err
	}
	self.Store(g)
	g.events = ev
	return g, nil
}

// lookupCacheMax bounds the names per lookup-cache generation;
// seenPeersMax the fresh records of the seen-peers memory (Node's 5000).
const (
	lookupCacheMax = 10000
	seenPeersMax   = 5000
	// removalsBytes bounds the names of recent removals (removals);
	// removalsWindow outlasts any lookup walk (a few QueryTimeouts).
	removalsBytes  = 1 << 20
	removalsWindow = 30 * time.Second
)

// newGrape builds a grape around any DHT node; tests pass a fake.
func newGrape(cfg Config, node dhtNode) (*Grape, error) {
	return newGrapeWith(cfg, node, newLookupCache(cfg.LookupCacheTTL, lookupCacheMax, cfg.LookupCacheBytes, cfg.now()))
}

// newGrapeWith takes the lookup cache the DHT node's OnNewPeer hook feeds.
func newGrapeWith(cfg Config, node dhtNode, lc *lookupCache) (*Grape, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	host := ""
	if cfg.Bind != "" {
		host = cfg.Bind
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.APIPort)))
	if err != nil {
		return nil, fmt.Errorf("grape: api listen: %w", err)
	}
	now := cfg.now()
	g := &Grape{
		lcache:  lc,
		cfg:     cfg,
		log:     cfg.Logger.With().Str("component", "grape").Logger(),
		node:    node,
		ln:      ln,
		capped:  connlimit.NewListener(ln, cfg.MaxConns),
		started: now(),
		now:     now,
		runDone: make(chan struct{}),
		uiStop:  make(chan struct{}),
	}
	if cfg.Bind != "" {
		if ip := netip.MustParseAddr(cfg.Bind).Unmap(); ip.Is4() {
			g.selfIP = ip
		}
	}
	memAge := time.Duration((cfg.PeerMaxAge.Milliseconds()+1)/2) * time.Millisecond
	g.seen = newSeenPeers(memAge, seenPeersMax, cfg.SeenPeersBytes, now)
	g.removals = newRemovals(removalsWindow, removalsBytes, now)
	g.metrics = newMetrics(node, g.seen)
	g.events = newEventStream(cfg.EventBuffer, now)
	g.opCtx, g.opCancel = context.WithCancel(context.Background())
	if g.bodies, err = budget.New(cfg.BodyBudget, budget.DefaultWait); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("grape: %w", err)
	}
	g.srv = &http.Server{
		Handler:     g.router(),
		ConnContext: withConnRoute,
		// Node's 60 s header timeout let a slowloris client hold a socket
		// (and, before MaxConns, a descriptor) for a minute per request.
		ReadHeaderTimeout: cfg.HeaderTimeout,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       5 * time.Second, // Node's keepAliveTimeout
		// net/http's own complaints (bad requests, accept errors) go to our log.
		ErrorLog: log.New(g.log.With().Str("source", "net/http").Logger(), "", 0),
	}
	// Live-view streams never go idle: end them when the drain starts.
	g.srv.RegisterOnShutdown(func() { close(g.uiStop) })
	return g, nil
}

// APIURL is the base URL of the HTTP API, e.g. "http://127.0.0.1:30001":
// loopback when the API listens on all interfaces, else the Bind address.
func (g *Grape) APIURL() string {
	host := "127.0.0.1"
	if g.cfg.Bind != "" {
		if ip := netip.MustParseAddr(g.cfg.Bind); !ip.IsUnspecified() {
			host = ip.String()
		}
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(g.ln.Addr().(*net.TCPAddr).Port))
}

// APIAddr is the bound address of the HTTP API.
func (g *Grape) APIAddr() net.Addr { return g.ln.Addr() }

// DHTAddr is the bound UDP address of the DHT node.
func (g *Grape) DHTAddr() netip.AddrPort { return g.node.Addr() }

// Ready is closed when the DHT has joined (a bootstrap walk heard from some
// node), or one QueryTimeout after Run started if no bootstrap peer has
// answered by then (the DHT keeps retrying them); see dht.Node.Ready.
func (g *Grape) Ready() <-chan struct{} { return g.node.Ready() }

// Run serves the DHT and the HTTP API until ctx is done or Close is called,
// then stops accepting requests, waits for in-flight ones (at most
// ShutdownTimeout), and closes the DHT node. It can be called once.
func (g *Grape) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.running || g.closed {
		g.mu.Unlock()
		return errors.New("grape: Run called twice or after Close")
	}
	g.running = true
	ctx, cancel := context.WithCancel(ctx)
	g.runStop = cancel
	g.mu.Unlock()
	defer close(g.runDone)
	defer cancel()

	dhtCtx, dhtCancel := context.WithCancel(context.Background())
	dhtErr := make(chan error, 1)
	go func() { dhtErr <- g.node.Run(dhtCtx) }()
	srvErr := make(chan error, 1)
	go func() { srvErr <- g.srv.Serve(g.capped) }()
	g.log.Info().Str("api", g.ln.Addr().String()).Str("dht", g.node.Addr().String()).Msg("grape running")
	g.events.send(Event{Type: EventListening})
	readyStop, readyDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(readyDone); g.watchReady(readyStop) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-srvErr:
		srvErr <- nil
	case err = <-dhtErr:
		dhtErr <- nil
	}
	close(readyStop) // the node's Ready closes when it stops: not a join
	// Drain HTTP first: in-flight requests still need the DHT.
	shutCtx, shutCancel := context.WithTimeout(context.Background(), g.shutdownTimeout())
	if serr := g.srv.Shutdown(shutCtx); serr != nil {
		g.log.Warn().Err(serr).Msg("http drain incomplete")
		_ = g.srv.Close()
	}
	shutCancel()
	if serr := <-srvErr; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	g.opCancel()
	g.stopRefreshes()
	dhtCancel()
	if derr := <-dhtErr; derr != nil && !errors.Is(derr, context.Canceled) && err == nil {
		err = derr
	}
	if cerr := g.node.Close(); cerr != nil && err == nil {
		err = cerr
	}
	<-readyDone
	g.events.close() // the closed node reports nothing more
	g.log.Info().Msg("grape stopped")
	return err
}

func (g *Grape) shutdownTimeout() time.Duration {
	if g.cfg.ShutdownTimeout > 0 {
		return g.cfg.ShutdownTimeout
	}
	return 5 * time.Second
}

// Close stops the grape: it ends a running Run and waits for it, or, if Run
// was never called, releases the sockets. It is safe to call more than once.
func (g *Grape) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return g.closeErr
	}
	g.closed = true
	running, stop := g.running, g.runStop
	g.mu.Unlock()
	if running {
		stop()
		<-g.runDone
		return nil
	}
	g.opCancel()
	g.stopRefreshes()
	err := errors.Join(g.ln.Close(), g.node.Close())
	g.events.close()
	g.mu.Lock()
	g.closeErr = err
	g.mu.Unlock()
	return err
}
