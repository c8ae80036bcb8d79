package dht

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// wallClock is the default Clock.
type wallClock struct{}

// Now is the wall-clock time.
func (wallClock) Now() time.Time { return time.Now() }

// Node is one Grenache DHT node: a KRPC server and client on one UDP
// socket, in the bittorrent-dht dialect Node grapes speak.
type Node struct {
	cfg  Config
	conn *net.UDPConn
	addr netip.AddrPort
	id   NodeID

	mu       sync.Mutex // guards everything below
	rt       *routingTable
	tokens   *tokens
	peers    *peerStore
	values   *valueStore
	tables   *lookupTables
	pending  map[uint16]*pending
	nextTID  uint16
	sent     map[string]uint64
	recv     map[string]uint64
	suspects map[netip.AddrPort]suspicion

	stats struct {
		timeouts, errorsSent, badPackets atomic.Uint64
		unreachable                      atomic.Uint64 // queries failed by ICMP
	}
	inPacket  atomic.Bool   // the read loop is handling a datagram
	slots     chan struct{} // bounds outstanding queries
	replacing atomic.Int32  // ping-oldest replacements in progress

	ready     chan struct{}
	readyOnce sync.Once
	life      context.Context // ends when the node closes
	kill      context.CancelFunc
	closing   <-chan struct{} // life.Done()
	closeOnce sync.Once
	wg        sync.WaitGroup // read loop and background queries
	runWG     sync.WaitGroup
}

// validate checks cfg and fills defaults for zero-valued optional fields.
func (cfg *Config) validate() error {
	if cfg.Clock == nil {
		cfg.Clock = wallClock{}
	}
	switch {
	case cfg.PeerMaxAge < 0:
		return fmt.Errorf("dht: PeerMaxAge must be >= 0, got %v", cfg.PeerMaxAge)
	case cfg.MaxTables < 0 || cfg.MaxValues < 0 || cfg.MaxPeers < 0:
		return errors.New("dht: MaxTables, MaxValues and MaxPeers must be >= 0")
	case cfg.MaxPeerBytes < 0 || cfg.MaxValueBytes < 0 || cfg.MaxTableBytes < 0:
		return errors.New("dht: MaxPeerBytes, MaxValueBytes and MaxTableBytes must be >= 0")
	case cfg.Concurrency < 1 || cfg.Concurrency > 256:
		return fmt.Errorf("dht: Concurrency must be in 1..256, got %d", cfg.Concurrency)
	case cfg.QueryTimeout <= 0:
		return fmt.Errorf("dht: QueryTimeout must be > 0, got %v", cfg.QueryTimeout)
	case cfg.NodeLiveness <= 0:
		return fmt.Errorf("dht: NodeLiveness must be > 0, got %v", cfg.NodeLiveness)
	}
	for _, b := range cfg.Bootstrap {
		if _, err := CheckBootstrap(b); err != nil {
			return fmt.Errorf("dht: Bootstrap entry %q: %v; allowed %s", b, err, BootstrapSyntax)
		}
	}
	return nil
}

// newNode builds a node's state without a socket (tests and the fuzz
// target drive handlePacket directly).
func newNode(cfg Config) (*Node, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n := &Node{
		cfg:      cfg,
		pending:  make(map[uint16]*pending),
		sent:     make(map[string]uint64),
		recv:     make(map[string]uint64),
		suspects: make(map[netip.AddrPort]suspicion),
		slots:    make(chan struct{}, maxOutstanding),
		ready:    make(chan struct{}),
	}
	n.life, n.kill = context.WithCancel(context.Background())
	n.closing = n.life.Done()
	_, _ = rand.Read(n.id[:])
	now := cfg.Clock.Now()
	n.rt = newRoutingTable(n.id, K, now)
	n.tokens = newTokens(now)
	n.peers = newPeerStore(cfg.PeerMaxAge, cfg.MaxPeers, cfg.MaxPeerBytes, now)
	n.values = newValueStore(cfg.MaxValues, cfg.MaxValueBytes)
	n.tables = newLookupTables(cfg.MaxTables, cfg.MaxTableBytes)
	return n, nil
}

// New validates cfg and binds the UDP socket (IPv4, as the Grenache wire
// only has compact IPv4 formats). Replies to queries start right away;
// Run bootstraps and keeps the routing table healthy.
func New(cfg Config) (*Node, error) {
	n, err := newNode(cfg)
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp4", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("dht: Addr %q: %w", cfg.Addr, err)
	}
	conn, err := net.ListenUDP("udp4", ua)
	if err != nil {
		return nil, fmt.Errorf("dht: listen %s: %w", cfg.Addr, err)
	}
	if err := enableUnreachable(conn); err != nil {
		// Not fatal: queries to dead ports then wait their QueryTimeout.
		cfg.Logger.Warn().Err(err).Msg("ICMP errors not enabled on the DHT socket")
	}
	n.conn = conn
	la := conn.LocalAddr().(*net.UDPAddr).AddrPort()
	n.addr = netip.AddrPortFrom(la.Addr().Unmap(), la.Port())
	n.wg.Add(1)
	go n.readLoop()
	return n, nil
}

// Run bootstraps (find_node walks on our own id from the bootstrap list,
// retried with a short backoff until some node answers: join.go), closes
// Ready, and then keeps the routing table alive until ctx is done or Close
// is called. It closes the node before returning.
func (n *Node) Run(ctx context.Context) error {
	n.runWG.Add(1)
	defer n.runWG.Done()
	defer n.shutdown()
	ctx, cancel := n.lifetime(ctx)
	defer cancel()
	n.join(ctx)
	n.maintain(ctx)
	return nil
}

// lifetime derives a context that also ends when the node closes.
func (n *Node) lifetime(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(n.life, cancel)
	return ctx, func() { stop(); cancel() }
}

// Ready is closed when a bootstrap walk has heard from some node, or
// QueryTimeout after Run started if none has (Node's "ready" event comes
// after its first walk, which waits that long for a peer that is not up),
// or when the node closes. Without a bootstrap list, after the first walk.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// shutdown stops every goroutine except Run itself.
func (n *Node) shutdown() {
	n.closeOnce.Do(func() {
		n.mu.Lock() // so that spawn either sees closing or is waited for
		n.kill()
		n.mu.Unlock()
		if n.conn != nil {
			_ = n.conn.Close()
		}
		n.wg.Wait()
		n.markReady()
	})
}

// Close stops Run, closes the socket and waits for every goroutine.
func (n *Node) Close() error {
	n.shutdown()
	n.runWG.Wait()
	return nil
}

// ID is this node's id, random at every start.
func (n *Node) ID() NodeID { return n.id }

// Addr is the bound UDP address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// learn adds or refreshes a node that sent us a well-formed query or reply.
// When its bucket is full, the oldest contacts are pinged and a dead one is
// replaced (k-bucket's ping-oldest policy).
func (n *Node) learn(c contact) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	added, toPing := n.rt.observe(c, now)
	delete(n.suspects, c.Addr) // it just spoke to us: alive
	n.mu.Unlock()
	if added {
		n.emit(Event{Type: EventNode, Addr: c.Addr})
	}
	if len(toPing) > 0 && n.conn != nil {
		n.replaceOldest(toPing, c)
	}
}

// go runs f as a goroutine owned by the node (waited for by Close); it is
// a no-op once the node is closing.
func (n *Node) spawn(f func()) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.closing:
		return false
	default:
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		f()
	}()
	return true
}

// Stats returns a snapshot of state and counters.
func (n *Node) Stats() Stats {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	s := Stats{
		ID:            n.id,
		Addr:          n.addr,
		RoutingNodes:  n.rt.len(),
		Values:        n.values.len(),
		QueriesSent:   make(map[string]uint64, len(n.sent)),
		QueriesRecv:   make(map[string]uint64, len(n.recv)),
		QueryTimeouts: n.stats.timeouts.Load(),
		ErrorsSent:    n.stats.errorsSent.Load(),
		BadPackets:    n.stats.badPackets.Load(),
		Unreachable:   n.stats.unreachable.Load(),
	}
	s.PeerKeys, s.Peers = n.peers.counts(now)
	for k, v := range n.sent {
		s.QueriesSent[k] = v
	}
	for k, v := range n.recv {
		s.QueriesRecv[k] = v
	}
	return s
}

// knownQueries are counted by name; anything else as "unknown" so remote
// input cannot grow the map.
var knownQueries = map[string]bool{
	"ping": true, "find_node": true, "get_peers": true, "announce_peer": true, "get": true, "put": true,
	queryUnannounce: true,
}

func (n *Node) countRecv(q string) {
	if !knownQueries[q] {
		q = "unknown"
	}
	n.mu.Lock()
	n.recv[q]++
	n.mu.Unlock()
}

func (n *Node) countSent(q string) {
	n.mu.Lock()
	n.sent[q]++
	n.mu.Unlock()
}
