package transport

import (
	"context"
	"crypto/tls"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/rs/zerolog"
)

// Message is one pub/sub frame and the publisher ("ip:port") it came from.
type Message struct {
	From string
	Data []byte
}

// maxPublisherAddr is the longest "host:port" a publisher may have: a
// 253-byte DNS name, a colon and five digits.
const maxPublisherAddr = 253 + 1 + 5

// maxFrameBytes is the largest pub/sub frame a Subscriber reads.
const maxFrameBytes = 1 << 20

// Subscriber receives a pub/sub channel from every publisher announcing it
// (fan-in), unlike Node's PeerSub, which connects to one random publisher
// and never reconnects. It looks the channel up periodically, keeps one
// socket per publisher at ws://addr/ws, sends nothing on it (as Node's
// subscriber), and reconnects with backoff when a socket drops, for as long
// as the publisher is still listed by the lookup.
type Subscriber struct {
	r           Resolver
	channel     string
	lookupEvery time.Duration
	backoffMin  time.Duration
	backoffMax  time.Duration
	bufSize     int
	bufBytes    int
	maxPubs     int
	tls         *tls.Config
	log         zerolog.Logger
	hc          *http.Client
	scheme      string

	out     chan Message
	dropped atomic.Int64
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once

	mu     sync.Mutex
	pubs   map[string]*subConn // publishers from the latest lookups, at most maxPubs
	wanted map[string]bool     // addresses in the latest lookup that are tracked

	// sendMu serializes delivery into out, so the sizes of what is in it
	// are the last len(out) entries of sizes (a FIFO ring).
	sendMu   sync.Mutex
	sizes    []int
	sizeHead int // index of the oldest size
	sizeLen  int
	buffered int // sum of the sizes in the ring
}

type subConn struct {
	connected atomic.Bool
}

// NewSubscriber validates cfg and starts subscribing to channel through r;
// cfg's zero fields take the defaults. Close stops it.
func NewSubscriber(r Resolver, channel string, cfg SubscriberConfig) (*Subscriber, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Subscriber{
		r: r, channel: channel,
		lookupEvery: cfg.LookupInterval,
		backoffMin:  cfg.ReconnectBackoffMin,
		backoffMax:  cfg.ReconnectBackoffMax,
		bufSize:     cfg.MessageBuffer,
		bufBytes:    cfg.MessageBufferBytes,
		maxPubs:     cfg.MaxPublishers,
		tls:         cfg.TLS,
		log:         cfg.Logger,
		scheme:      "ws://",
		pubs:        make(map[string]*subConn),
		wanted:      make(map[string]bool),
	}
	tr := &http.Transport{Proxy: nil, TLSHandshakeTimeout: 5 * time.Second}
	if s.tls != nil {
		tr.TLSClientConfig = s.tls.Clone()
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		s.scheme = "wss://"
	}
	s.hc = &http.Client{Transport: tr}
	s.out = make(chan Message, s.bufSize)
	s.sizes = make([]int, cap(s.out))
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.wg.Add(1)
	go s.discover()
	return s, nil
}

// Messages returns the channel of received messages. It is closed after
// Close, once every socket has stopped.
func (s *Subscriber) Messages() <-chan Message { return s.out }

// Dropped returns how many messages were discarded because Messages was
// full.
func (s *Subscriber) Dropped() int64 { return s.dropped.Load() }

// Connected returns the publishers with an open socket, sorted.
func (s *Subscriber) Connected() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for a, c := range s.pubs {
		if c.connected.Load() {
			out = append(out, a)
		}
	}
	sort.Strings(out)
	return out
}

// Close stops lookups and closes every socket, then closes Messages.
func (s *Subscriber) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.wg.Wait()
		s.hc.CloseIdleConnections()
		close(s.out)
	})
	return nil
}

// discover looks the channel up now and every lookupEvery, starting a
// connection loop for each publisher it has not seen yet.
func (s *Subscriber) discover() {
	defer s.wg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		lctx, cancel := context.WithTimeout(s.ctx, max(s.lookupEvery, 2*time.Second))
		addrs, err := s.r.Lookup(lctx, s.channel)
		cancel()
		if err != nil && s.ctx.Err() == nil {
			s.log.Debug().Err(err).Str("channel", s.channel).Msg("pubsub lookup failed")
		}
		if err == nil {
			s.reconcile(addrs)
		}
		t.Reset(s.lookupEvery)
	}
}

// reconcile records the latest lookup and starts loops for new publishers.
// Publishers that vanished from the lookup keep their socket while it
// lives (a working socket is better evidence than a lookup) but are not
// redialled once it drops.
func (s *Subscriber) reconcile(addrs []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return
	}
	wanted := make(map[string]bool, min(len(addrs), s.maxPubs))
	for _, a := range addrs {
		if len(a) > maxPublisherAddr || len(wanted) >= s.maxPubs {
			continue
		}
		if _, ok := s.pubs[a]; !ok {
			if len(s.pubs) >= s.maxPubs {
				continue // full of publishers whose sockets still live
			}
			wanted[a] = true
			c := &subConn{}
			s.pubs[a] = c
			s.wg.Add(1)
			go s.connLoop(a, c)
			continue
		}
		wanted[a] = true
	}
	s.wanted = wanted
}

func (s *Subscriber) stillWanted(addr string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wanted[addr] {
		return true
	}
	delete(s.pubs, addr)
	return false
}

// connLoop keeps one publisher connected, with exponential backoff and
// jitter between attempts, until Close or the publisher leaves the lookup.
func (s *Subscriber) connLoop(addr string, c *subConn) {
	defer s.wg.Done()
	backoff := s.backoffMin
	for {
		if s.ctx.Err() != nil {
			return
		}
		received := s.receive(addr, c)
		if s.ctx.Err() != nil {
			return
		}
		if received {
			backoff = s.backoffMin
		}
		if !s.stillWanted(addr) {
			return
		}
		delay := time.Duration(float64(backoff) * (0.5 + rand.Float64()))
		backoff = min(2*backoff, s.backoffMax)
		t := time.NewTimer(delay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// receive dials addr and forwards frames until the socket ends. It reports
// whether the connection was established (to reset the backoff).
func (s *Subscriber) receive(addr string, c *subConn) bool {
	dctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	ws, _, err := websocket.Dial(dctx, s.scheme+addr+"/ws", &websocket.DialOptions{
		HTTPClient:      s.hc,
		CompressionMode: websocket.CompressionDisabled,
	})
	cancel()
	if err != nil {
		s.log.Debug().Err(err).Str("publisher", addr).Msg("pubsub dial failed")
		return false
	}
	ws.SetReadLimit(maxFrameBytes)
	c.connected.Store(true)
	defer c.connected.Store(false)
	defer ws.CloseNow()
	for {
		_, data, err := ws.Read(s.ctx)
		if err != nil {
			s.log.Debug().Err(err).Str("publisher", addr).Msg("pubsub socket closed")
			return true
		}
		if !s.deliver(Message{From: addr, Data: data}) {
			s.dropped.Add(1)
		}
	}
}

// deliver puts m into out unless out is full by count or by bytes. Sends
// are serialized, and out is FIFO, so what out holds is the last len(out)
// messages delivered: older sizes in the ring have been read and are
// forgotten first. A reader may take more meanwhile, which only makes
// the estimate conservative.
func (s *Subscriber) deliver(m Message) bool {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	for s.sizeLen > len(s.out) {
		s.buffered -= s.sizes[s.sizeHead]
		s.sizeHead = (s.sizeHead + 1) % len(s.sizes)
		s.sizeLen--
	}
	n := len(m.Data) + len(m.From)
	if s.buffered+n > s.bufBytes {
		return false
	}
	select {
	case s.out <- m:
	default:
		return false
	}
	s.sizes[(s.sizeHead+s.sizeLen)%len(s.sizes)] = n
	s.sizeLen++
	s.buffered += n
	return true
}
