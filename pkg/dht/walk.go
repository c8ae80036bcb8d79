package dht

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Walk tuning. A pending query becomes a "straggler" once it has waited
// stragglerFactor times the slowest reply of this walk (at least
// QueryTimeout/minGraceDiv): it stops counting against Concurrency and
// against the K closest, so a dead node no longer holds the walk for a whole
// QueryTimeout. Its query still runs to the hard timeout in the background,
// where the node is evicted.
const (
	stragglerFactor = 4
	minGraceDiv     = 10
	maxCandidates   = 16 * K // candidates kept per walk, closest first
	maxNodesPerRep  = 2 * K  // nodes taken from one reply
)

type candState int

const (
	unqueried candState = iota
	inFlight
	answered
	failed
)

type cand struct {
	contact
	known bool // id known; false for bootstrap entries until they answer
	state candState
	sent  time.Time
	token []byte
	// suspect: did not answer within the grace (here or in another walk);
	// it is still asked, but the walk does not wait for it.
	// the walk does not wait for it.
	suspect bool
}

// walkSpec describes one iterative walk.
type walkSpec struct {
	q    string
	key  []byte       // the distance key: own id, info_hash or target
	args func() *args // fresh arguments for each query
	// onReply sees every reply (in the walk's goroutine); true ends the walk.
	onReply func(from contact, r *reply) bool
}

type walkEvent struct {
	c   *cand
	res result
	err error
}

// walk runs an iterative Kademlia lookup: it starts from the K closest known
// nodes (plus the bootstrap list when we know fewer nodes than it lists),
// keeps Concurrency queries in flight to the closest unqueried candidates,
// merges returned nodes, and ends when the K closest live candidates have
// answered. It returns the answering nodes closest first (at most K) with
// the tokens they issued.
func (n *Node) walk(ctx context.Context, spec walkSpec) ([]responder, error) {
	byID := make(map[NodeID]*cand)
	var sorted, boot []*cand
	n.mu.Lock()
	start := n.rt.closest(spec.key, K)
	known := n.rt.len()
	n.mu.Unlock()
	for _, c := range start {
		cd := &cand{contact: c, known: true}
		byID[c.ID] = cd
		sorted = append(sorted, cd)
	}
	if known < len(n.cfg.Bootstrap) {
		for _, a := range n.resolveBootstrap(ctx) {
			if slices.ContainsFunc(start, func(c contact) bool { return c.Addr == a }) {
				continue
			}
			boot = append(boot, &cand{contact: contact{Addr: a}})
		}
	}
	if len(sorted) == 0 && len(boot) == 0 {
		return nil, ErrNoNodes
	}

	events := make(chan walkEvent)
	done := make(chan struct{})
	defer close(done)
	var rtts rttSample
	inflight := 0 // non-straggling queries
	launch := func(c *cand) {
		c.state, c.sent = inFlight, time.Now()
		c.suspect = n.isSuspect(c.ID)
		inflight++
		a := spec.args()
		ok := n.spawn(func() {
			res, err := n.query(n.life, c.contact, spec.q, a)
			select {
			case events <- walkEvent{c: c, res: res, err: err}:
			case <-done:
			}
		})
		if !ok {
			c.state = failed
			inflight--
		}
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()

	for {
		now := time.Now()
		grace := n.grace(rtts.median())
		straggling := func(c *cand) bool {
			if c.state != inFlight {
				return false
			}
			if !c.suspect && now.Sub(c.sent) >= grace {
				// Later walks need not wait for it either, until it
				// answers (clearSuspect) or times out (evicted).
				c.suspect = true
				n.markSuspect(c.ID)
			}
			return c.suspect
		}
		inflight = 0
		for _, c := range append(slices.Clip(sorted), boot...) {
			if c.state == inFlight && !straggling(c) {
				inflight++
			}
		}
		launched := false
		busy := false
		for _, c := range boot {
			if c.state == unqueried && inflight < n.cfg.Concurrency {
				launch(c)
				launched = true
			}
			if c.state == unqueried || (c.state == inFlight && !straggling(c)) {
				busy = true
			}
		}
		top := make([]*cand, 0, K)
		for _, c := range sorted {
			if c.state == failed || straggling(c) {
				continue
			}
			if top = append(top, c); len(top) == K {
				break
			}
		}
		for _, c := range top {
			if c.state == unqueried && inflight < n.cfg.Concurrency {
				launch(c)
				launched = true
			}
			if c.state != answered {
				busy = true
			}
		}
		if launched {
			continue // a suspect launched just now already straggles: recount
		}
		if !busy {
			break
		}
		// Wake up on a reply, or when the oldest live query turns straggler.
		wake := time.Hour
		for _, c := range append(slices.Clip(sorted), boot...) {
			if c.state == inFlight && !straggling(c) {
				wake = min(wake, grace-now.Sub(c.sent))
			}
		}
		timer.Reset(max(wake, time.Millisecond))
		select {
		case <-ctx.Done():
			return answeredOf(sorted), ctx.Err()
		case <-n.closing:
			return answeredOf(sorted), errClosed
		case <-timer.C:
			continue
		case ev := <-events:
			if ev.err != nil {
				ev.c.state = failed
				continue
			}
			rtts.add(ev.res.rtt)
			c := ev.c
			if !c.known {
				c.state = answered // the bootstrap entry itself
				var zero NodeID
				if ev.res.from.ID == zero {
					c = nil
				} else if old, ok := byID[ev.res.from.ID]; ok {
					c = old
				} else {
					c = &cand{contact: ev.res.from, known: true}
					byID[c.ID] = c
					sorted = append(sorted, c)
				}
			}
			if c != nil {
				c.state = answered
				if ev.res.r.Token != nil {
					c.token = []byte(*ev.res.r.Token)
				}
			}
			stop := spec.onReply != nil && spec.onReply(ev.res.from, ev.res.r)
			if ev.res.r.Nodes != nil {
				sorted = n.merge(spec.key, sorted, byID, decodeNodes(*ev.res.r.Nodes))
			} else {
				sortCands(spec.key, sorted)
			}
			if stop {
				return answeredOf(sorted), nil
			}
		}
	}
	return answeredOf(sorted), nil
}

// grace is how long a query may take before the walk treats it as a
// straggler: stragglerFactor times the typical (median) reply time seen so
// far, at least QueryTimeout/minGraceDiv, at most QueryTimeout. The median,
// not the maximum, so that one slow reply on a busy host does not stretch
// the wait for every dead node.
func (n *Node) grace(typical time.Duration) time.Duration {
	qt := n.cfg.QueryTimeout
	if typical == 0 {
		return qt
	}
	return min(max(stragglerFactor*typical, qt/minGraceDiv), qt)
}

// rttSample keeps the reply times of one walk or store round (bounded).
type rttSample struct{ v []time.Duration }

const maxRTTSample = 64

func (r *rttSample) add(d time.Duration) {
	if len(r.v) < maxRTTSample {
		r.v = append(r.v, d)
	}
}

// median is 0 until a reply arrived.
func (r *rttSample) median() time.Duration {
	if len(r.v) == 0 {
		return 0
	}
	s := slices.Clone(r.v)
	slices.Sort(s)
	return s[len(s)/2]
}

// merge adds new nodes from a reply, keeping the closest maxCandidates.
func (n *Node) merge(key []byte, sorted []*cand, byID map[NodeID]*cand, nodes []contact) []*cand {
	for i, c := range nodes {
		if i == maxNodesPerRep {
			break
		}
		if _, ok := byID[c.ID]; ok || c.ID == n.id {
			continue
		}
		cd := &cand{contact: c, known: true}
		byID[c.ID] = cd
		sorted = append(sorted, cd)
	}
	sortCands(key, sorted)
	for len(sorted) > maxCandidates {
		last := sorted[len(sorted)-1]
		delete(byID, last.ID)
		sorted = sorted[:len(sorted)-1]
	}
	return sorted
}

func sortCands(key []byte, cs []*cand) {
	slices.SortStableFunc(cs, func(a, b *cand) int { return cmpDistance(key, &a.ID, &b.ID) })
}

// answeredOf returns the K closest candidates that answered.
func answeredOf(sorted []*cand) []responder {
	out := make([]responder, 0, K)
	for _, c := range sorted {
		if c.state == answered {
			out = append(out, responder{contact: c.contact, token: c.token})
			if len(out) == K {
				break
			}
		}
	}
	return out
}

// resolveBootstrap resolves the bootstrap list at every use, like Node
// does, so hostnames that change or come up late are followed.
func (n *Node) resolveBootstrap(ctx context.Context) []netip.AddrPort {
	var out []netip.AddrPort
	for _, hp := range n.cfg.Bootstrap {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			continue
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
		if err != nil || len(ips) == 0 {
			continue
		}
		pa, err := netip.ParseAddrPort(net.JoinHostPort(ips[0].Unmap().String(), port))
		if err != nil || pa.Port() == 0 {
			continue
		}
		if !slices.Contains(out, pa) {
			out = append(out, pa)
		}
	}
	return out
}
