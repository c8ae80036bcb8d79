package client

// StrategyRoundRobin cycles through the peers in lookup order.
const StrategyRoundRobin = "round-robin"

func init() {
	RegisterPolicy(StrategyRoundRobin, func() Policy { return roundRobin{} },
		"cycle through the peers in lookup order, skipping open breakers")
}

// roundRobin cycles through the snapshot, skipping ineligible peers. The
// counter lives in the service, so every client policy of a service shares
// one cycle and a membership change does not reset it.
type roundRobin struct{}

func (roundRobin) Pick(ps Peers) int {
	n := uint64(ps.Len())
	i := ps.s.rr.Add(1)
	for k := range n {
		if j := int((i + k) % n); ps.Eligible(j) {
			return j
		}
	}
	return -1
}
