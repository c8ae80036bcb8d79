package dht

import (
	"net/netip"
	"slices"
	"time"
)

// K is the k-bucket size and the number of closest nodes a walk settles on.
const K = 20

// pingOnFull is how many of a full bucket's oldest contacts are pinged to
// make room for a new one (k-bucket's numberOfNodesToPing).
const pingOnFull = 3

// pingAfter is how long a contact counts as alive after it was last heard
// from: a full bucket pings only contacts older than that to make room
// (BEP 5's "good" nodes are not pinged). Pinging the oldest on every
// newcomer regardless cost 26 pings per lookup, more than the lookups'
// own get_peers, in a 64-grape cluster (make bench-scale); a contact that
// died within pingAfter is still evicted by the next walk that times out
// on it.
const pingAfter = time.Minute

// rtEntry is a routing-table contact with the time it was last heard from.
type rtEntry struct {
	contact
	lastSeen time.Time
}

// routingTable is a Kademlia routing table: one k-bucket per shared-prefix
// length with our own id, oldest contact first in each bucket. It is a pure
// data structure: time comes in as arguments, pings are requested from the
// caller. Not safe for concurrent use; the Node guards it.
type routingTable struct {
	self       NodeID
	k          int
	buckets    [161][]rtEntry
	byAddr     map[netip.AddrPort]NodeID
	lastChange time.Time
}

func newRoutingTable(self NodeID, k int, now time.Time) *routingTable {
	return &routingTable{self: self, k: k, byAddr: make(map[netip.AddrPort]NodeID), lastChange: now}
}

// observe records that c was heard from. It returns added=true when c is
// new in the table; when c's bucket is full it returns that bucket's oldest
// contacts not heard from within pingAfter for the caller to ping (dead
// ones get removed, then c can enter); none when all were heard recently.
func (t *routingTable) observe(c contact, now time.Time) (added bool, toPing []contact) {
	if c.ID == t.self || !c.Addr.IsValid() || c.Addr.Port() == 0 {
		return false, nil
	}
	// A new id at a known address is a restarted node: its old id is dead.
	if old, ok := t.byAddr[c.Addr]; ok && old != c.ID {
		t.remove(old, now)
	}
	bi := bucketIndex(&t.self, &c.ID)
	b := t.buckets[bi]
	for i := range b {
		if b[i].ID == c.ID {
			e := b[i]
			if e.Addr != c.Addr {
				delete(t.byAddr, e.Addr)
				t.byAddr[c.Addr] = c.ID
			}
			e.Addr, e.lastSeen = c.Addr, now
			t.buckets[bi] = append(slices.Delete(b, i, i+1), e)
			return false, nil
		}
	}
	if len(b) < t.k {
		t.buckets[bi] = append(b, rtEntry{contact: c, lastSeen: now})
		t.byAddr[c.Addr] = c.ID
		t.lastChange = now
		return true, nil
	}
	// Oldest first: the stale contacts are a prefix of the bucket.
	for i := 0; i < len(b) && len(toPing) < pingOnFull && now.Sub(b[i].lastSeen) >= pingAfter; i++ {
		toPing = append(toPing, b[i].contact)
	}
	return false, toPing
}

// remove drops the contact with id; it reports whether it was present.
func (t *routingTable) remove(id NodeID, now time.Time) bool {
	bi := bucketIndex(&t.self, &id)
	b := t.buckets[bi]
	for i := range b {
		if b[i].ID == id {
			delete(t.byAddr, b[i].Addr)
			t.buckets[bi] = slices.Delete(b, i, i+1)
			t.lastChange = now
			return true
		}
	}
	return false
}

// removeAddr drops whichever contact lives at addr (for queries sent to a
// node whose id we did not know, such as a bootstrap entry).
func (t *routingTable) removeAddr(addr netip.AddrPort, now time.Time) bool {
	id, ok := t.byAddr[addr]
	return ok && t.remove(id, now)
}

// idAt returns the id known for addr.
func (t *routingTable) idAt(addr netip.AddrPort) (NodeID, bool) {
	id, ok := t.byAddr[addr]
	return id, ok
}

// len is the number of contacts.
func (t *routingTable) len() int { return len(t.byAddr) }

// all returns every contact.
func (t *routingTable) all() []contact {
	out := make([]contact, 0, t.len())
	for i := range t.buckets {
		for _, e := range t.buckets[i] {
			out = append(out, e.contact)
		}
	}
	return out
}

// closest returns up to n contacts closest to key, closest first. It is
// on the server's hot path (every find_node/get_peers/get miss), so it keeps
// a sorted top-n of positions (plain integers: no write barriers) while
// scanning, instead of sorting a copy of the whole table.
func (t *routingTable) closest(key []byte, n int) []contact {
	type pos struct{ b, i int32 }
	at := func(p pos) *NodeID { return &t.buckets[p.b][p.i].ID }
	top := make([]pos, 0, n)
	for b := range t.buckets {
		for i := range t.buckets[b] {
			p := pos{int32(b), int32(i)}
			id := at(p)
			if len(top) == n && (n == 0 || cmpCloser(key, id, at(top[n-1])) >= 0) {
				continue
			}
			// Insert in order; ids are unique, so there are no ties.
			k := len(top)
			for k > 0 && cmpCloser(key, id, at(top[k-1])) < 0 {
				k--
			}
			if len(top) < n {
				top = append(top, pos{})
			}
			copy(top[k+1:], top[k:len(top)-1])
			top[k] = p
		}
	}
	out := make([]contact, len(top))
	for k, p := range top {
		out[k] = t.buckets[p.b][p.i].contact
	}
	return out
}

// sortByDistance orders contacts closest to key first.
func sortByDistance(key []byte, cs []contact) {
	slices.SortFunc(cs, func(a, b contact) int { return cmpCloser(key, &a.ID, &b.ID) })
}
