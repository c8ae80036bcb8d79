// Package dht is the Kademlia/KRPC engine of a Go grape, wire-compatible
// with Node grapes (grenache-grape 1.0.0 over bittorrent-dht 10.0.0).
//
// It speaks the Grenache dialect of BEP5 and BEP44: the get_peers and
// announce_peer info_hash is the raw service name of any length (never
// hashed), distances are XOR over the common prefix with missing bytes
// counted as 0xff, tokens are sha1(requester IP ‖ secret), announcements
// expire with record-cache semantics, and BEP44 items are stored with real
// ed25519 verification of mutable puts.
//
// Layout: pure cores with the time passed in (routing.go, tokens.go,
// peerstore.go, values.go, tables.go, distance.go, krpc.go) and thin shells
// that own the socket and goroutines (transport.go, server.go, walk.go,
// store.go, peers.go, bep44.go, maintain.go, node.go).
//
//	        UDP socket (one, IPv4)
//	               |
//	          readLoop ──── y=q ───> handleQuery ──> reply on same socket
//	               |                  |  ping / find_node / get_peers /
//	               |                  |  announce_peer / get / put
//	            y=r/e                 v
//	               |      routingTable · tokens · peerStore · valueStore
//	               v                  ^
//	pending[t] ──> query() <── walk() <── Announce / Lookup / Put / Get
//	               |                   \── lookupTables (closest + tokens, 5 min)
//	               └─ timeout: evict + suspect
//
// A walk keeps Concurrency queries in flight towards the K closest live
// candidates and ends when they have all answered. A query slower than a
// few times the walk's median reply time becomes a straggler: the walk stops
// waiting for it, and it runs on to its QueryTimeout in the background,
// where a dead node is evicted. So a dead node costs a walk tens of
// milliseconds, not the 2 s a Node grape waits.
package dht
