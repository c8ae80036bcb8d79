package gossip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/rs/zerolog"
)

// Announcer keeps a service name announced at a port; a *link.Link is one.
type Announcer interface {
	StartAnnouncing(name string, port int, interval time.Duration)
	StopAnnouncing(name string, port int)
}

// Counters are the numbers the client reports ("gossip" in the --json
// report, the text summary and /metrics).
type Counters struct {
	// Published counts messages handed to our publisher.
	Published uint64 `json:"published"`
	// Received counts frames from other publishers (our own excluded).
	Received uint64 `json:"received"`
	// Applied counts messages that replaced an origin's hints.
	Applied uint64 `json:"applied"`
	// Rejected counts malformed, badly signed, untrusted, expired,
	// conflicting and over-limit frames.
	Rejected uint64 `json:"rejected"`
}

// Gossiper is the I/O shell around the pure parts: it runs a pub/sub
// publisher announced under the channel, publishes every PublishInterval
// what its client's own metrics say about the service's peers, subscribes
// to every publisher of the channel and feeds what arrives into its Book.
// It is the client's [client.HintSource]. Create with New, join it to a
// client with Attach, start with Run, stop by cancelling Run's context or
// with Close.
type Gossiper struct {
	cfg     Config
	service string
	channel string
	ann     Announcer
	res     transport.Resolver
	log     zerolog.Logger
	now     func() time.Time

	book     *Book
	composer *Composer
	metrics  atomic.Pointer[peerMetrics] // what is published; set once by Attach

	ln        net.Listener
	port      int
	pub       *transport.Publisher
	published atomic.Uint64

	mu      sync.Mutex
	running bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// peerMetrics reads the client's own metrics of the service's peers
// (Client.Stats).
type peerMetrics func() []client.PeerStats

// observe makes m what g publishes; false if g already has a source.
func (g *Gossiper) observe(m peerMetrics) bool { return g.metrics.CompareAndSwap(nil, &m) }

// Option adjusts a Gossiper.
type Option func(*Gossiper)

// WithLogger sets the logger (default: none).
func WithLogger(l zerolog.Logger) Option { return func(g *Gossiper) { g.log = l } }

// WithClock sets the clock used for messages, hint ages and decay (default
// time.Now). Timers still run on real time.
func WithClock(now func() time.Time) Option { return func(g *Gossiper) { g.now = now } }

// New validates cfg, binds the publisher's listener (so the port is known
// and errors surface now) and returns a Gossiper for service's channel.
// ann announces the channel (a *link.Link); res looks it up (the same link).
func New(cfg Config, service string, ann Announcer, res transport.Resolver, opts ...Option) (*Gossiper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if ann == nil || res == nil {
		return nil, errors.New("gossip: announcer and resolver are required")
	}
	g := &Gossiper{cfg: cfg, service: service, channel: cfg.ChannelFor(service), ann: ann, res: res, log: zerolog.Nop(), now: time.Now}
	for _, o := range opts {
		o(g)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("gossip: listen %s (GOSSIP_LISTEN): %w", cfg.Listen, err)
	}
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	g.port, _ = strconv.Atoi(p)
	g.ln = ln
	g.book = NewBook(cfg, g.now)
	g.composer = NewComposer(cfg)
	if g.pub, err = transport.NewPublisher(transport.PublisherConfig{QueueSize: 16}); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("gossip: %w", err)
	}
	return g, nil
}

// Channel returns the channel name announced and subscribed.
func (g *Gossiper) Channel() string { return g.channel }

// Port returns the publisher's port.
func (g *Gossiper) Port() int { return g.port }

// Origin returns this client's origin id.
func (g *Gossiper) Origin() string { return g.cfg.Origin }

// Book returns the hint book (for inspection and tests).
func (g *Gossiper) Book() *Book { return g.book }

// Advise implements [client.HintSource]: what the hints received say about
// a peer of g's service (see [Book.Advise]); other services get no advice.
func (g *Gossiper) Advise(service, addr string, now time.Time) client.HintAdvice {
	if service != g.service {
		return client.HintAdvice{}
	}
	return g.book.Advise(addr, now)
}

// Counters returns the report counters.
func (g *Gossiper) Counters() Counters {
	s := g.book.Stats()
	return Counters{Published: g.published.Load(), Received: s.Received, Applied: s.Applied, Rejected: s.Rejected}
}

// Stats returns the book's detailed counters.
func (g *Gossiper) Stats() Stats { return g.book.Stats() }

// Run serves until ctx is done or Close is called, then stops announcing,
// closes the subscriber and the publisher, and returns nil. It can run once.
func (g *Gossiper) Run(ctx context.Context) error {
	g.mu.Lock()
	if g.running || g.closed {
		g.mu.Unlock()
		return errors.New("gossip: Run called twice or after Close")
	}
	ctx, cancel := context.WithCancel(ctx)
	g.running, g.cancel, g.done = true, cancel, make(chan struct{})
	g.mu.Unlock()
	defer close(g.done)
	defer cancel()
	sub, err := transport.NewSubscriber(g.res, g.channel, transport.SubscriberConfig{
		LookupInterval:      g.cfg.PublishInterval,
		MessageBuffer:       256,
		ReconnectBackoffMin: 100 * time.Millisecond,
		ReconnectBackoffMax: g.cfg.PublishInterval,
		Logger:              g.log,
	})
	if err != nil {
		return fmt.Errorf("gossip: %w", err)
	}

	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := g.pub.Serve(g.ln); err != nil {
			g.log.Warn().Err(err).Msg("gossip publisher stopped")
		}
	}()
	g.ann.StartAnnouncing(g.channel, g.port, g.cfg.AnnounceInterval)

	g.loop(ctx, sub)

	g.ann.StopAnnouncing(g.channel, g.port)
	_ = sub.Close()
	for range sub.Messages() { // drain what Close left buffered
	}
	if n := sub.Dropped(); n > 0 {
		g.log.Warn().Int64("frames", n).Msg("gossip: subscriber buffer overflowed")
	}
	sctx, scancel := context.WithTimeout(context.Background(), 2*time.Second)
	_ = g.pub.Shutdown(sctx)
	scancel()
	<-served
	return nil
}

// loop publishes on a ticker and ingests what the subscriber delivers.
func (g *Gossiper) loop(ctx context.Context, sub *transport.Subscriber) {
	tick := time.NewTicker(g.cfg.PublishInterval)
	defer tick.Stop()
	g.publish()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			g.publish()
			g.book.Refresh()
		case m, ok := <-sub.Messages():
			if !ok {
				return
			}
			if v := g.book.Ingest(m.From, m.Data); v.Rejected() {
				g.log.Debug().Str("from", m.From).Stringer("verdict", v).Msg("gossip frame rejected")
			}
		}
	}
}

// publish sends, as one frame, what the attached client's metrics say now
// (an empty frame before Attach: the channel is live, nothing is claimed).
func (g *Gossiper) publish() {
	now := g.now()
	var hints []Hint
	if m := g.metrics.Load(); m != nil {
		hints = HintsFrom(&g.cfg, (*m)(), now)
	}
	frame, err := g.composer.Compose(now, hints)
	if err != nil {
		g.log.Error().Err(err).Msg("gossip: cannot encode hints")
		return
	}
	g.pub.Publish(frame)
	g.published.Add(1)
}

// Close stops Run and waits for it to return, or releases the listener if
// Run never started. Safe to call more than once.
func (g *Gossiper) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	running, cancel, done := g.running, g.cancel, g.done
	g.mu.Unlock()
	if !running {
		return g.ln.Close()
	}
	cancel()
	<-done
	return nil
}
