package grape

import (
	"context"
	"strconv"
	"sync"
)

// announcing tracks the /announce requests in flight per (name, port), so
// that an /unannounce waits for them: a link that stops announcing cancels
// its last announce, but the grape finishes it (DHT work outlives the
// client, as in Node), and an announce_peer landing after the
// unannounce_peer would put the record back until it expires. Entries exist
// only while requests run, so the map is bounded by the connections.
type announcing struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	n    int
	done chan struct{} // closed when n drops to 0
}

func announceID(name []byte, port int) string { return strconv.Itoa(port) + ":" + string(name) }

// enter marks an announce of id in flight; the caller must call leave.
func (a *announcing) enter(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.m == nil {
		a.m = make(map[string]*flight)
	}
	f := a.m[id]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		a.m[id] = f
	}
	f.n++
}

func (a *announcing) leave(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.m[id]
	if f.n--; f.n == 0 {
		close(f.done)
		delete(a.m, id)
	}
}

// wait returns when no announce of id is in flight or ctx ends.
func (a *announcing) wait(ctx context.Context, id string) {
	a.mu.Lock()
	f := a.m[id]
	a.mu.Unlock()
	if f == nil {
		return
	}
	select {
	case <-f.done:
	case <-ctx.Done():
	}
}
