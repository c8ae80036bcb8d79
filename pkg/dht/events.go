package dht

import "net/netip"

// EventType names what happened, with bittorrent-dht's event names so a
// grape can re-emit them as Node's grape does.
type EventType string

// The events a Node reports through Config.OnEvent.
const (
	// EventNode: a node entered the routing table (not a refresh of one
	// already there). Addr is the node.
	EventNode EventType = "node"
	// EventAnnounce: an announce_peer was accepted and stored, including a
	// refresh of a stored peer (bittorrent-dht emits one for each). Key is
	// the raw info_hash (the service name), Peer the stored address, Addr
	// the UDP source that announced.
	EventAnnounce EventType = "announce"
	// EventPeer: a get_peers reply carried a peer value during a lookup,
	// once per value per reply, as bittorrent-dht does. Key is the name
	// looked up, Peer the value, Addr the node that answered.
	EventPeer EventType = "peer"
	// EventWarning: a datagram we could not use (it did not decode, was a
	// reply nobody waited for, or had an unknown type). Err says which;
	// Addr is its sender.
	EventWarning EventType = "warning"
)

// Event is one thing a Node reports. Fields a type does not use are zero.
type Event struct {
	Type EventType
	Key  string
	Peer netip.AddrPort
	Addr netip.AddrPort
	Err  string
}

// emit reports ev to Config.OnEvent, if set.
func (n *Node) emit(ev Event) {
	if n.cfg.OnEvent != nil {
		n.cfg.OnEvent(ev)
	}
}
