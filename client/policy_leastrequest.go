package client

// StrategyLeastRequest is power of two choices on requests in flight, as
// grpc-go's least_request balancer.
const StrategyLeastRequest = "least-request"

func init() {
	RegisterPolicy(StrategyLeastRequest, func() Policy { return leastRequest{} },
		"power of two choices on requests in flight (grpc-go's least_request)")
}

// leastRequest draws two distinct eligible peers at random and takes the
// one with fewer attempts in flight (the first drawn on a tie, so ties
// stay uniform). It uses only the public Peers and PeerView API: it is the
// template for a policy written outside this package. It knows nothing of
// latency or errors; the engine's breakers still keep failing peers out.
type leastRequest struct{}

func (leastRequest) Pick(ps Peers) int {
	x := ps.Random(-1)
	if x < 0 {
		return -1
	}
	y := ps.Random(x)
	if y >= 0 && ps.Peer(y).InFlight() < ps.Peer(x).InFlight() {
		return y
	}
	return x
}
