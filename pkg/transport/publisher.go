package transport

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Publisher is the publishing side of Grenache pub/sub, wire-compatible
// with grenache-nodejs-ws's PeerPub: a WebSocket server (any path) that
// sends every Publish(msg) as one raw text frame to every connected
// subscriber. There is no envelope and no acknowledgement; one Publisher is
// one channel (announce the channel name at its port with a link).
//
// Each subscriber has a bounded send queue. A subscriber whose queue is
// full is disconnected rather than buffered without limit or allowed to
// slow the others down; it may reconnect and resume with newer messages.
type Publisher struct {
	hub     *wsHub
	queue   int
	maxSubs int
	wtimo   time.Duration
	mu      sync.Mutex
	subs    map[*pubSub]struct{}
	dropped atomic.Int64
	refused atomic.Int64
}

type pubSub struct {
	q    chan []byte
	kill chan struct{} // closed to drop a slow subscriber
	once sync.Once
}

func (s *pubSub) drop() { s.once.Do(func() { close(s.kill) }) }

// NewPublisher validates cfg and returns a Publisher; call Serve to start
// it. cfg's zero fields take the defaults.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	p := &Publisher{queue: cfg.QueueSize, maxSubs: cfg.MaxSubscribers, wtimo: cfg.WriteTimeout, subs: make(map[*pubSub]struct{})}
	p.hub = newWSHub(p.serveConn)
	p.hub.tls = cfg.TLS
	return p, nil
}

// Serve accepts subscribers on ln until Shutdown (then returns nil).
func (p *Publisher) Serve(ln net.Listener) error { return p.hub.serve(ln) }

// ServeHTTP upgrades any request to a subscriber connection.
func (p *Publisher) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.hub.ServeHTTP(w, r) }

// Shutdown stops accepting and closes every subscriber connection.
func (p *Publisher) Shutdown(ctx context.Context) error { return p.hub.shutdown(ctx, nil) }

// Publish queues msg for every connected subscriber and returns at once.
// msg must not be modified afterwards (it is shared, not copied).
func (p *Publisher) Publish(msg []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for s := range p.subs {
		select {
		case s.q <- msg:
		default:
			delete(p.subs, s)
			s.drop()
			p.dropped.Add(1)
		}
	}
}

// Subscribers returns how many subscribers are connected.
func (p *Publisher) Subscribers() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.subs)
}

// Dropped returns how many subscribers were disconnected for being slow.
func (p *Publisher) Dropped() int64 { return p.dropped.Load() }

// Refused returns how many subscribers were turned away at
// PublisherConfig.MaxSubscribers.
func (p *Publisher) Refused() int64 { return p.refused.Load() }

func (p *Publisher) serveConn(ctx context.Context, c *websocket.Conn, _ *corkConn, _ *http.Request) {
	s := &pubSub{q: make(chan []byte, p.queue), kill: make(chan struct{})}
	p.mu.Lock()
	if len(p.subs) >= max(p.maxSubs, 1) {
		p.mu.Unlock()
		p.refused.Add(1)
		_ = c.Close(websocket.StatusTryAgainLater, "too many subscribers")
		return
	}
	p.subs[s] = struct{}{}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.subs, s)
		p.mu.Unlock()
	}()
	// Subscribers send nothing; CloseRead answers pings and the close
	// handshake and tells us when the peer goes away.
	gone := c.CloseRead(ctx)
	for {
		select {
		case msg := <-s.q:
			wctx, cancel := context.WithTimeout(gone, p.wtimo)
			err := c.Write(wctx, websocket.MessageText, msg)
			cancel()
			if err != nil {
				return
			}
		case <-s.kill:
			_ = c.CloseNow()
			return
		case <-gone.Done():
			return
		}
	}
}
