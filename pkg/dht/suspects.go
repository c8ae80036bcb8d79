package dht

import "time"

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

// markSuspect records that id failed to answer.
func (n *Node) markSuspect(id NodeID) {
	if id == (NodeID{}) {
		return
	}
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
	n.suspects[id] = now
}

// isSuspect reports whether id timed out within suspectTTL.
func (n *Node) isSuspect(id NodeID) bool {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	t, ok := n.suspects[id]
	if ok && now.Sub(t) >= suspectTTL {
		delete(n.suspects, id)
		ok = false
	}
	return ok
}

// clearSuspect forgets a suspect that answered after all.
func (n *Node) clearSuspect(id NodeID) {
	n.mu.Lock()
	delete(n.suspects, id)
	n.mu.Unlock()
}
