package dht

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"time"

	"github.com/rs/zerolog"
)

// NodeID is a 20-byte Kademlia node identifier, random at every start like
// bittorrent-dht's.
type NodeID [20]byte

// Target is a 20-byte BEP44 item address: sha1(bencode(v)) for immutable
// items, sha1(k ‖ salt) for mutable ones.
type Target [20]byte

// Errors whose text is part of the Grenache wire: the grape HTTP API sends
// them verbatim as JSON strings, exactly as Node grapes do.
var (
	// ErrNoNodes: the routing table (and bootstrap list) gave nobody to ask.
	ErrNoNodes = errors.New("No nodes to query")
	// ErrAllFailed: every node asked timed out or answered with an error.
	ErrAllFailed = errors.New("All queries failed")
)

// Error is a KRPC error reply ("y":"e") received from, or sent to, a node.
// BEP44 puts surface codes 301 (CAS mismatch) and 302 (sequence too old),
// which the grape API turns into the HTTP status.
type Error struct {
	Code int
	Msg  string
}

// Error returns the KRPC message text (e.g. "sequence number less than current").
func (e *Error) Error() string { return e.Msg }

// Item is a BEP44 item. Immutable items carry only V; mutable items carry
// K, Sig and Seq, and optionally Salt and Cas.
type Item struct {
	V    []byte    // the value's bytes (a bencoded string on the wire), < 1000 bytes
	K    *[32]byte // ed25519 public key (mutable items)
	Sig  *[64]byte // ed25519 signature over salt/seq/v (mutable items)
	Seq  int64     // sequence number (mutable items)
	Salt []byte    // optional salt (mutable items)
	Cas  *int64    // optional compare-and-swap on Seq (mutable puts)
}

// GetResult is a found BEP44 item and where it came from.
type GetResult struct {
	From  NodeID // the node that held the item: our own id when Local
	Token []byte // the token that node issued to us; nil when Local
	Local bool   // answered from our own value store
	Item  Item
}

// Stats is a snapshot of a node's state and counters, for /status and /metrics.
type Stats struct {
	ID            NodeID
	Addr          netip.AddrPort
	RoutingNodes  int               // nodes in the routing table
	PeerKeys      int               // keys with stored announcements
	Peers         int               // stored announcements over all keys
	Values        int               // stored BEP44 items
	QueriesSent   map[string]uint64 // by query name
	QueriesRecv   map[string]uint64 // by query name ("unknown" for others)
	QueryTimeouts uint64
	ErrorsSent    uint64
	BadPackets    uint64
	// Unreachable counts queries failed at once by an ICMP error (the
	// node's port or host unreachable; Linux only) instead of a timeout.
	Unreachable uint64
}

// Clock is the time source; tests inject a fake one.
type Clock interface {
	Now() time.Time
}

// Config holds every setting of a Node. DefaultConfig documents the defaults.
type Config struct {
	// Addr is the UDP address to listen on, e.g. "0.0.0.0:20001"; port 0 picks one.
	Addr string
	// Bootstrap lists host:port of nodes to join through (CheckBootstrap
	// says which entries New accepts). Run walks it until a node answers,
	// retrying with a short backoff; it is also re-queried whenever the
	// routing table holds fewer nodes than it lists.
	Bootstrap []string
	// PeerMaxAge is how long an announcement lives (Node's dht_peer_maxAge);
	// a stored announcement expires between 2/3 and 4/3 of it. 0 = never.
	PeerMaxAge time.Duration
	// MaxTables bounds the per-key lookup tables (closest nodes + tokens).
	MaxTables int
	// MaxValues bounds the BEP44 value store.
	MaxValues int
	// MaxPeers bounds the announcement store over all keys.
	MaxPeers int
	// MaxPeerBytes bounds the announcement store's memory: each entry is
	// charged its key's bytes plus a measured per-entry overhead. When the
	// store is full (MaxPeers or MaxPeerBytes), room is taken from the
	// source (announcing IP) holding the most bytes, oldest first.
	MaxPeerBytes int
	// MaxValueBytes bounds the BEP44 value store's memory (value, salt and
	// a per-item overhead), on top of MaxValues.
	MaxValueBytes int
	// MaxTableBytes bounds the per-key lookup tables' memory (keys, tokens
	// and a per-responder overhead), on top of MaxTables.
	MaxTableBytes int
	// NodeLiveness: after this long without routing-table change, ping all nodes.
	NodeLiveness time.Duration
	// Concurrency is the number of KRPC queries in flight per lookup (alpha).
	Concurrency int
	// QueryTimeout is how long one KRPC query waits for its reply (on
	// Linux an ICMP error ends the wait early). It also bounds how long
	// Ready waits for a bootstrap peer to answer.
	QueryTimeout time.Duration
	// Clock defaults to the wall clock.
	Clock Clock
	// OnNewPeer, when set, is called with the key after an announcement
	// that was not stored before lands in our own peer store (a received
	// announce_peer or StoreLocal; refreshes of a stored peer do not call
	// it). The grape uses it to drop a cached lookup answer at once. It runs
	// on the packet path without locks held, so it must be quick.
	OnNewPeer func(key string)
	// OnPeerGone, when set, is called after a valid unannounce_peer query
	// (a Go grape extension, unannounce.go) for peer under key; stored says
	// whether our peer store held it. The grape uses it to forget the peer
	// from its lookup memory at once. Same rules as OnNewPeer: packet path,
	// no locks held, quick.
	OnPeerGone func(key string, peer netip.AddrPort, stored bool)
	// OnEvent, when set, is called with each Event (node, announce, peer,
	// warning; see events.go) where bittorrent-dht emits the event of that
	// name. Like OnNewPeer it runs on the packet and lookup paths without
	// locks held: it must be quick and must not block (the grape hands
	// events to a bounded buffer and drops what does not fit).
	OnEvent func(Event)
	// Logger defaults to a disabled logger.
	Logger zerolog.Logger
}

// DefaultConfig returns the documented Grenache defaults.
func DefaultConfig() Config {
	return Config{
		Addr:          "0.0.0.0:20001",
		PeerMaxAge:    120 * time.Second,
		MaxTables:     5000,
		MaxValues:     5000,
		MaxPeers:      10000,
		MaxPeerBytes:  32 << 20,
		MaxValueBytes: 8 << 20,
		MaxTableBytes: 16 << 20,
		NodeLiveness:  5 * time.Minute,
		Concurrency:   16,
		QueryTimeout:  2 * time.Second,
		Logger:        zerolog.Nop(),
	}
}

// The Node's methods (New, Run, Ready, Close, ID, Addr, Announce, StoreLocal,
// Lookup, Put, Get, Stats) are defined in node.go and the files beside it;
// grape/ depends on exactly those signatures.

// String is the id as 40 hex characters.
func (id NodeID) String() string { return hex.EncodeToString(id[:]) }

// String is the target as 40 hex characters, the form /put returns.
func (t Target) String() string { return hex.EncodeToString(t[:]) }
