package grape

import (
	"context"
	"net/netip"

	"github.com/grenache-go/grenache/pkg/dht"
)

// dhtNode is what the HTTP layer needs from the DHT. *dht.Node satisfies it;
// tests of the HTTP framing use a fake so every quirk is checked without
// sockets timing out.
type dhtNode interface {
	Run(ctx context.Context) error
	Ready() <-chan struct{}
	Close() error
	ID() dht.NodeID
	Addr() netip.AddrPort
	Announce(ctx context.Context, key []byte, port int) (int, error)
	StoreLocal(key []byte, peer netip.AddrPort, source netip.Addr)
	Unannounce(ctx context.Context, key []byte, port int) (int, error)
	RemoveLocal(key []byte, peer netip.AddrPort) bool
	Lookup(ctx context.Context, key []byte) ([]netip.AddrPort, error)
	Put(ctx context.Context, item dht.Item) (dht.Target, error)
	Get(ctx context.Context, target dht.Target, salt []byte) (dht.GetResult, bool, error)
	Stats() dht.Stats
	Snapshot(maxNames, maxPeers, maxSuspects int) dht.Snapshot
}

var _ dhtNode = (*dht.Node)(nil)
