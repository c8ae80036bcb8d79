// Package dht is the Kademlia/KRPC engine of a Go grape, wire-compatible
// with Node grapes (grenache-grape 1.0.0 over bittorrent-dht 10.0.0).
//
// It speaks the Grenache dialect of BEP5 and BEP44: the get_peers and
// announce_peer info_hash is the raw service name of any length (never
// hashed), distances are XOR over the common prefix with missing bytes
// counted as 0xff, tokens are sha1(requester IP ‖ secret), announcements
// expire with record-cache semantics, and BEP44 items are stored with real
// ed25519 verification of mutable puts. One query is our own:
// unannounce_peer (unannounce.go) takes an announcement back, honoured for
// the announcer's IP with a valid token; Node grapes ignore it, and a
// silence to it is not held against them.
//
// Layout: pure cores with the time passed in (routing.go, tokens.go,
// peerstore.go, peersources.go, values.go, tables.go, distance.go, krpc.go)
// and thin shells that own the socket and goroutines (transport.go,
// server.go, walk.go, store.go, peers.go, bep44.go, maintain.go, node.go).
//
//	        UDP socket (one, IPv4)
//	               |
//	          readLoop ──── y=q ───> handleQuery ──> reply on same socket
//	               |                  |  ping / find_node / get_peers /
//	               |                  |  announce_peer / get / put /
//	               |                  |  unannounce_peer
//	            y=r/e                 v
//	               |      routingTable · tokens · peerStore · valueStore
//	               v                  ^
//	pending[t] ──> query() <── walk() <── Announce / Lookup / Put / Get
//	               |                   \── lookupTables (closest + tokens, 5 min)
//	               └─ timeout: evict + suspect
//
// A walk keeps Concurrency queries in flight towards the K closest live
// candidates and ends when they have all answered. A query slower than a
// few times the walk's median reply time (at least min(50 ms,
// QueryTimeout/10)) becomes a straggler: it stops holding a Concurrency slot
// and a place among the K closest, so the walk moves on, and the query runs
// on to its QueryTimeout in the background, where a dead node is evicted.
//
// Skipping a straggler must never cost the result, so whether the walk
// still waits for one depends on what the walk has (walk.go, waitsFor):
//
//   - a walk that has its result (a value for Lookup and Get; any answer
//     for the join walk and the token walks of Announce and Put) waits for
//     no straggler, and for no suspect at all: a dead node costs such a
//     walk the grace once, then nothing, not the 2 s a Node grape waits;
//   - a walk that has found nothing yet waits for every straggler up to its
//     QueryTimeout, because on a loaded host a live node may answer after
//     the grace and it may be the one holding the value; only nodes that
//     timed out recently (dead suspects) are not waited for, unless nobody
//     has answered the walk at all; a first timeout in such a walk is
//     retried once, since a starved host times out every pending query at
//     once, live nodes included;
//   - Announce and Put also send their store to a straggler of their token
//     walk that answers after the walk ended, if it is among the K closest
//     answered nodes, and add it to the cached per-key table.
//
// Suspects (suspects.go) are slow (missed a grace) or dead (timed out);
// any reply, a late reply to a timed-out query, or a query from the node
// clears the mark, so a live node wrongly taken for dead under load is
// trusted again as soon as it speaks.
package dht
