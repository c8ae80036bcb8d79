package dht

import (
	"container/heap"
	"net/netip"
)

// peerSource is what one source (the IP that announced, as KRPC sees it, or
// the address of an HTTP client for the grape's self-store) holds in the
// peer store over both generations. A source exists only while it holds an
// entry, so there are never more sources than entries.
type peerSource struct {
	addr  netip.Addr
	bytes int // charged bytes of its entries (peerEntry.cost)
	n     int // its entries
	idx   int // position in the heaviest-first heap
}

// sourceHeap orders sources heaviest first (most charged bytes), so the
// store can take room from the source holding the most in O(log sources).
type sourceHeap []*peerSource

func (h sourceHeap) Len() int           { return len(h) }
func (h sourceHeap) Less(i, j int) bool { return h[i].bytes > h[j].bytes }
func (h sourceHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *sourceHeap) Push(x any) {
	s := x.(*peerSource)
	s.idx = len(*h)
	*h = append(*h, s)
}
func (h *sourceHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}

// peerSources is the per-source index of a peer store.
type peerSources struct {
	by    map[netip.Addr]*peerSource
	heavy sourceHeap
}

func newPeerSources() peerSources {
	return peerSources{by: make(map[netip.Addr]*peerSource)}
}

// charge adds n entries of bytes total to src (both may be negative) and
// forgets the source when it holds nothing any more.
func (ps *peerSources) charge(src netip.Addr, n, bytes int) {
	s := ps.by[src]
	if s == nil {
		if n <= 0 {
			return
		}
		s = &peerSource{addr: src}
		ps.by[src] = s
		heap.Push(&ps.heavy, s)
	}
	s.n += n
	s.bytes += bytes
	if s.n <= 0 {
		heap.Remove(&ps.heavy, s.idx)
		delete(ps.by, src)
		return
	}
	heap.Fix(&ps.heavy, s.idx)
}

// heaviest is the source holding the most bytes; nil when there is none.
func (ps *peerSources) heaviest() *peerSource {
	if len(ps.heavy) == 0 {
		return nil
	}
	return ps.heavy[0]
}
