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

// MapPicker is a Picker that also chooses the peers of a Requester.Map
// call. It is optional: with a plain Picker, Map calls every peer (or
// opts.Limit random ones) as Node does, and the picker learns nothing from
// Map. A MapPicker decides which of peers the call goes to, so it can leave
// out peers it considers down (an adaptive picker skips open circuit
// breakers), and it hears every call's outcome.
//
// PickAll returns the chosen addresses, taken from peers, and one done func
// per address: done[i] belongs to addrs[i]. limit is the caller's
// RequestOptions.Limit: when it is above 0 the picker returns at most limit
// addresses, chosen among the peers it considers up (so a down peer does
// not take the place of a healthy one). Map calls each done exactly once
// with that call's outcome, including calls cancelled because another one
// failed (their Err then wraps context.Canceled, which says nothing about
// the peer). An error (for instance wrapping ErrNoPeers when every peer is
// down) fails the Map call, and then no done is called.
type MapPicker interface {
	Picker
	PickAll(service string, peers []string, limit int) (addrs []string, done []func(CallResult), err error)
}

// RandomPicker picks uniformly at random, as Node's PeerRPCClient does,
// among the peers not yet tried; only when every peer has been tried does it
// pick among all of them again. It is not a MapPicker: Map calls every peer.
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
