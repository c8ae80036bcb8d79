package dht

import (
	"net/netip"
	"time"
)

// Suspects are nodes that recently failed to answer within a walk's grace
// or timed out. A timed-out node is evicted from the routing table, but
// other nodes keep listing it in their replies until they evict it too, so
// every walk would meet it again and wait for it; and a node that is only
// slow would hold every concurrent walk. Walks still ask a suspect but do
// not wait for it; any reply from it clears the suspicion.
const (
	maxSuspects = 1024
	suspectTTL  = 5 * time.Minute
)

// Suspects are keyed by address, not id: bootstrap entries have no known
// id, and a dead bootstrap entry is asked by every walk while the table
// knows fewer nodes than the bootstrap list.

// markSuspect records that the node at addr failed to answer.
func (n *Node) markSuspect(addr netip.AddrPort) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.suspects) >= maxSuspects {
		for k, t := range n.suspects {
			if now.Sub(t) >= suspectTTL {
				delete(n.suspects, k)
			}
		}
		if len(n.suspects) >= maxSuspects {
			clear(n.suspects) // bounded: forget all rather than grow
		}
	}
	n.suspects[addr] = now
}

// isSuspect reports whether the node at addr failed within suspectTTL.
func (n *Node) isSuspect(addr netip.AddrPort) bool {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.suspects[addr]
	if ok && now.Sub(t) >= suspectTTL {
		delete(n.suspects, addr)
		ok = false
	}
	return ok
}

// clearSuspect forgets a suspect that answered after all.
func (n *Node) clearSuspect(addr netip.AddrPort) {
	n.mu.Lock()
	delete(n.suspects, addr)
	n.mu.Unlock()
}
