package dht

import (
	"context"
	"time"
)

// Join retry: a bootstrap walk that hears from nobody (the peers are not
// up yet, or their names do not resolve yet) is walked again after a short,
// doubling, jittered pause. On a host that answers ICMP a walk to a closed
// port ends at once, so a grape started before its peers joins within
// about one pause of the first peer coming up; the pause stays short
// because each retry costs one datagram per bootstrap entry.
const (
	joinRetryMin = 25 * time.Millisecond
	joinRetryMax = 400 * time.Millisecond
)

// join bootstraps until a walk hears from some node (or ctx ends) and
// closes Ready when one does, or once QueryTimeout has passed without one
// (a Node grape's ready comes after its first walk, which waits that long
// for a peer that is not up), whichever is first. Without a bootstrap list
// there is nobody to wait for: one walk (over nodes that may have queried
// us already), then ready.
func (n *Node) join(ctx context.Context) {
	defer n.markReady()
	start := time.Now()
	wait := joinRetryMin
	for {
		if n.bootstrap(ctx) > 0 || len(n.cfg.Bootstrap) == 0 {
			return
		}
		left := n.cfg.QueryTimeout - time.Since(start)
		if left <= 0 {
			n.markReady() // keep trying in the background of a ready node
		}
		pause := jitter(wait)
		if left > 0 {
			pause = min(pause, left)
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, joinRetryMax)
	}
}

// markReady closes Ready once.
func (n *Node) markReady() { n.readyOnce.Do(func() { close(n.ready) }) }
