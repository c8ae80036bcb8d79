package client

// StrategyRandom picks uniformly at random, like Node's PeerRPCClient.
const StrategyRandom = "random"

func init() {
	RegisterPolicy(StrategyRandom, func() Policy { return randomPick{} },
		"uniform random peer, as Node's PeerRPCClient (with PlainConfig: Node's behaviour)")
}

// randomPick is Node's behaviour: uniform over the (eligible) peers.
type randomPick struct{}

func (randomPick) Pick(ps Peers) int { return ps.Random(-1) }
