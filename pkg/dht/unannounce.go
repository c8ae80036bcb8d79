package dht

// unannounce_peer: a Go grape extension to KRPC that takes an announcement
// back before it expires (docs/protocol.md). It mirrors announce_peer: the
// same arguments (id, info_hash, port or implied_port, token), the same
// token rule, the same empty reply. A node removes only (info_hash, UDP
// source IP of the query, port), so nobody can take back an announcement
// made from another IP. Node grapes do not know the query and stay silent
// (grenache-protocol §3.1), so a silence is not held against them.

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// queryUnannounce is the KRPC method name of the extension.
const queryUnannounce = "unannounce_peer"

// onUnannounce removes (UDP source IP, port) under info_hash when the token
// is valid for the source IP, and answers like announce_peer whether or not
// the record was stored (the sender cannot tell holders from the others).
func (n *Node) onUnannounce(t string, a *args, from netip.AddrPort) *msg {
	peer, bad := n.announcedPeer(queryUnannounce, t, a, from)
	if bad != nil {
		return bad
	}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	stored := n.peers.removePeer([]byte(*a.InfoHash), peer, now)
	n.mu.Unlock()
	if n.cfg.OnPeerGone != nil {
		n.cfg.OnPeerGone(*a.InfoHash, peer, stored)
	}
	return n.ok(t, &reply{})
}

// RemoveLocal drops peer under key from our own peer store (what StoreLocal
// added, for grape -b) and reports whether it was there. OnPeerGone is not
// called: the caller is the grape itself.
func (n *Node) RemoveLocal(key []byte, peer netip.AddrPort) bool {
	peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.peers.removePeer(key, peer, now)
}

// Unannounce asks the closest nodes to drop (our IP as each sees it, port)
// under key: the token walk of Announce (or its cached table), then
// unannounce_peer to every token-bearing responder. It returns how many
// acknowledged; only Go nodes do. A node that stays silent (a Node grape)
// is neither evicted nor suspected. Once one node acked, the others get the
// straggler grace; with no ack the round waits at most QueryTimeout. A
// cached table whose tokens were refused is dropped and walked again once.
func (n *Node) Unannounce(ctx context.Context, key []byte, port int) (int, error) {
	if port < 0 || port > 65535 {
		return 0, fmt.Errorf("dht: invalid port %d", port)
	}
	if port == 0 {
		port = int(n.addr.Port())
	}
	k := string(key)
	getArgs := func() *args { return &args{InfoHash: strPtr(k)} }
	unArgs := func(tok []byte) *args {
		return &args{InfoHash: strPtr(k), Port: i64Ptr(int64(port)), ImpliedPort: i64Ptr(0), Token: strPtr(string(tok))}
	}
	for attempt := 0; ; attempt++ {
		nodes, cached, err := n.tableFor(ctx, key, "get_peers", getArgs, queryUnannounce, unArgs)
		if err != nil && len(nodes) == 0 {
			if errors.Is(err, ErrNoNodes) || ctx.Err() != nil {
				return 0, err
			}
			return 0, ErrNoNodes
		}
		if len(nodes) == 0 {
			return 0, ErrNoNodes
		}
		acked, refused, err := n.unannounceRound(ctx, nodes, unArgs)
		if acked == 0 && refused && cached && attempt == 0 && ctx.Err() == nil {
			n.mu.Lock()
			n.tables.drop(key)
			n.mu.Unlock()
			continue
		}
		return acked, err
	}
}

// unannounceRound sends unannounce_peer to every node and counts the acks;
// refused reports a bad-token error from some node. Silence is expected
// (Node grapes), so queries are sent silentOK.
func (n *Node) unannounceRound(ctx context.Context, nodes []responder, mkArgs func(token []byte) *args) (acked int, refused bool, err error) {
	type ack struct {
		err error
		rtt time.Duration
	}
	acks := make(chan ack, len(nodes))
	for _, r := range nodes {
		a := mkArgs(r.token)
		c := r.contact
		if !n.spawn(func() {
			res, err := n.queryAs(n.life, c, queryUnannounce, a, true)
			acks <- ack{err: err, rtt: res.rtt}
		}) {
			return 0, false, errClosed
		}
	}
	var rtts rttSample
	timer := time.NewTimer(n.cfg.QueryTimeout)
	defer timer.Stop()
	for left := len(nodes); left > 0; {
		select {
		case a := <-acks:
			left--
			var ke *Error
			switch {
			case a.err == nil:
				acked++
				rtts.add(a.rtt)
				timer.Reset(n.grace(rtts.median()))
			case errors.As(a.err, &ke) && strings.Contains(ke.Msg, "bad token"):
				refused = true
			}
		case <-timer.C:
			return acked, refused, nil
		case <-ctx.Done():
			if acked > 0 {
				return acked, refused, nil
			}
			return 0, refused, ctx.Err()
		}
	}
	return acked, refused, nil
}
