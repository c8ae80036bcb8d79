package dht

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
)

// Node is one Grenache DHT node: a KRPC server and client on one UDP socket.
type Node struct {
	cfg   Config
	conn  *net.UDPConn
	addr  netip.AddrPort
	id    NodeID
	ready chan struct{}

	closeOnce sync.Once
}

// New validates cfg and binds the UDP socket. The node serves nothing until Run.
func New(cfg Config) (*Node, error) {
	return nil, errors.New("dht: not implemented yet")
}

// Run bootstraps (a find_node walk on our own id) and then serves until ctx is done.
func (n *Node) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// Ready is closed when the first bootstrap walk has ended, whatever its outcome.
func (n *Node) Ready() <-chan struct{} { return n.ready }

// Close stops Run, closes the socket and waits for every goroutine.
func (n *Node) Close() error { return nil }

// ID is this node's random 20-byte id.
func (n *Node) ID() NodeID { return n.id }

// Addr is the bound UDP address.
func (n *Node) Addr() netip.AddrPort { return n.addr }

// Announce stores (our IP as the storing nodes see it, port) under key on the closest nodes.
func (n *Node) Announce(ctx context.Context, key []byte, port int) (int, error) {
	return 0, ErrNoNodes
}

// StoreLocal adds peer under key to our own peer store (grape -b).
func (n *Node) StoreLocal(key []byte, peer netip.AddrPort) {}

// Lookup returns the local store's peers for key plus every value seen in a get_peers walk.
func (n *Node) Lookup(ctx context.Context, key []byte) ([]netip.AddrPort, error) {
	return nil, nil
}

// Put stores a BEP44 item locally and on the closest nodes.
func (n *Node) Put(ctx context.Context, item Item) (Target, error) { return Target{}, ErrNoNodes }

// Get finds a BEP44 item, locally first.
func (n *Node) Get(ctx context.Context, target Target, salt []byte) (GetResult, bool, error) {
	return GetResult{}, false, nil
}

// Stats returns a snapshot of state and counters.
func (n *Node) Stats() Stats { return Stats{ID: n.id, Addr: n.addr} }
