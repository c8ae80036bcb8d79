package client

import "sync/atomic"

// StrategyRoundRobin cycles through the peers in lookup order.
const StrategyRoundRobin = "round-robin"

func init() {
	RegisterPolicy(StrategyRoundRobin, func() Policy { return &roundRobin{} },
		"cycle through the peers in lookup order, skipping open breakers")
}

// roundRobin cycles through the snapshot, skipping ineligible peers. One
// counter per client: a membership change does not reset it, and a client
// of several services still gives each an even share over time.
type roundRobin struct{ next atomic.Uint64 }

func (r *roundRobin) Pick(ps Peers) int {
	n := uint64(ps.Len())
	i := r.next.Add(1)
	for k := range n {
		if j := int((i + k) % n); ps.Eligible(j) {
			return j
		}
	}
	return -1
}
