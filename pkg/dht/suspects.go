package dht

import (
	"net/netip"
	"time"
)

// Suspects are nodes that recently failed us, at one of two levels:
//
//   - slow: a walk's query to it outlived the straggler grace. It may well
//     be alive (a busy host, a GC pause) and its query runs on.
//   - dead: a query to it reached QueryTimeout without a reply (it was
//     also evicted from the routing table).
//
// Other nodes keep listing an evicted node in their replies until they
// evict it too, so without this memory every walk would meet a dead node
// again and wait for it. How a walk uses the levels (walk.go): a walk that
// already has its result waits for no suspect at all; a walk still without
// a result waits for slow ones (they may hold it) but not for dead ones,
// unless nobody has answered it at all. Any reply clears the suspicion.
const (
	maxSuspects = 1024
	suspectTTL  = 5 * time.Minute
)

// suspicion is one suspect: when it was last marked, and whether it
// timed out (dead) or was only slow.
type suspicion struct {
	at   time.Time
	dead bool
}

// Suspects are keyed by address, not id: bootstrap entries have no known
// id, and a dead bootstrap entry is asked by every walk while the table
// knows fewer nodes than the bootstrap list.

// markSuspect records that the node at addr failed to answer in time:
// dead after a QueryTimeout, else slow. A dead mark is never downgraded to
// slow; only a reply (clearSuspect) or suspectTTL clears it.
func (n *Node) markSuspect(addr netip.AddrPort, dead bool) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	if old, ok := n.suspects[addr]; ok && old.dead && now.Sub(old.at) < suspectTTL {
		dead = true
	}
	if len(n.suspects) >= maxSuspects {
		for k, s := range n.suspects {
			if now.Sub(s.at) >= suspectTTL {
				delete(n.suspects, k)
			}
		}
		if len(n.suspects) >= maxSuspects {
			clear(n.suspects) // bounded: forget all rather than grow
		}
	}
	n.suspects[addr] = suspicion{at: now, dead: dead}
}

// suspectLevel reports whether the node at addr failed within suspectTTL
// (suspect) and whether that failure was a timeout (dead).
func (n *Node) suspectLevel(addr netip.AddrPort) (suspect, dead bool) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	s, ok := n.suspects[addr]
	if ok && now.Sub(s.at) >= suspectTTL {
		delete(n.suspects, addr)
		ok = false
	}
	return ok, ok && s.dead
}

// clearSuspect forgets a suspect that answered after all.
func (n *Node) clearSuspect(addr netip.AddrPort) {
	n.mu.Lock()
	delete(n.suspects, addr)
	n.mu.Unlock()
}
