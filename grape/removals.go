package grape

import (
	"sync"
	"time"
)

// removals remembers, per service name, when a record of it was last
// taken back (an /unannounce here, or an unannounce_peer this grape's node
// honoured), so that a lookup walk that started before the removal does not
// put the record back into the seen-peers memory: its get_peers replies may
// predate the removal on the holders. Such a walk adds nothing; a walk that
// started after the removal is trusted, so a service that announces again
// (a restarted worker on the same port) is seen at once.
//
// Names are remote input: entries cost their name's bytes plus
// removalEntryCost, within maxBytes. When full, entries older than window
// (longer than any walk runs) go first, then all of them: losing an entry
// only lets a walk in flight at the removal re-add the record, which then
// ages out of the memory as before. The clock is injected.
type removals struct {
	mu       sync.Mutex
	now      func() time.Time
	window   time.Duration
	maxBytes int
	bytes    int
	at       map[string]time.Time
}

// removalEntryCost is a name's map slot, string header and time beyond its
// bytes, rounded up (as lcEntryCost, which has a larger value).
const removalEntryCost = 96

func newRemovals(window time.Duration, maxBytes int, now func() time.Time) *removals {
	return &removals{now: now, window: window, maxBytes: maxBytes, at: make(map[string]time.Time)}
}

// record notes that a record of name was removed now.
func (r *removals) record(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if _, ok := r.at[name]; !ok {
		cost := len(name) + removalEntryCost
		if r.bytes+cost > r.maxBytes {
			r.prune(now)
		}
		if r.bytes+cost > r.maxBytes {
			clear(r.at)
			r.bytes = 0
		}
		if cost > r.maxBytes {
			return
		}
		r.bytes += cost
	}
	r.at[name] = now
}

// prune drops entries older than window; the caller holds mu.
func (r *removals) prune(now time.Time) {
	for name, t := range r.at {
		if now.Sub(t) > r.window {
			delete(r.at, name)
			r.bytes -= len(name) + removalEntryCost
		}
	}
}

// since reports whether a record of name was removed at or after start.
func (r *removals) since(name string, start time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.at[name]
	return ok && !t.Before(start)
}
