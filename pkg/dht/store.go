package dht

// Token-bearing stores (announce_peer and put): the walk that collects
// tokens, the per-key table cache, and the store round itself.

import (
	"context"
	"errors"
	"time"
)

// bootstrap walks find_node on our own id, always starting from the
// bootstrap list (as Node does), which fills the routing table and tells
// the nodes near us that we exist. Nodes that queried us first do not
// replace the list: when a whole cluster starts at once, a node's first
// contact is often a newcomer that bootstrapped through it. It returns how
// many nodes answered.
func (n *Node) bootstrap(ctx context.Context) int {
	start := time.Now()
	rs, err := n.walk(ctx, walkSpec{
		q:         "find_node",
		key:       n.id[:],
		args:      func() *args { return &args{Target: strPtr(string(n.id[:]))} },
		bootstrap: true,
	})
	n.mu.Lock()
	known := n.rt.len()
	n.mu.Unlock()
	n.cfg.Logger.Debug().Err(err).Int("answered", len(rs)).Int("routing_nodes", known).
		Dur("took", time.Since(start)).Msg("bootstrap walk ended")
	return len(rs)
}

// tableFor returns the cached closest token-bearing responders for key, or
// walks with q to find them and caches the result.
// store is the token-bearing query (announce_peer or put) with its
// arguments; a straggler of the walk that answers after the walk ended, and
// is close enough, gets it too (and joins the cached table), so skipping
// slow nodes never leaves a store on farther nodes only.
func (n *Node) tableFor(ctx context.Context, key []byte, q string, mkArgs func() *args, store string, mkStore func(token []byte) *args) (nodes []responder, cached bool, err error) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	nodes, cached = n.tables.get(key, now)
	n.mu.Unlock()
	if cached {
		return nodes, true, nil
	}
	late := func(c contact, token []byte) {
		// A Node grape is silent on unannounce_peer: not a sign of death.
		if _, err := n.queryAs(n.life, c, store, mkStore(token), store == queryUnannounce); err == nil {
			n.mu.Lock()
			n.tables.add(key, responder{contact: c, token: token}, n.cfg.Clock.Now())
			n.mu.Unlock()
		}
	}
	rs, err := n.walk(ctx, walkSpec{q: q, key: key, args: mkArgs, late: late})
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
