package dht

import (
	"container/list"
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

// lookupTables caches, per key, the closest responders of the last walk and
// their tokens (MaxTables LRU, 5 min). Keys are the raw key bytes, which are
// local input (our own announces and lookups), bounded by max. Not safe for
// concurrent use.
type lookupTables struct {
	max int
	ll  *list.List
	m   map[string]*list.Element
}

type lookupTable struct {
	key   string
	set   time.Time
	nodes []responder
}

func newLookupTables(max int) *lookupTables {
	return &lookupTables{max: max, ll: list.New(), m: make(map[string]*list.Element)}
}

// get returns the fresh table for key, if any.
func (l *lookupTables) get(key []byte, now time.Time) ([]responder, bool) {
	e, ok := l.m[string(key)]
	if !ok {
		return nil, false
	}
	t := e.Value.(*lookupTable)
	if now.Sub(t.set) >= tableMaxAge {
		l.ll.Remove(e)
		delete(l.m, t.key)
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
		l.ll.Remove(e)
		delete(l.m, k)
	}
	for l.ll.Len() >= l.max {
		last := l.ll.Back()
		l.ll.Remove(last)
		delete(l.m, last.Value.(*lookupTable).key)
	}
	l.m[k] = l.ll.PushFront(&lookupTable{key: k, set: now, nodes: nodes})
}

// drop forgets key's table (after its tokens were rejected).
func (l *lookupTables) drop(key []byte) {
	if e, ok := l.m[string(key)]; ok {
		l.ll.Remove(e)
		delete(l.m, string(key))
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
	// Copy: callers hold the old slice outside the lock.
	t.nodes = append(t.nodes[:len(t.nodes):len(t.nodes)], r)
}
