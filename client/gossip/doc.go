// Package gossip shares peer-health hints between Grenache clients over
// Grenache pub/sub (grenache-nodejs-ws wire format: one JSON text frame per
// message, no envelope).
//
// Each client with gossip on publishes, every PublishInterval, what it has
// learned about the peers it talked to (DEGRADED or HEALTHY, a confidence and
// the age of the evidence) and subscribes to every other publisher of the same
// channel. Received hints land in a [Book], which keeps them with a TTL and
// exponential decay and advises the picker about each peer ([Book.Advise]):
// by how much to multiply its cost, and whether its freshness probe may
// wait. This client's own outcomes, kept by a [Recorder], are both what it
// publishes and the most trusted voice in that advice.
//
// The design bounds what remote input can do, because anyone who can announce
// on the channel can publish:
//
//   - A hint only matters when local evidence about the peer is missing or
//     stale; fresh local evidence switches it off completely, and stale
//     local evidence still votes on the side it last saw.
//   - The multiplier is never below 1 and never above MaxNudge (default 2):
//     gossip can make a peer look somewhat worse, never better than local
//     metrics say, and it never opens a breaker.
//   - One origin supplies at most 1/MinOrigins of the full DEGRADED push, so a
//     single liar cannot reach the cap alone; origins that call most of their
//     peers degraded are discounted (they are likely the ones in trouble);
//     HEALTHY hints from other origins cancel DEGRADED ones.
//   - Every table keyed by remote input is capped (origins, peers per origin,
//     frame size), one publisher connection speaks for one origin at a time,
//     and each publisher is rate limited before its frames are parsed.
//   - The freshness probe is deferred only when this client's own record
//     already calls the peer degraded, so a hint alone never stops a client
//     from trying a peer.
//   - Optionally messages are signed with ed25519; with trusted keys set,
//     only messages signed by those keys count, and independence is counted
//     per key, not per claimed origin name.
//
// The pure parts (message codec, signing, [Book], [Assess]) take an injected
// clock and touch no sockets; the I/O shell lives in gossiper.go.
package gossip
