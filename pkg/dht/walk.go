package dht

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"time"
)

// Walk tuning. A pending query becomes a "straggler" once it has waited
// stragglerFactor times the median reply of this walk (but at least
// min(maxGraceFloor, QueryTimeout/minGraceDiv)), or at once if its node is a
// suspect (suspects.go): it stops counting against Concurrency and against
// the K closest, so the walk moves on to the next candidates instead of
// idling. Whether the walk still waits for a straggler depends on what it
// has (see waitsFor): skipping a straggler must never cost the result.
const (
	stragglerFactor = 4
	minGraceDiv     = 10
	// maxGraceFloor caps the floor: the floor only matters on LAN and
	// loopback, where the median reply takes well under a millisecond, and
	// there a node silent for 50 ms is dead or overloaded. On a WAN the
	// median term dominates.
	maxGraceFloor  = 50 * time.Millisecond
	maxCandidates  = 16 * K // candidates kept per walk, closest first
	maxNodesPerRep = 2 * K  // nodes taken from one reply
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
	// it is still asked, but it no longer holds Concurrency or a place
	// among the K closest. dead: it timed out in some walk (suspects.go).
	suspect, dead bool
}

// walkSpec describes one iterative walk.
type walkSpec struct {
	q   string
	key []byte // the distance key: own id, info_hash or target
	// bootstrap: always ask the bootstrap list (the join walk); other
	// walks ask it only while the table knows fewer nodes than it lists.
	bootstrap bool
	args      func() *args // fresh arguments for each query
	// onReply sees every reply (in the walk's goroutine); true ends the walk.
	onReply func(from contact, r *reply) bool
	// late, if set, is called (in the query's goroutine) for a token-bearing
	// reply that arrived after the walk ended from a node that would have
	// been among the K closest answered ones: a straggler the walk did not
	// wait for. Announce and Put send it their store too.
	late func(from contact, token []byte)
	// found reports whether the walk already has what it looks for (a
	// value for get_peers/get); nil means any answer is enough (find_node,
	// and the token walks of announce and put). Read in the walk's goroutine.
	found func() bool
}

type walkEvent struct {
	c   *cand
	res result
	err error
}

// walker is the state of one walk; only the walk's goroutine touches it.
type walker struct {
	n      *Node
	spec   walkSpec
	byID   map[NodeID]*cand
	sorted []*cand // known ids, closest first
	boot   []*cand // bootstrap entries whose id we learn when they answer
	events chan walkEvent
	done   chan struct{} // closed when the walk ends: late results are dropped
	rtts   rttSample
	heard  bool        // some node answered this walk
	final  []responder // the result, set before done is closed
}

// walk runs an iterative Kademlia lookup: it starts from the K closest known
// nodes (plus the bootstrap list when we know fewer nodes than it lists),
// keeps Concurrency queries in flight to the closest unqueried candidates,
// merges returned nodes, and ends when the K closest live candidates have
// answered and no straggler is still worth waiting for (waitsFor). It
// returns the answering nodes closest first (at most K) with the tokens
// they issued.
func (n *Node) walk(ctx context.Context, spec walkSpec) (rs []responder, err error) {
	w := &walker{n: n, spec: spec, byID: make(map[NodeID]*cand), events: make(chan walkEvent), done: make(chan struct{})}
	defer func() { w.final = rs; close(w.done) }()
	n.mu.Lock()
	start := n.rt.closest(spec.key, K)
	known := n.rt.len()
	n.mu.Unlock()
	for _, c := range start {
		w.add(c)
	}
	if spec.bootstrap || known < len(n.cfg.Bootstrap) {
		for _, a := range n.resolveBootstrap(ctx) {
			if !slices.ContainsFunc(start, func(c contact) bool { return c.Addr == a }) {
				w.boot = append(w.boot, &cand{contact: contact{Addr: a}})
			}
		}
	}
	if len(w.sorted) == 0 && len(w.boot) == 0 {
		return nil, ErrNoNodes
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wake, busy := w.step(time.Now())
		if !busy {
			return w.answered(), nil
		}
		timer.Reset(wake)
		select {
		case <-ctx.Done():
			return w.answered(), ctx.Err()
		case <-n.closing:
			return w.answered(), errClosed
		case <-timer.C:
		case ev := <-w.events:
			if w.handle(ev) {
				return w.answered(), nil
			}
		}
	}
}

// add makes a known node a candidate (sorting is left to the caller).
func (w *walker) add(c contact) *cand {
	cd := &cand{contact: c, known: true}
	w.byID[c.ID] = cd
	w.sorted = append(w.sorted, cd)
	return cd
}

// step launches every query it may and reports whether the walk goes on
// (busy) and when to look again if no reply comes first (wake).
func (w *walker) step(now time.Time) (wake time.Duration, busy bool) {
	for {
		grace := w.n.grace(w.rtts.median())
		straggling := func(c *cand) bool {
			if c.state != inFlight {
				return false
			}
			if !c.suspect && now.Sub(c.sent) >= grace {
				// Walks that already have their result need not wait for
				// it either, until it answers (clearSuspect).
				c.suspect = true
				w.n.markSuspect(c.Addr, false)
			}
			return c.suspect
		}
		all := append(slices.Clip(w.sorted), w.boot...)
		inflight := 0
		for _, c := range all {
			if c.state == inFlight && !straggling(c) {
				inflight++
			}
		}
		launched := false
		try := func(c *cand) {
			if c.state == unqueried && inflight < w.n.cfg.Concurrency {
				w.launch(c, now)
				inflight++
				launched = true
			}
		}
		busy = false
		for _, c := range w.boot {
			try(c)
			if c.state == unqueried || (c.state == inFlight && !straggling(c)) {
				busy = true
			}
		}
		k := 0 // the K closest candidates not known to be dead or straggling
		for _, c := range w.sorted {
			if k == K {
				break
			}
			if c.state == failed || straggling(c) {
				continue
			}
			k++
			try(c)
			if c.state != answered {
				busy = true
			}
		}
		if launched {
			continue // a suspect launched just now already straggles: recount
		}
		if !busy {
			busy = slices.ContainsFunc(all, func(c *cand) bool { return w.waitsFor(c, straggling(c)) })
		}
		// Look again when the oldest live query turns straggler. Stragglers
		// still waited for end by their reply or QueryTimeout (an event).
		wake = time.Hour
		for _, c := range all {
			if c.state == inFlight && !straggling(c) {
				wake = min(wake, grace-now.Sub(c.sent))
			}
		}
		return max(wake, time.Millisecond), busy
	}
}

// waitsFor reports whether the walk keeps waiting for a straggler (up to
// its QueryTimeout). The rule: skipping a straggler must never cost the
// result, so
//   - a walk that has its result (found, or any answer when found is nil)
//     waits for no straggler: this is what keeps lookups fast after a node
//     dies (tens of ms for the first, ~1 ms once it is a suspect);
//   - a walk without its result waits for every straggler whose node has
//     not timed out recently: a live node that is only slow (a loaded host,
//     a GC pause) may be the one that holds the value, and giving up on it
//     turned "stored on the closest nodes" into "not found";
//   - it waits even for a node that timed out recently while nobody at all
//     has answered: otherwise a node whose only contact timed out once
//     (a false timeout under load) would give up on it at once forever.
//
// So a dead node costs a walk nothing once it timed out, and the grace (or
// nothing) while the walk already has its result; only a walk that has
// found nothing yet waits for a fresh dead node: one QueryTimeout, once
// per dead node, since it is then a dead suspect (a Node grape waits the
// same). When the dead node's host is up, its ICMP port-unreachable fails
// the query at once (unreachable_linux.go) and nobody waits. The false
// timeouts of a starved host get their second chance in query, which can
// tell them apart (its read path is behind) instead of in the walk, which
// would wait twice for every dead node.
func (w *walker) waitsFor(c *cand, straggler bool) bool {
	if !straggler || w.satisfied() {
		return false
	}
	return !c.dead || !w.heard
}

// satisfied reports whether the walk has what it looks for.
func (w *walker) satisfied() bool {
	return w.heard && (w.spec.found == nil || w.spec.found())
}

// launch sends the walk's query to c in a node-owned goroutine.
func (w *walker) launch(c *cand, now time.Time) {
	c.state, c.sent = inFlight, now
	c.suspect, c.dead = w.n.suspectLevel(c.Addr)
	a := w.spec.args()
	if !w.n.spawn(func() {
		res, err := w.n.query(w.n.life, c.contact, w.spec.q, a)
		select {
		case w.events <- walkEvent{c: c, res: res, err: err}:
		case <-w.done:
			w.lateReply(res, err)
		}
	}) {
		c.state = failed
	}
}

// lateReply passes a straggler's reply that came after the walk ended to
// spec.late when it would have made the K closest answered nodes. Runs in
// the query's goroutine; w.final is safe to read once done is closed.
func (w *walker) lateReply(res result, err error) {
	if err != nil || w.spec.late == nil || res.r == nil || res.r.Token == nil || len(*res.r.Token) > maxTokenLen || res.from.ID == (NodeID{}) {
		return
	}
	if slices.ContainsFunc(w.final, func(r responder) bool { return r.ID == res.from.ID }) {
		return
	}
	if len(w.final) >= K && cmpCloser(w.spec.key, &res.from.ID, &w.final[K-1].ID) >= 0 {
		return
	}
	w.spec.late(res.from, []byte(*res.r.Token))
}

// handle applies one query outcome; true means onReply ended the walk.
func (w *walker) handle(ev walkEvent) bool {
	if ev.err != nil {
		ev.c.state = failed
		return false
	}
	w.rtts.add(ev.res.rtt)
	w.heard = true
	c := ev.c
	if !c.known {
		c.state = answered // the bootstrap entry itself; now we know its id
		switch old, ok := w.byID[ev.res.from.ID]; {
		case ev.res.from.ID == NodeID{}:
			c = nil
		case ok:
			c = old
		default:
			c = w.add(ev.res.from)
		}
	}
	if c != nil {
		c.state = answered
		if ev.res.r.Token != nil && len(*ev.res.r.Token) <= maxTokenLen {
			c.token = []byte(*ev.res.r.Token)
		}
	}
	stop := w.spec.onReply != nil && w.spec.onReply(ev.res.from, ev.res.r)
	var nodes []contact
	if ev.res.r.Nodes != nil {
		nodes = decodeNodes(*ev.res.r.Nodes)
	}
	w.merge(nodes)
	return stop
}

// merge adds new nodes from a reply and keeps the closest maxCandidates,
// closest first.
func (w *walker) merge(nodes []contact) {
	for i, c := range nodes {
		if i == maxNodesPerRep {
			break
		}
		if _, ok := w.byID[c.ID]; ok || c.ID == w.n.id {
			continue
		}
		w.add(c)
	}
	slices.SortFunc(w.sorted, func(a, b *cand) int { return cmpCloser(w.spec.key, &a.ID, &b.ID) })
	for len(w.sorted) > maxCandidates {
		last := w.sorted[len(w.sorted)-1]
		delete(w.byID, last.ID)
		w.sorted = w.sorted[:len(w.sorted)-1]
	}
}

// answered returns the K closest candidates that answered.
func (w *walker) answered() []responder {
	out := make([]responder, 0, K)
	for _, c := range w.sorted {
		if c.state == answered {
			out = append(out, responder{contact: c.contact, token: c.token})
			if len(out) == K {
				break
			}
		}
	}
	return out
}

// grace is how long a query may take before the walk treats it as a
// straggler: stragglerFactor times the typical (median) reply time seen so
// far, at least min(maxGraceFloor, QueryTimeout/minGraceDiv), at most
// QueryTimeout. The median,
// not the maximum, so that one slow reply on a busy host does not stretch
// the wait for every dead node.
func (n *Node) grace(typical time.Duration) time.Duration {
	qt := n.cfg.QueryTimeout
	if typical == 0 {
		return qt
	}
	return min(max(stragglerFactor*typical, min(maxGraceFloor, qt/minGraceDiv)), qt)
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
