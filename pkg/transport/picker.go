package transport

import (
	"context"
	"math/rand/v2"
	"time"
)

// Resolver turns a service name into peer addresses ("ip:port"). A
// *link.Link is one.
type Resolver interface {
	Lookup(ctx context.Context, name string) ([]string, error)
}

// CallResult is the outcome of one call, reported to the Picker through
// the done func it returned, so adaptive pickers can learn peer health.
type CallResult struct {
	Latency time.Duration
	Err     error
}

// Picker chooses the peer for the next attempt. peers is the current
// lookup result; tried lists peers already attempted for this request, so
// a picker can avoid them. done must be called exactly once with the
// attempt's outcome.
type Picker interface {
	Pick(service string, peers []string, tried []string) (addr string, done func(CallResult), err error)
}

// RandomPicker picks uniformly at random, as Node's PeerRPCClient does,
// among the peers not yet tried; only when every peer has been tried does it
// pick among all of them again.
type RandomPicker struct{}

// Pick implements Picker.
func (RandomPicker) Pick(_ string, peers []string, tried []string) (string, func(CallResult), error) {
	if len(peers) == 0 {
		return "", nil, ErrNoPeers
	}
	if len(tried) > 0 {
		// Reservoir-sample one untried peer without allocating.
		var pick string
		seen := 0
		for _, p := range peers {
			if contains(tried, p) {
				continue
			}
			seen++
			if rand.IntN(seen) == 0 {
				pick = p
			}
		}
		if seen > 0 {
			return pick, noopDone, nil
		}
	}
	return peers[rand.IntN(len(peers))], noopDone, nil
}

func noopDone(CallResult) {}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
