// Package gossip shares peer-health hints between Grenache clients over
// Grenache pub/sub (grenache-nodejs-ws wire format: one JSON text frame per
// message, no envelope).
//
// Each client with gossip on publishes, every PublishInterval, what its own
// metrics say about the peers it talked to (Client.Stats: DEGRADED or
// HEALTHY, a confidence and the age of the evidence) and subscribes to every
// other publisher of the same channel. Received hints land in a [Book],
// which keeps them with a TTL and exponential decay and advises the client
// about each peer ([Book.Advise]): a failure share and how many of the
// client's own outcomes it is worth. [Attach] builds a client with a
// [Gossiper] as its hint source and as the reader of its metrics; gossip
// keeps no per-peer record of its own.
//
// The client reads the advice as a prior (client.HintAdvice): it judges a
// pick with probability Weight/(Weight+n), n the client's own recent
// outcomes on the peer, so a hint decides for a client that has barely used
// the peer and fades continuously as that client's own evidence accumulates.
//
// The design bounds what remote input can do, because anyone who can announce
// on the channel can publish:
//
//   - A hint never makes a peer look better than the client's own rates
//     say, never opens a breaker, and never outweighs much own evidence.
//   - A hint alone never stops a client from trying a peer: the freshness
//     probe waits only when the client's own recent outcomes on the peer
//     confirm it (recent failures, not outweighed by its successes).
//   - One origin is at most 1/MinOrigins of a full prior (PriorWeight), so
//     a single liar's hint is outweighed MinOrigins times sooner; origins
//     that call most of their peers degraded are discounted (they are likely
//     the ones in trouble); HEALTHY hints from other origins water DEGRADED
//     ones down.
//   - Every table keyed by remote input is capped (origins, peers per origin,
//     frame size, the book's byte budget), one publisher connection speaks
//     for one origin at a time, and each publisher is rate limited before
//     its frames are parsed.
//   - Optionally messages are signed with ed25519; with trusted keys set,
//     only messages signed by those keys count, and independence is counted
//     per key, not per claimed origin name.
//
// The pure parts (message codec, signing, [Book], [Assess], [HintsFrom])
// take an injected clock and touch no sockets; the I/O shell lives in
// gossiper.go.
package gossip
