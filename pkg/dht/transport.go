package dht

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// maxOutstanding bounds queries in flight per node (over all walks and
// background stragglers), so transaction ids never run out and a burst of
// work cannot grow memory without bound.
const maxOutstanding = 1024

var (
	errTimeout        = errors.New("dht: query timed out")
	errClosed         = errors.New("dht: node closed")
	errUnexpectedNode = errors.New("dht: reply from an unexpected node id")
)

// pending is one of our queries waiting for its reply.
type pending struct {
	to contact // ID is zero when unknown (bootstrap entries)
	ch chan *msg
}

// result is the outcome of one query as a walk sees it.
type result struct {
	to   contact
	from contact // the responder with the id it claimed
	r    *reply
	err  error
	rtt  time.Duration
}

// query sends q to c and waits for its reply, a KRPC error (*Error), the
// QueryTimeout, or node shutdown. ctx only bounds the wait for a free slot:
// once sent, a query runs to its reply or timeout, so that a straggler a
// walk gave up on is still evicted when it turns out dead.
func (n *Node) query(ctx context.Context, c contact, q string, a *args) (result, error) {
	res := result{to: c}
	select {
	case n.slots <- struct{}{}:
	case <-ctx.Done():
		return res, ctx.Err()
	case <-n.closing:
		return res, errClosed
	}
	defer func() { <-n.slots }()

	p := &pending{to: c, ch: make(chan *msg, 1)}
	n.mu.Lock()
	var tid uint16
	for {
		n.nextTID++
		if n.nextTID == 0 {
			n.nextTID = 1
		}
		if _, busy := n.pending[n.nextTID]; !busy {
			tid = n.nextTID
			break
		}
	}
	n.pending[tid] = p
	n.mu.Unlock()
	defer func() {
		n.mu.Lock()
		delete(n.pending, tid)
		n.mu.Unlock()
	}()

	a.ID = string(n.id[:])
	b, err := encodeMsg(&msg{T: tidBytes(tid), Y: "q", Q: q, A: a})
	if err != nil {
		return res, err
	}
	start := time.Now()
	n.countSent(q)
	if _, err := n.conn.WriteToUDPAddrPort(b, c.Addr); err != nil {
		n.evict(c)
		return res, err
	}
	t := time.NewTimer(n.cfg.QueryTimeout)
	defer t.Stop()
	select {
	case m := <-p.ch:
		res.rtt = time.Since(start)
		return n.acceptReply(res, m)
	case <-t.C:
		n.stats.timeouts.Add(1)
		n.evict(c)
		n.markSuspect(c.Addr, true)
		n.cfg.Logger.Debug().Str("q", q).Stringer("node", c.Addr).Msg("query timed out: node evicted")
		return res, errTimeout
	case <-n.closing:
		return res, errClosed
	}
}

// acceptReply applies Node's reply rules: if we knew the node's id, the
// reply must carry it (else the node is dropped); a valid sender is learned.
func (n *Node) acceptReply(res result, m *msg) (result, error) {
	if m.Y == "e" {
		return res, parseError(m.E)
	}
	if m.R == nil {
		return res, errBadPacket
	}
	res.r = m.R
	var zero NodeID
	if len(m.R.ID) == len(res.from.ID) {
		copy(res.from.ID[:], m.R.ID)
	}
	res.from.Addr = res.to.Addr
	if res.to.ID != zero && res.from.ID != res.to.ID {
		n.evict(res.to)
		return res, errUnexpectedNode
	}
	n.clearSuspect(res.to.Addr)
	if res.from.ID != zero {
		n.learn(res.from)
	}
	return res, nil
}

// dispatchReply hands a y=r/e packet to the query waiting for it. Replies
// with an unknown t, or from another IP than we queried, are ignored (the
// port is not checked: Node does not either), except that a late reply
// clears its sender's suspicion.
func (n *Node) dispatchReply(m *msg, from netip.AddrPort) bool {
	tid, ok := parseTID(m.T)
	if !ok {
		return false
	}
	n.mu.Lock()
	p, ok := n.pending[tid]
	switch {
	case ok && p.to.Addr.Addr().Unmap() == from.Addr().Unmap():
		delete(n.pending, tid)
	case !ok:
		// Most likely the reply to a query that already timed out: the
		// node is alive, only late (a loaded host), so it is no longer a
		// suspect and walks that still lack their result wait for it again.
		delete(n.suspects, netip.AddrPortFrom(from.Addr().Unmap(), from.Port()))
	default:
		ok = false
	}
	n.mu.Unlock()
	if ok {
		p.ch <- m // buffered 1, and the entry is gone: never blocks
	}
	return ok
}

// evict removes a node that failed us from the routing table.
func (n *Node) evict(c contact) {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	var zero NodeID
	if c.ID != zero {
		if id, ok := n.rt.idAt(c.Addr); ok && id == c.ID {
			n.rt.remove(c.ID, now)
			return
		}
		if n.rt.remove(c.ID, now) {
			return
		}
	}
	n.rt.removeAddr(c.Addr, now)
}

// readLoop receives every datagram: queries are answered inline from the
// same socket, replies go to their waiting query.
func (n *Node) readLoop() {
	defer n.wg.Done()
	buf := make([]byte, 1<<16)
	for {
		sz, from, err := n.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-n.closing:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		pkt := make([]byte, sz) // decoded values may alias the packet
		copy(pkt, buf[:sz])
		if out := n.handlePacket(pkt, from); out != nil {
			_, _ = n.conn.WriteToUDPAddrPort(out, from)
		}
	}
}
