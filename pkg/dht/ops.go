package dht

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha1"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"
)

// maxLocalPeers caps how many of our own stored peers a Lookup returns
// (Node emits up to 100 from its own store).
const maxLocalPeers = 100

// bootstrap walks find_node on our own id, which fills the routing table
// and tells the nodes near us that we exist.
func (n *Node) bootstrap(ctx context.Context) {
	_, _ = n.walk(ctx, walkSpec{
		q:    "find_node",
		key:  n.id[:],
		args: func() *args { return &args{Target: strPtr(string(n.id[:]))} },
	})
}

// tableFor returns the cached closest token-bearing responders for key, or
// walks with q to find them and caches the result.
func (n *Node) tableFor(ctx context.Context, key []byte, q string, mkArgs func() *args, onReply func(contact, *reply) bool) (nodes []responder, cached bool, err error) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	nodes, cached = n.tables.get(key, now)
	n.mu.Unlock()
	if cached {
		return nodes, true, nil
	}
	rs, err := n.walk(ctx, walkSpec{q: q, key: key, args: mkArgs, onReply: onReply})
	if err != nil && len(rs) == 0 {
		return nil, false, err
	}
	withToken := make([]responder, 0, len(rs))
	for _, r := range rs {
		if r.token != nil {
			withToken = append(withToken, r)
		}
	}
	n.cacheTable(key, withToken)
	return withToken, false, err
}

// storeRound sends one token-bearing query (announce_peer or put) to every
// node in nodes and counts the acks. Once the first ack is in, slow nodes
// get the walk's straggler grace, not a whole QueryTimeout; their queries
// finish in the background (and evict them if dead).
func (n *Node) storeRound(ctx context.Context, nodes []responder, q string, mkArgs func(token []byte) *args) (int, error) {
	if len(nodes) == 0 {
		return 0, ErrNoNodes
	}
	type ack struct {
		err error
		rtt time.Duration
	}
	acks := make(chan ack, len(nodes))
	for _, r := range nodes {
		a := mkArgs(r.token)
		c := r.contact
		if !n.spawn(func() {
			res, err := n.query(n.life, c, q, a)
			acks <- ack{err: err, rtt: res.rtt}
		}) {
			return 0, errClosed
		}
	}
	acked, left := 0, len(nodes)
	var last3xx *Error
	var rtts rttSample
	timer := time.NewTimer(n.cfg.QueryTimeout + time.Second)
	defer timer.Stop()
	for left > 0 {
		select {
		case a := <-acks:
			left--
			var ke *Error
			switch {
			case a.err == nil:
				acked++
				rtts.add(a.rtt)
				timer.Reset(n.grace(rtts.median()))
			case errors.As(a.err, &ke) && ke.Code >= 300 && ke.Code < 400:
				last3xx = ke
			}
		case <-timer.C:
			left = 0
		case <-ctx.Done():
			if acked > 0 {
				return acked, nil
			}
			return 0, ctx.Err()
		}
	}
	if acked > 0 {
		return acked, nil
	}
	if last3xx != nil {
		return 0, last3xx
	}
	return 0, ErrAllFailed
}

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
		nodes, cached, err := n.tableFor(ctx, key, "get_peers", getArgs, nil)
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
// own announcements locally, under the bind IP).
func (n *Node) StoreLocal(key []byte, peer netip.AddrPort) {
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	if !peer.Addr().Is4() || peer.Port() == 0 {
		return
	}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	n.peers.add(key, peer, now)
	n.mu.Unlock()
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
		onReply: func(_ contact, r *reply) bool {
			for i, v := range r.Values {
				if i == maxPeersPerReply {
					break
				}
				if p, ok := decodePeer(v); ok && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
			return false
		},
	})
	n.cacheTable(key, rs)
	if err != nil && !errors.Is(err, ErrNoNodes) {
		return out, err
	}
	return out, nil
}

// Put stores a BEP44 item in our own value store and then on the closest
// nodes (a get walk for tokens, or the cached table, then put). It returns
// the target once at least one node accepted; otherwise an error, although
// the item stays stored locally (as in Node).
func (n *Node) Put(ctx context.Context, item Item) (Target, error) {
	if len(item.V) >= maxValueLen {
		return Target{}, errors.New("v must be less than 1000 bytes in put()")
	}
	if item.K != nil && item.Sig == nil {
		return Target{}, errors.New("dht: mutable put needs sig")
	}
	n.mu.Lock()
	target, kerr := n.values.put(item)
	n.mu.Unlock()
	if kerr != nil {
		return target, kerr
	}
	tg := string(target[:])
	getArgs := func() *args { return &args{Target: strPtr(tg)} }
	putArgs := func(tok []byte) *args {
		a := &args{Token: strPtr(string(tok)), V: bencodeString(item.V)}
		if item.K != nil {
			a.K, a.Sig, a.Seq = strPtr(string(item.K[:])), strPtr(string(item.Sig[:])), i64Ptr(item.Seq)
			a.Cas = item.Cas
			if len(item.Salt) > 0 {
				a.Salt = strPtr(string(item.Salt))
			}
		}
		return a
	}
	for attempt := 0; ; attempt++ {
		nodes, cached, err := n.tableFor(ctx, target[:], "get", getArgs, nil)
		if err != nil && len(nodes) == 0 {
			if errors.Is(err, ErrNoNodes) || ctx.Err() != nil {
				return target, err
			}
			return target, ErrNoNodes
		}
		acked, err := n.storeRound(ctx, nodes, "put", putArgs)
		if acked == 0 && cached && attempt == 0 && ctx.Err() == nil {
			n.mu.Lock()
			n.tables.drop(target[:])
			n.mu.Unlock()
			continue
		}
		if acked == 0 {
			return target, err
		}
		return target, nil
	}
}

// Get finds the BEP44 item at target: from our own value store first
// (Local, From = our id, no token), else by a get walk. An immutable reply
// wins at once if sha1(bencode(v)) is the target; mutable replies must
// match sha1(k ‖ salt) and carry a valid signature, and the walk goes on to
// return the highest seq seen (a node may hold an older version). ok is
// false when nobody had it; err is ErrNoNodes when nobody could be asked.
func (n *Node) Get(ctx context.Context, target Target, salt []byte) (GetResult, bool, error) {
	n.mu.Lock()
	it, found := n.values.get(target)
	n.mu.Unlock()
	if found {
		return GetResult{From: n.id, Local: true, Item: cloneItem(it)}, true, nil
	}
	var res GetResult
	tg := string(target[:])
	rs, err := n.walk(ctx, walkSpec{
		q: "get", key: target[:],
		args: func() *args { return &args{Target: strPtr(tg)} },
		onReply: func(from contact, r *reply) bool {
			it, ok := itemFromReply(r, target, salt)
			if !ok || (found && it.Seq <= res.Item.Seq) {
				return false
			}
			res = GetResult{From: from.ID, Item: it}
			if r.Token != nil {
				res.Token = []byte(*r.Token)
			}
			found = true
			return it.K == nil
		},
	})
	if len(rs) > 0 {
		n.cacheTable(target[:], rs)
	}
	if found {
		return res, true, nil
	}
	return GetResult{}, false, err
}

// cacheTable keeps a walk's token-bearing responders for later stores.
func (n *Node) cacheTable(key []byte, rs []responder) {
	withToken := make([]responder, 0, len(rs))
	for _, r := range rs {
		if r.token != nil {
			withToken = append(withToken, r)
		}
	}
	if len(withToken) == 0 {
		return
	}
	n.mu.Lock()
	n.tables.set(key, withToken, n.cfg.Clock.Now())
	n.mu.Unlock()
}

// itemFromReply checks a get reply's item against the target.
func itemFromReply(r *reply, target Target, salt []byte) (Item, bool) {
	if r.V == nil {
		return Item{}, false
	}
	v, ok := unbencodeString(r.V)
	if !ok {
		return Item{}, false
	}
	if r.K == nil {
		return Item{V: v}, sha1.Sum(r.V) == target && bytes.Equal(bencodeString(v), r.V)
	}
	if len(*r.K) != 32 || r.Sig == nil || len(*r.Sig) != 64 || r.Seq == nil {
		return Item{}, false
	}
	var k [32]byte
	var sig [64]byte
	copy(k[:], *r.K)
	copy(sig[:], *r.Sig)
	it := Item{V: v, K: &k, Sig: &sig, Seq: *r.Seq, Salt: slices.Clone(salt)}
	if MutableTarget(&k, salt) != target || !ed25519.Verify(k[:], SignatureBuffer(salt, it.Seq, v), sig[:]) {
		return Item{}, false
	}
	return it, true
}
