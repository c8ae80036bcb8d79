package dht

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// maxLocalPeers caps how many of our own stored peers a Lookup returns
// (Node emits up to 100 from its own store).
const maxLocalPeers = 100

// maxLookupPeers caps what one Lookup collects over all replies, so hostile
// nodes answering with full datagrams of values cannot grow it without bound
// (a grape returns at most 100 anyway).
const maxLookupPeers = 8192

// Announce stores (our IP as each storing node sees it, port) under key on
// the closest nodes: a get_peers walk (or the cached per-key table, 5 min)
// and then announce_peer to every token-bearing responder. It returns how
// many acked. Port 0 means our own DHT port, as in Node. A cached table whose
// tokens were all refused is dropped and the walk redone once (Node keeps
// failing until the table expires).
func (n *Node) Announce(ctx context.Context, key []byte, port int) (int, error) {
	if port < 0 || port > 65535 {
		return 0, fmt.Errorf("dht: invalid port %d", port)
	}
	if port == 0 {
		port = int(n.addr.Port())
	}
	k := string(key)
	getArgs := func() *args { return &args{InfoHash: strPtr(k)} }
	annArgs := func(tok []byte) *args {
		return &args{InfoHash: strPtr(k), Port: i64Ptr(int64(port)), ImpliedPort: i64Ptr(0), Token: strPtr(string(tok))}
	}
	for attempt := 0; ; attempt++ {
		nodes, cached, err := n.tableFor(ctx, key, "get_peers", getArgs, "announce_peer", annArgs)
		if err != nil && len(nodes) == 0 {
			if errors.Is(err, ErrNoNodes) || ctx.Err() != nil {
				return 0, err
			}
			return 0, ErrNoNodes
		}
		acked, err := n.storeRound(ctx, nodes, "announce_peer", annArgs)
		if acked == 0 && cached && attempt == 0 && ctx.Err() == nil {
			n.mu.Lock()
			n.tables.drop(key)
			n.mu.Unlock()
			continue
		}
		return acked, err
	}
}

// StoreLocal adds peer under key to our own peer store (grape -b stores its
// own announcements locally, under the bind IP). source is who asked for it
// (the grape passes its HTTP client's IP): the store's fair share is per
// source, so one client flooding the store evicts its own records first.
func (n *Node) StoreLocal(key []byte, peer netip.AddrPort, source netip.Addr) {
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if !peer.Addr().Is4() || peer.Port() == 0 {
		return
	}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	isNew := n.peers.add(key, peer, source.Unmap(), now)
	n.mu.Unlock()
	if isNew && n.cfg.OnNewPeer != nil {
		n.cfg.OnNewPeer(string(key))
	}
}

// Lookup returns up to 100 peers from our own store for key plus every
// value seen in a get_peers walk, deduplicated. The walk's closest
// responders and tokens are cached for a later Announce, as Node does. With
// nobody to ask, the local peers are returned without error (a Node grape
// answers [] then); err is set only when ctx ended before the walk did.
func (n *Node) Lookup(ctx context.Context, key []byte) ([]netip.AddrPort, error) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	out := n.peers.get(key, maxLocalPeers, now)
	n.mu.Unlock()
	seen := make(map[netip.AddrPort]bool, len(out))
	for _, p := range out {
		seen[p] = true
	}
	k := string(key)
	rs, err := n.walk(ctx, walkSpec{
		q: "get_peers", key: key,
		args: func() *args { return &args{InfoHash: strPtr(k)} },
		onReply: func(c contact, r *reply) bool {
			for _, v := range r.Values {
				if len(out) >= maxLookupPeers {
					break
				}
				p, ok := decodePeer(v)
				if ok {
					n.emit(Event{Type: EventPeer, Key: k, Peer: p, Addr: c.Addr})
				}
				if ok && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			return false
		},
		// Any peer (ours or seen) is a result: until one is found, the
		// walk waits for slow nodes, which may be the ones holding it.
		found: func() bool { return len(out) > 0 },
	})
	n.cacheTable(key, rs)
	if err != nil && !errors.Is(err, ErrNoNodes) {
		return out, err
	}
	return out, nil
}
