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
	errUnreachable    = errors.New("dht: node unreachable (ICMP)")
)

// unreachableMsg is handed to a pending query instead of a reply when an
// ICMP error says its datagram could not be delivered (unreachable.go).
var unreachableMsg = &msg{}

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

// query sends q to c and waits for its reply, a KRPC error (*Error), an
// ICMP error saying c cannot be reached, the QueryTimeout, or node
// shutdown. ctx only bounds the wait for a free slot: once sent, a query
// runs to its reply or timeout, so that a straggler a walk gave up on is
// still evicted when it turns out dead.
//
// A timeout gets one second chance, and only when our own read path is
// behind (datagrams queued unread, or one being handled): on a starved host
// the reply may be sitting in our socket while every pending query times
// out at once, live nodes included. The query is then sent again (same
// transaction id, so either reply counts) and waited for once more. A dead
// node on a healthy host costs one QueryTimeout, as on a Node grape.
func (n *Node) query(ctx context.Context, c contact, q string, a *args) (result, error) {
	return n.queryAs(ctx, c, q, a, false)
}

// queryAs is query; with silentOK a timeout is not held against c (no
// eviction, no suspicion): a Node grape stays silent on a query it does not
// know (unannounce_peer), and that says nothing about whether it is alive.
func (n *Node) queryAs(ctx context.Context, c contact, q string, a *args, silentOK bool) (result, error) {
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
	if err := n.send(b, c.Addr); err != nil {
		n.evict(c)
		return res, err
	}
	t := time.NewTimer(n.cfg.QueryTimeout)
	defer t.Stop()
	second := false
	for {
		select {
		case m := <-p.ch:
			return n.settle(res, c, q, m, time.Since(start))
		case <-t.C:
			select {
			case m := <-p.ch: // dispatched while this goroutine waited to run
				return n.settle(res, c, q, m, time.Since(start))
			default:
			}
			if !second && n.readBehind() {
				second = true
				n.cfg.Logger.Debug().Str("q", q).Stringer("node", c.Addr).Msg("query timed out while our read path was behind: sent again")
				_ = n.send(b, c.Addr)
				t.Reset(n.cfg.QueryTimeout)
				continue
			}
			if silentOK {
				return res, errTimeout
			}
			n.stats.timeouts.Add(1)
			n.evict(c)
			n.markSuspect(c.Addr, true)
			n.cfg.Logger.Debug().Str("q", q).Stringer("node", c.Addr).Msg("query timed out: node evicted")
			return res, errTimeout
		case <-n.closing:
			return res, errClosed
		}
	}
}

// settle turns what the pending query received into its result: a reply,
// or the ICMP verdict that c cannot be reached, which is treated like a
// timeout that came early (evicted, dead suspect).
func (n *Node) settle(res result, c contact, q string, m *msg, rtt time.Duration) (result, error) {
	if m == unreachableMsg {
		n.stats.unreachable.Add(1)
		n.evict(c)
		n.markSuspect(c.Addr, true)
		n.cfg.Logger.Debug().Str("q", q).Stringer("node", c.Addr).Msg("query failed: node unreachable (ICMP): evicted")
		return res, errUnreachable
	}
	res.rtt = rtt
	return n.acceptReply(res, m)
}

// send writes one datagram. With ICMP errors enabled (unreachable.go) a
// send can fail only because an ICMP error for some other destination was
// pending on the socket: the queue is drained and the send tried once more.
func (n *Node) send(b []byte, to netip.AddrPort) error {
	_, err := n.conn.WriteToUDPAddrPort(b, to)
	if err != nil && isUnreachableErr(err) {
		n.handleUnreachable()
		_, err = n.conn.WriteToUDPAddrPort(b, to)
	}
	return err
}

// readBehind reports whether the read loop has datagrams it has not
// handled yet: one in hand, or some queued in the socket.
func (n *Node) readBehind() bool {
	return n.inPacket.Load() || readBacklogged(n.conn)
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
			if isUnreachableErr(err) {
				n.handleUnreachable()
			}
			continue
		}
		n.inPacket.Store(true)
		pkt := make([]byte, sz) // decoded values may alias the packet
		copy(pkt, buf[:sz])
		if out := n.handlePacket(pkt, from); out != nil {
			_ = n.send(out, from)
		}
		n.inPacket.Store(false)
	}
}
