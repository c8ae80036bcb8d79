package dht

import (
	"net/netip"
	"strconv"
)

// handlePacket decodes one datagram from `from` and returns the bytes to
// send back (nil for none). Replies to our own queries are dispatched to
// their waiting query. It never panics on hostile input.
func (n *Node) handlePacket(b []byte, from netip.AddrPort) []byte {
	m, err := decodeMsg(b)
	if err != nil {
		n.stats.badPackets.Add(1)
		n.emit(Event{Type: EventWarning, Addr: from, Err: "undecodable packet: " + err.Error()})
		// A query whose arguments did not decode still gets an answer:
		// silence would make the sender wait out its timeout.
		if t, y, q, ok := decodeHeader(b); ok && y == "q" {
			n.countRecv(q)
			return n.errorReply(t, codeProtocol, "malformed query arguments")
		}
		return nil
	}
	switch m.Y {
	case "q":
		out := n.handleQuery(&m, from)
		if out == nil {
			return nil
		}
		if out.Y == "e" {
			n.stats.errorsSent.Add(1)
		}
		b, err := encodeMsg(out)
		if err != nil {
			return nil
		}
		return b
	case "r", "e":
		if !n.dispatchReply(&m, from) {
			n.stats.badPackets.Add(1)
			n.emit(Event{Type: EventWarning, Addr: from, Err: "unexpected reply (no query waits for its transaction id)"})
		}
		return nil
	default:
		n.stats.badPackets.Add(1)
		n.emit(Event{Type: EventWarning, Addr: from, Err: "unknown message type " + strconv.Quote(m.Y)})
		return nil
	}
}

func (n *Node) errorReply(t string, code int, text string) []byte {
	n.stats.errorsSent.Add(1)
	b, _ := encodeMsg(&msg{T: t, Y: "e", E: krpcError(code, text)})
	return b
}

func errMsg(t string, code int, text string) *msg {
	return &msg{T: t, Y: "e", E: krpcError(code, text)}
}

// handleQuery answers one query as bittorrent-dht does (protocol §3.3),
// except that unknown methods and malformed arguments get a KRPC error
// instead of silence.
func (n *Node) handleQuery(m *msg, from netip.AddrPort) *msg {
	n.countRecv(m.Q)
	a := m.A
	if a == nil {
		return errMsg(m.T, codeProtocol, "missing a dict")
	}
	if len(a.ID) == len(NodeID{}) {
		var c contact
		copy(c.ID[:], a.ID)
		c.Addr = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		n.learn(c)
	}
	switch m.Q {
	case "ping":
		return n.ok(m.T, &reply{})
	case "find_node":
		if a.Target == nil {
			return errMsg(m.T, codeProtocol, "`find_node` missing required `a.target` field")
		}
		return n.ok(m.T, &reply{Nodes: strPtr(n.closestNodes([]byte(*a.Target)))})
	case "get_peers":
		return n.onGetPeers(m.T, a, from)
	case "announce_peer":
		return n.onAnnounce(m.T, a, from)
	case "get":
		return n.onGet(m.T, a, from)
	case "put":
		return n.onPut(m.T, a, from)
	case queryUnannounce:
		return n.onUnannounce(m.T, a, from)
	default:
		return errMsg(m.T, codeMethod, "Method Unknown")
	}
}

// ok wraps r as a response carrying our id.
func (n *Node) ok(t string, r *reply) *msg {
	r.ID = string(n.id[:])
	return &msg{T: t, Y: "r", R: r}
}

// closestNodes returns the compact K closest nodes to key from the table.
func (n *Node) closestNodes(key []byte) string {
	n.mu.Lock()
	cs := n.rt.closest(key, K)
	n.mu.Unlock()
	return encodeNodes(cs)
}

func (n *Node) issueToken(from netip.AddrPort) *string {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	tok := n.tokens.issue(from.Addr(), now)
	n.mu.Unlock()
	return strPtr(string(tok))
}

func (n *Node) tokenOK(tok *string, from netip.AddrPort) bool {
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tokens.valid([]byte(*tok), from.Addr(), now)
}

// onGetPeers: token always; values if any are stored, otherwise nodes,
// never both.
func (n *Node) onGetPeers(t string, a *args, from netip.AddrPort) *msg {
	if a.InfoHash == nil {
		return errMsg(t, codeProtocol, "`get_peers` missing required `a.info_hash` field")
	}
	key := []byte(*a.InfoHash)
	r := &reply{Token: n.issueToken(from)}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	peers := n.peers.get(key, maxPeersPerReply, now)
	n.mu.Unlock()
	if len(peers) > 0 {
		r.Values = make([]string, 0, len(peers))
		for _, p := range peers {
			if s, ok := encodePeer(p); ok {
				r.Values = append(r.Values, s)
			}
		}
	} else {
		r.Nodes = strPtr(n.closestNodes(key))
	}
	return n.ok(t, r)
}

// announcedPeer checks the arguments announce_peer and unannounce_peer
// share (info_hash, token valid for the sender's IP, port or implied_port)
// and returns the peer they name, (UDP source IP, port); bad is the error
// reply, in bittorrent-dht's words with q's name in it.
func (n *Node) announcedPeer(q, t string, a *args, from netip.AddrPort) (peer netip.AddrPort, bad *msg) {
	if a.InfoHash == nil || a.Token == nil {
		return peer, errMsg(t, codeProtocol, "`"+q+"` missing required `a.info_hash` or `a.token` field")
	}
	port := int64(-1)
	if a.ImpliedPort != nil && *a.ImpliedPort != 0 {
		port = int64(from.Port())
	} else if a.Port != nil {
		port = *a.Port
	}
	if port <= 0 || port > 65535 {
		return peer, errMsg(t, codeProtocol, "`"+q+"` with invalid port")
	}
	if !n.tokenOK(a.Token, from) {
		return peer, errMsg(t, codeProtocol, "cannot `"+q+"` with bad token")
	}
	return netip.AddrPortFrom(from.Addr().Unmap(), uint16(port)), nil
}

// onAnnounce stores (UDP source IP, port) under the raw info_hash, charged
// to the UDP source IP for the store's per-source fair share.
func (n *Node) onAnnounce(t string, a *args, from netip.AddrPort) *msg {
	peer, bad := n.announcedPeer("announce_peer", t, a, from)
	if bad != nil {
		return bad
	}
	if !peer.Addr().Is4() {
		return errMsg(t, codeProtocol, "only IPv4 peers can be stored")
	}
	now := n.cfg.Clock.Now()
	n.mu.Lock()
	isNew := n.peers.add([]byte(*a.InfoHash), peer, peer.Addr(), now)
	n.mu.Unlock()
	if isNew && n.cfg.OnNewPeer != nil {
		n.cfg.OnNewPeer(*a.InfoHash)
	}
	n.emit(Event{Type: EventAnnounce, Key: *a.InfoHash, Peer: peer, Addr: from})
	return n.ok(t, &reply{})
}

// onGet answers a BEP44 get: the item if stored (salt not echoed), else
// nodes; a token either way.
func (n *Node) onGet(t string, a *args, from netip.AddrPort) *msg {
	if a.Target == nil {
		return errMsg(t, codeProtocol, "`get` missing required `a.target` field")
	}
	r := &reply{Token: n.issueToken(from)}
	var it Item
	found := false
	if len(*a.Target) == len(Target{}) {
		var tg Target
		copy(tg[:], *a.Target)
		n.mu.Lock()
		it, found = n.values.get(tg)
		n.mu.Unlock()
	}
	if !found {
		r.Nodes = strPtr(n.closestNodes([]byte(*a.Target)))
		return n.ok(t, r)
	}
	r.V = bencodeString(it.V)
	if it.K != nil {
		r.K = strPtr(string(it.K[:]))
		r.Sig = strPtr(string(it.Sig[:]))
		r.Seq = i64Ptr(it.Seq)
	}
	return n.ok(t, r)
}

// onPut stores a BEP44 item after checking token, size, signature and the
// seq/cas rules.
func (n *Node) onPut(t string, a *args, from netip.AddrPort) *msg {
	if a.V == nil || a.Token == nil {
		return errMsg(t, codeProtocol, "`put` missing required `a.v` or `a.token` field")
	}
	if !n.tokenOK(a.Token, from) {
		return errMsg(t, codeProtocol, "cannot `put` with bad token")
	}
	v, ok := unbencodeString(a.V)
	if !ok {
		if len(a.V) > maxValueLen {
			return errMsg(t, codeTooLarge, "data payload too large")
		}
		return errMsg(t, codeProtocol, "`put` value must be a byte string")
	}
	it, e := itemFromArgs(a, v)
	if e != nil {
		return errMsg(t, e.Code, e.Msg)
	}
	n.mu.Lock()
	_, e = n.values.put(it)
	n.mu.Unlock()
	if e != nil {
		return errMsg(t, e.Code, e.Msg)
	}
	return n.ok(t, &reply{})
}

// itemFromArgs builds an Item from put arguments; a k makes it mutable.
func itemFromArgs(a *args, v []byte) (Item, *Error) {
	it := Item{V: v}
	if a.K == nil {
		return it, nil
	}
	if len(*a.K) != 32 || a.Sig == nil || len(*a.Sig) != 64 || a.Seq == nil {
		return it, &Error{Code: codeInvalidSig, Msg: "invalid signature"}
	}
	var k [32]byte
	var sig [64]byte
	copy(k[:], *a.K)
	copy(sig[:], *a.Sig)
	it.K, it.Sig, it.Seq, it.Cas = &k, &sig, *a.Seq, a.Cas
	if a.Salt != nil {
		it.Salt = []byte(*a.Salt)
	}
	return it, nil
}
