package client

import (
	"sync"
	"sync/atomic"
)

// service is the peer set of one service name. Picks load the snapshot slice
// with one atomic read; membership changes build a new slice and swap it in.
type service struct {
	name  string
	peers atomic.Pointer[[]*peer]
	guard openGuard
	tail  tailEstimator // successful attempt latencies: the adaptive hedge delay

	mu      sync.Mutex // serialises membership updates
	byAddr  map[string]*peer
	retired []*peer // vanished peers, kept (bounded) so reports still show them
	known   bool    // a lookup has succeeded at least once
}

func newService(name string) *service {
	s := &service{name: name, byAddr: map[string]*peer{}}
	empty := []*peer{}
	s.peers.Store(&empty)
	return s
}

func (s *service) snapshot() []*peer { return *s.peers.Load() }

// maxPeerAddr is the longest peer address kept: a 253-byte DNS name, a
// colon and five digits. Lookups are remote input; with it and maxPeers
// the peer table of a service is bounded in bytes, not only in count.
const maxPeerAddr = 253 + 1 + 5

// update replaces the membership with addrs (deduplicated, capped at maxPeers,
// addresses longer than maxPeerAddr skipped).
// Peers that vanished are drained: they leave the snapshot at once, their
// in-flight attempts still finish and record. New peers join with slow start,
// except on the first lookup, when there is nobody to protect them from.
func (s *service) update(addrs []string, maxPeers int, now int64) (added, removed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := make([]*peer, 0, min(len(addrs), maxPeers))
	seen := make(map[string]struct{}, len(addrs))
	for _, a := range addrs {
		if len(next) >= maxPeers {
			break
		}
		if _, dup := seen[a]; dup || a == "" || len(a) > maxPeerAddr {
			continue
		}
		seen[a] = struct{}{}
		p, ok := s.byAddr[a]
		if !ok {
			p = newPeer(a, &s.guard)
			p.svc = s.name
			p.tail = &s.tail
			p.lastPick.Store(now)
			if s.known {
				p.startSlow(now)
			}
			s.byAddr[a] = p
			added++
		}
		next = append(next, p)
	}
	for a, p := range s.byAddr {
		if _, ok := seen[a]; ok {
			continue
		}
		delete(s.byAddr, a)
		p.mu.Lock()
		p.removed = true
		p.br.dropped()
		p.mu.Unlock()
		s.retired = append(s.retired, p)
		removed++
	}
	if over := len(s.retired) - maxPeers; over > 0 {
		s.retired = append(s.retired[:0], s.retired[over:]...)
	}
	s.known = true
	s.guard.peers.Store(int32(len(next)))
	s.peers.Store(&next)
	return added, removed
}
