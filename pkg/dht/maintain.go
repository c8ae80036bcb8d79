package dht

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// maxReplacements bounds concurrent ping-oldest replacements, so a flood of
// new node ids cannot turn into a flood of pings.
const maxReplacements = 4

// maintain keeps the routing table alive until ctx ends: on a jittered
// tick (Node: 0.5..1.5 min for a 5 min liveness) it re-bootstraps an empty
// table and, when the table has not changed for NodeLiveness, pings every
// node so dead ones are evicted.
func (n *Node) maintain(ctx context.Context) {
	base := min(n.cfg.NodeLiveness/5, time.Minute)
	t := time.NewTimer(jitter(base))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := n.cfg.Clock.Now()
		n.mu.Lock()
		empty := n.rt.len() == 0
		stale := now.Sub(n.rt.lastChange) >= n.cfg.NodeLiveness
		all := n.rt.all()
		if stale {
			n.rt.lastChange = now // one liveness round per period
		}
		n.mu.Unlock()
		switch {
		case empty && len(n.cfg.Bootstrap) > 0:
			n.cfg.Logger.Debug().Msg("routing table empty: re-bootstrapping")
			n.bootstrap(ctx)
		case stale:
			n.cfg.Logger.Debug().Int("nodes", len(all)).Msg("routing table unchanged for NodeLiveness: pinging every node")
			n.pingAll(ctx, all)
		}
		t.Reset(jitter(base))
	}
}

// jitter spreads d over 0.5d..1.5d.
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d+1)
}

// pingAll pings nodes with at most Concurrency in flight; query evicts the
// ones that time out.
func (n *Node) pingAll(ctx context.Context, nodes []contact) {
	sem := make(chan struct{}, n.cfg.Concurrency)
	done := make(chan struct{}, len(nodes))
	started := 0
	for _, c := range nodes {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		if !n.spawn(func() {
			defer func() { <-sem; done <- struct{}{} }()
			_, _ = n.query(ctx, c, "ping", &args{})
		}) {
			return
		}
		started++
	}
	for i := 0; i < started; i++ {
		<-done
	}
}

// replaceOldest pings a full bucket's oldest contacts; the first that fails
// (timeout, ICMP unreachable, or another id at its address) is evicted (by
// query) and cand takes its place.
func (n *Node) replaceOldest(oldest []contact, cand contact) {
	if n.replacing.Add(1) > maxReplacements {
		n.replacing.Add(-1)
		return
	}
	if !n.spawn(func() {
		defer n.replacing.Add(-1)
		for _, c := range oldest {
			_, err := n.query(n.life, c, "ping", &args{})
			if errors.Is(err, errTimeout) || errors.Is(err, errUnreachable) || errors.Is(err, errUnexpectedNode) {
				now := n.cfg.Clock.Now()
				n.mu.Lock()
				added, _ := n.rt.observe(cand, now)
				n.mu.Unlock()
				if added {
					n.emit(Event{Type: EventNode, Addr: cand.Addr})
				}
				return
			}
		}
	}) {
		n.replacing.Add(-1)
	}
}
