package client

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/grenache-go/grenache/pkg/transport"
)

// Picker exposes the adaptive client's peer selection, outcome recording and
// circuit breakers as a transport.Picker, so a transport.Requester routes
// with the same strategy, metrics and breakers as Client.Request:
//
//	q := transport.NewRequester(lnk, httpClient, c.Picker())
//
// What stays with Client.Request: the retry budget, backoff, hedging and the
// shorter timeout of breaker probes (the Requester's own Retry and Timeout
// options apply instead). Latency is measured on the balancer's clock from
// Pick to done, so CallResult.Latency is not used. It is also a
// transport.MapPicker, so the Requester's Map skips peers whose breaker is
// open and records every call, as Client.Map does.
//
// The peers passed to Pick are authoritative: when they differ from the
// known set, the service's membership is updated (new peers ramp up with
// slow start, vanished ones are drained), as a lookup would. A Picker is
// safe for concurrent use.
type Picker struct {
	c *Client
}

var _ transport.MapPicker = (*Picker)(nil)

// Picker returns a transport.Picker sharing this client's peers, metrics
// and breakers: what the Requester learns steers Client.Request and the
// other way round, and Stats shows both. Give the Requester the same
// resolver as the client, or the two lookups would keep replacing each
// other's peer set.
func (c *Client) Picker() *Picker { return &Picker{c: c} }

// NewPicker returns a standalone adaptive Picker that owns its metrics and
// breakers. It starts no goroutine (the Requester looks peers up on every
// request), so there is nothing to close.
func NewPicker(cfg Config) (*Picker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// A Client without resolver, HTTP client or refresh loop: only the
	// balancer and the service table are used, so Pick and Stats share the
	// client's code paths.
	c := &Client{cfg: cfg, bal: newBalancer(cfg), services: map[string]*service{}, ctx: context.Background()}
	return c.Picker(), nil
}

// Pick implements transport.Picker: it chooses and claims a peer of service
// among peers, avoiding those in tried while another is eligible. When every
// peer was tried (or every breaker refuses) it still returns the least bad
// peer, as Client.Request does. The returned done records the outcome; calls
// after the first are ignored.
func (p *Picker) Pick(service string, peers []string, tried []string) (string, func(transport.CallResult), error) {
	if p.c.ctx.Err() != nil {
		return "", nil, ErrClosed
	}
	if len(peers) == 0 {
		return "", nil, transport.ErrNoPeers
	}
	s := p.members(service, peers)
	var triedPeers []*peer // nil on first attempts: no allocation
	if len(tried) > 0 {
		triedPeers = s.resolve(tried, make([]*peer, 0, len(tried)))
	}
	t, ok := p.c.bal.pick(s, triedPeers)
	if !ok {
		return "", nil, transport.ErrNoPeers
	}
	d := &pickDone{bal: p.c.bal, t: t}
	return t.p.addr, d.done, nil
}

// PickAll implements transport.MapPicker the way Client.Map chooses: it
// claims every peer whose breaker admits traffic (a cooled-down open
// breaker may admit the call as its probe) and leaves out the others. With
// limit > 0 it claims at most limit of the admitted peers, chosen at
// random; otherwise the addresses keep the order of peers. Only the first
// MaxPeers of peers are considered, as for Pick. When no breaker admits a
// call it fails with an error wrapping transport.ErrNoPeers: unlike a
// single request, a Map has no least bad peer to fall back on. Each done
// records its call's outcome once; later calls are ignored.
func (p *Picker) PickAll(service string, peers []string, limit int) ([]string, []func(transport.CallResult), error) {
	if p.c.ctx.Err() != nil {
		return nil, nil, ErrClosed
	}
	if len(peers) == 0 {
		return nil, nil, transport.ErrNoPeers
	}
	s := p.members(service, peers)
	tickets, err := p.c.bal.claimAll(service, s.snapshot(), limit)
	if err != nil {
		return nil, nil, err
	}
	addrs := make([]string, len(tickets))
	dones := make([]func(transport.CallResult), len(tickets))
	for i, t := range tickets {
		addrs[i] = t.p.addr
		dones[i] = (&pickDone{bal: p.c.bal, t: t}).done
	}
	return addrs, dones, nil
}

// members returns the state of service, first adopting peers as its
// membership when they differ from the known set.
func (p *Picker) members(service string, peers []string) *service {
	s := p.c.service(service)
	if !s.sameMembers(peers, p.c.cfg.MaxPeers) {
		s.update(peers, p.c.cfg.MaxPeers, p.c.bal.now())
	}
	return s
}

// Stats returns the metrics of every peer of service, as Client.Stats.
func (p *Picker) Stats(service string) []PeerStats { return p.c.Stats(service) }

// pickDone settles one pick exactly once, so a caller calling done twice
// cannot unbalance the in-flight count or breaker probes.
type pickDone struct {
	bal     *balancer
	t       ticket
	settled atomic.Bool
}

func (d *pickDone) done(r transport.CallResult) {
	if d.settled.Swap(true) {
		return
	}
	d.bal.record(d.t, outcomeOf(r.Err))
}

// outcomeOf classifies a transport error without the caller's context:
// a handler error means the peer is alive, a caller's cancellation says
// nothing about the peer.
func outcomeOf(err error) Outcome {
	if err == nil {
		return Success // the common case: no error inspection, no allocation
	}
	switch {
	case isRemote(err):
		return RemoteError
	case errors.Is(err, transport.ErrTimeout):
		return Timeout
	case errors.Is(err, context.Canceled):
		return Canceled
	default:
		return TransportError
	}
}

func isRemote(err error) bool {
	_, ok := errors.AsType[*transport.RemoteError](err)
	return ok
}

// sameMembers reports whether addrs, as update would keep them (the first
// maxPeers), is the current snapshot in the same order: a lock-free check
// that lets picks skip the membership rebuild. A reordered answer (grapes
// shuffle; a link's cache keeps one order for its TTL) fails it once and
// the idempotent update adopts the new order; duplicates only cost that
// update on each pick.
func (s *service) sameMembers(addrs []string, maxPeers int) bool {
	snap := s.snapshot()
	addrs = addrs[:min(len(addrs), maxPeers)]
	if len(snap) != len(addrs) {
		return false
	}
	for i, p := range snap {
		if p.addr != addrs[i] {
			return false
		}
	}
	return true
}

// resolve maps tried addresses to the service's peers, appending to dst;
// addresses no longer in the snapshot are dropped (they cannot be picked).
func (s *service) resolve(tried []string, dst []*peer) []*peer {
	if len(tried) == 0 {
		return dst
	}
	for _, p := range s.snapshot() {
		for _, a := range tried {
			if p.addr == a {
				dst = append(dst, p)
				break
			}
		}
	}
	return dst
}
