package grape

import (
	"context"
	"crypto/sha1"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
)

// fakeNode is an in-memory DHT: announcements are stored locally, lookups
// answer them, puts store immutable items. It lets the HTTP framing be
// tested without UDP.
type fakeNode struct {
	mu          sync.Mutex
	addr        netip.AddrPort
	ready       chan struct{}
	peers       map[string][]netip.AddrPort
	local       map[string][]netip.AddrPort
	values      map[dht.Target]dht.Item
	announced   []int         // ports passed to Announce
	annGate     chan struct{} // when set, Announce waits on it
	unannounced []int         // ports passed to Unannounce
	lookups     int
	putErr      error
	annErr      error
	lookupGate  chan struct{} // when set, Lookup waits on it
	staleLookup bool          // Lookup answers what was stored before it waited on lookupGate
}

func newFakeNode() *fakeNode {
	f := &fakeNode{
		addr:   netip.MustParseAddrPort("127.0.0.1:20002"),
		ready:  make(chan struct{}),
		peers:  map[string][]netip.AddrPort{},
		local:  map[string][]netip.AddrPort{},
		values: map[dht.Target]dht.Item{},
	}
	close(f.ready)
	return f
}

func (f *fakeNode) Run(ctx context.Context) error       { <-ctx.Done(); return nil }
func (f *fakeNode) Ready() <-chan struct{}              { return f.ready }
func (f *fakeNode) Close() error                        { return nil }
func (f *fakeNode) Snapshot(int, int, int) dht.Snapshot { return dht.Snapshot{ID: f.ID()} }
func (f *fakeNode) ID() dht.NodeID                      { return dht.NodeID{0xab, 0xcd} }
func (f *fakeNode) Addr() netip.AddrPort                { return f.addr }

func (f *fakeNode) Announce(_ context.Context, key []byte, port int) (int, error) {
	f.mu.Lock()
	gate := f.annGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.annErr != nil {
		return 0, f.annErr
	}
	f.announced = append(f.announced, port)
	f.peers[string(key)] = append(f.peers[string(key)], netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port)))
	return 1, nil
}

func (f *fakeNode) StoreLocal(key []byte, peer netip.AddrPort, _ netip.Addr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.local[string(key)] = append(f.local[string(key)], peer)
}

func (f *fakeNode) Unannounce(_ context.Context, key []byte, port int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.unannounced = append(f.unannounced, port)
	ps := f.peers[string(key)]
	n := len(ps)
	f.peers[string(key)] = slices.DeleteFunc(ps, func(p netip.AddrPort) bool { return int(p.Port()) == port })
	return n - len(f.peers[string(key)]), nil
}

func (f *fakeNode) RemoveLocal(key []byte, peer netip.AddrPort) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := f.local[string(key)]
	n := len(ps)
	f.local[string(key)] = slices.DeleteFunc(ps, func(p netip.AddrPort) bool { return p == peer })
	return len(f.local[string(key)]) < n
}

func (f *fakeNode) Lookup(_ context.Context, key []byte) ([]netip.AddrPort, error) {
	f.mu.Lock()
	gate := f.lookupGate
	f.lookups++
	stale := append(append([]netip.AddrPort{}, f.local[string(key)]...), f.peers[string(key)]...)
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.staleLookup {
		return stale, nil
	}
	out := append([]netip.AddrPort{}, f.local[string(key)]...)
	return append(out, f.peers[string(key)]...), nil
}

func (f *fakeNode) Put(_ context.Context, item dht.Item) (dht.Target, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.putErr != nil {
		return dht.Target{}, f.putErr
	}
	t := dht.Target(sha1.Sum([]byte(strconv.Itoa(len(item.V)) + ":" + string(item.V))))
	f.values[t] = item
	return t, nil
}

func (f *fakeNode) Get(_ context.Context, target dht.Target, _ []byte) (dht.GetResult, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it, ok := f.values[target]
	if !ok {
		return dht.GetResult{}, false, nil
	}
	return dht.GetResult{From: f.ID(), Local: true, Item: it}, true, nil
}

func (f *fakeNode) Stats() dht.Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return dht.Stats{
		ID: f.ID(), Addr: f.addr, RoutingNodes: 3, PeerKeys: len(f.peers), Peers: 7, Values: len(f.values),
		QueriesSent: map[string]uint64{"get_peers": 4}, QueriesRecv: map[string]uint64{"ping": 2}, QueryTimeouts: 1, Unreachable: 2,
	}
}

// startFake runs a grape over a fake node on a free loopback port.
func startFake(t *testing.T, mod func(*Config)) (*Grape, *fakeNode) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Bind = "127.0.0.1"
	cfg.APIPort = 0
	cfg.ShutdownTimeout = time.Second
	if mod != nil {
		mod(&cfg)
	}
	node := newFakeNode()
	g, err := newGrape(cfg, node)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return g, node
}
