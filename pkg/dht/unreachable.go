package dht

// What the DHT does with ICMP errors (on Linux; the socket plumbing is in
// unreachable_linux.go, unreachable_other.go is the portable no-op): a
// query whose datagram came back "port unreachable" (the grape process
// died, its host is up) or "host/network unreachable" fails at once, like
// a timeout that came early, instead of waiting its QueryTimeout. A spoofed
// ICMP error can fail a query, as a dropped packet can; the kernel accepts
// one only if it quotes a datagram that our socket's port sent.

import "net/netip"

// handleUnreachable drains the queued ICMP errors and fails the pending
// queries they concern. When the quoted datagram is one of our queries
// whole, only that transaction fails (so a node restarted on the same port
// in the meantime is not failed by its predecessor's ICMP); when it is cut
// short or not a query, every query pending to that address does: the port
// was closed when the datagram arrived.
func (n *Node) handleUnreachable() {
	for _, u := range drainUnreachable(n.conn) {
		n.failUnreachable(u)
	}
}

// failUnreachable fails the pending queries one ICMP error concerns.
func (n *Node) failUnreachable(u unreachable) {
	to := unmapped(u.to)
	t, y, _, ok := decodeHeader(u.payload)
	tid, tidOK := parseTID(t)
	exact := ok && y == "q" && tidOK
	var hit []*pending
	n.mu.Lock()
	if exact {
		if p, ok := n.pending[tid]; ok && unmapped(p.to.Addr) == to {
			delete(n.pending, tid)
			hit = append(hit, p)
		}
	} else {
		for id, p := range n.pending { // at most maxOutstanding
			if unmapped(p.to.Addr) == to {
				delete(n.pending, id)
				hit = append(hit, p)
			}
		}
	}
	n.mu.Unlock()
	for _, p := range hit {
		p.ch <- unreachableMsg // buffered 1, and the entry is gone: never blocks
	}
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}
