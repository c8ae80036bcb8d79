package dht

import (
	"net/netip"
	"slices"
	"time"
)

// Snapshot is a read-only picture of a node's routing table, suspects and
// stored announcements, for a live view. The announcement part is capped by
// the caller (a hostile peer store can hold tens of thousands of names);
// NamesTotal says how many there were.
type Snapshot struct {
	ID      NodeID
	At      time.Time
	Buckets []BucketSnapshot // non-empty buckets, by index
	// Suspects are nodes that failed to answer within the suspicion TTL,
	// sorted by address, at most the cap given to Snapshot.
	Suspects      []SuspectSnapshot
	SuspectsTotal int
	// Names are the stored keys in byte order, at most the cap given.
	Names      []NameSnapshot
	NamesTotal int
}

// BucketSnapshot is one k-bucket: Index is the length of the prefix its
// nodes share with our id; Nodes are oldest first.
type BucketSnapshot struct {
	Index int
	Nodes []NodeSnapshot
}

// NodeSnapshot is one routing-table contact.
type NodeSnapshot struct {
	ID       NodeID
	Addr     netip.AddrPort
	LastSeen time.Time
	Suspect  bool // failed to answer recently (slow or timed out)
	Dead     bool // its last failure was a timeout
}

// SuspectSnapshot is one suspect address (it may not be in the table:
// bootstrap entries have no id).
type SuspectSnapshot struct {
	Addr netip.AddrPort
	At   time.Time
	Dead bool
}

// NameSnapshot is one stored key with its announced peers (capped; Peers
// lists at most the cap given and PeersTotal counts them all).
type NameSnapshot struct {
	Name       string
	Peers      []PeerSnapshot
	PeersTotal int
}

// PeerSnapshot is one stored announcement and when it expires at the
// latest (zero when announcements never expire).
type PeerSnapshot struct {
	Addr    netip.AddrPort
	Expires time.Time
}

// Snapshot copies the node's state under its lock: every routing-table
// contact (at most 161·K), and at most maxNames names with at most
// maxPeers peers each, and at most maxSuspects suspects. The work is
// linear in the store's size (one pass to count and pick the first names
// in byte order), so a caller polling it should bound how often.
func (n *Node) Snapshot(maxNames, maxPeers, maxSuspects int) Snapshot {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	s := Snapshot{ID: n.id, At: now}
	for i := range n.rt.buckets {
		b := n.rt.buckets[i]
		if len(b) == 0 {
			continue
		}
		bs := BucketSnapshot{Index: i, Nodes: make([]NodeSnapshot, 0, len(b))}
		for _, e := range b {
			ns := NodeSnapshot{ID: e.ID, Addr: e.Addr, LastSeen: e.lastSeen}
			if sp, ok := n.suspects[e.Addr]; ok && now.Sub(sp.at) < suspectTTL {
				ns.Suspect, ns.Dead = true, sp.dead
			}
			bs.Nodes = append(bs.Nodes, ns)
		}
		s.Buckets = append(s.Buckets, bs)
	}
	for addr, sp := range n.suspects {
		if now.Sub(sp.at) >= suspectTTL {
			continue
		}
		s.SuspectsTotal++
		s.Suspects = append(s.Suspects, SuspectSnapshot{Addr: addr, At: sp.at, Dead: sp.dead})
	}
	slices.SortFunc(s.Suspects, func(a, b SuspectSnapshot) int { return a.Addr.Compare(b.Addr) })
	s.Suspects = s.Suspects[:min(len(s.Suspects), max(maxSuspects, 0))]
	s.Names, s.NamesTotal = n.peers.snapshot(maxNames, maxPeers, now)
	return s
}

// snapshot returns the first maxNames keys in byte order with up to
// maxPeers peers each, and the number of keys.
func (s *peerStore) snapshot(maxNames, maxPeers int, now time.Time) ([]NameSnapshot, int) {
	s.gc(now)
	// Entries in the current generation expire when the next swap but one
	// drops them, those in the old one at the next swap.
	var curExp, oldExp time.Time
	if s.interval > 0 {
		oldExp = s.lastGC.Add(s.interval)
		curExp = oldExp.Add(s.interval)
	}
	// The first maxNames keys in byte order, kept in a max-heap: once it is
	// full most keys cost one comparison with its root.
	m := max(maxNames, 0)
	h := make(maxHeap, 0, min(m, len(s.cur.set)+len(s.old.set)))
	total := 0
	for _, g := range [2]*generation{s.cur, s.old} {
		for k := range g.set {
			if g == s.old {
				if _, dup := s.cur.set[k]; dup {
					continue
				}
			}
			total++
			switch {
			case len(h) < m:
				h.push(k)
			case m > 0 && k < h[0]:
				h[0] = k
				h.down(0)
			}
		}
	}
	keys := []string(h)
	slices.Sort(keys)
	out := make([]NameSnapshot, 0, len(keys))
	for _, k := range keys {
		ns := NameSnapshot{Name: k}
		add := func(set map[netip.AddrPort]*peerEntry, exp time.Time) {
			for p := range set {
				ns.PeersTotal++
				if len(ns.Peers) < maxPeers {
					ns.Peers = append(ns.Peers, PeerSnapshot{Addr: p, Expires: exp})
				}
			}
		}
		add(s.cur.set[k], curExp)
		add(s.old.set[k], oldExp)
		slices.SortFunc(ns.Peers, func(a, b PeerSnapshot) int { return a.Addr.Compare(b.Addr) })
		out = append(out, ns)
	}
	return out, total
}

// maxHeap is a max-heap of strings (the largest at index 0).
type maxHeap []string

func (h *maxHeap) push(k string) {
	*h = append(*h, k)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if a[p] >= a[i] {
			break
		}
		a[p], a[i] = a[i], a[p]
		i = p
	}
}

func (h maxHeap) down(i int) {
	for {
		l, big := 2*i+1, i
		if l < len(h) && h[l] > h[big] {
			big = l
		}
		if r := l + 1; r < len(h) && h[r] > h[big] {
			big = r
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}
