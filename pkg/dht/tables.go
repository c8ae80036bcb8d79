package dht

import (
	"container/list"
	"slices"
	"time"
)

// tableMaxAge is how long a per-key lookup table is reused, as in
// bittorrent-dht: re-announces inside it skip the get_peers walk.
const tableMaxAge = 5 * time.Minute

// responder is a node that answered a get_peers/get walk, with the token it
// issued to us.
type responder struct {
	contact
	token []byte
}

// Per-entry overheads of the lookup tables, beyond the key's and the
// tokens' bytes: one table (its record, list element and map slot) and one
// responder in it (its slot in the table's slice, rounded up to the
// allocator's size class, and its token's allocation). Upper bounds checked
// by TestLookupTablesByteBudget, which measured (Go 1.26) 291 heap bytes
// per table of one responder and 2459 per table of K responders with
// 20-byte tokens, against 356 and 2579 charged.
const (
	tableOverhead     = 256
	responderOverhead = 112
)

// maxTokenLen is the longest token a responder may give us that we keep.
// Tokens are remote input that a table holds for 5 minutes; every known
// implementation issues 20 bytes or fewer (bittorrent-dht: a sha1 digest),
// so a longer one is dropped (the node is not token-bearing).
const maxTokenLen = 64

// lookupTables caches, per key, the closest responders of the last walk and
// their tokens (5 min, LRU). Keys are the raw key bytes of our own
// announces and lookups, which on a grape come from its HTTP clients, so
// the tables are bounded by max tables and maxBytes charged bytes
// (tableCost). Not safe for concurrent use.
type lookupTables struct {
	max      int
	maxBytes int
	bytes    int
	ll       *list.List
	m        map[string]*list.Element
}

type lookupTable struct {
	key   string
	set   time.Time
	nodes []responder
	cost  int
}

// tableCost is the bytes a table is charged against maxBytes.
func tableCost(key string, nodes []responder) int {
	c := len(key) + tableOverhead
	for _, r := range nodes {
		c += len(r.token) + responderOverhead
	}
	return c
}

func newLookupTables(max, maxBytes int) *lookupTables {
	return &lookupTables{max: max, maxBytes: maxBytes, ll: list.New(), m: make(map[string]*list.Element)}
}

// remove forgets the table in e.
func (l *lookupTables) remove(e *list.Element) {
	t := e.Value.(*lookupTable)
	l.ll.Remove(e)
	delete(l.m, t.key)
	l.bytes -= t.cost
}

// get returns the fresh table for key, if any.
func (l *lookupTables) get(key []byte, now time.Time) ([]responder, bool) {
	e, ok := l.m[string(key)]
	if !ok {
		return nil, false
	}
	t := e.Value.(*lookupTable)
	if now.Sub(t.set) >= tableMaxAge {
		l.remove(e)
		return nil, false
	}
	l.ll.MoveToFront(e)
	return t.nodes, true
}

// set stores the responders of a walk for key (closest first).
func (l *lookupTables) set(key []byte, nodes []responder, now time.Time) {
	if l.max <= 0 {
		return
	}
	k := string(key)
	if e, ok := l.m[k]; ok {
		l.remove(e)
	}
	c := tableCost(k, nodes)
	if c > l.maxBytes {
		return
	}
	nodes = slices.Clone(nodes) // exactly len(nodes): what is charged is what is held
	for l.ll.Len() >= l.max || l.bytes+c > l.maxBytes {
		l.remove(l.ll.Back())
	}
	l.m[k] = l.ll.PushFront(&lookupTable{key: k, set: now, nodes: nodes, cost: c})
	l.bytes += c
}

// drop forgets key's table (after its tokens were rejected).
func (l *lookupTables) drop(key []byte) {
	if e, ok := l.m[string(key)]; ok {
		l.remove(e)
	}
}

// add appends a late responder to key's fresh table, if there is one,
// keeping its age (a straggler that answered after the walk ended).
func (l *lookupTables) add(key []byte, r responder, now time.Time) {
	e, ok := l.m[string(key)]
	if !ok {
		return
	}
	t := e.Value.(*lookupTable)
	if now.Sub(t.set) >= tableMaxAge || len(t.nodes) >= 2*K {
		return
	}
	for _, o := range t.nodes {
		if o.ID == r.ID {
			return
		}
	}
	c := len(r.token) + responderOverhead
	if l.bytes+c > l.maxBytes {
		return // a late responder is a bonus, not worth evicting a table
	}
	// Copy, exactly one longer: callers hold the old slice outside the
	// lock, and append's spare capacity would be memory nobody is charged.
	nodes := make([]responder, len(t.nodes)+1)
	nodes[copy(nodes, t.nodes)] = r
	t.nodes = nodes
	t.cost += c
	l.bytes += c
}
