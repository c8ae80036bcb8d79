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
	n       int
	entered int           // announces that joined this flight, ever
	done    chan struct{} // closed when n drops to 0
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
	f.entered++
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

// watch notes the announces of id in flight now, for wait.
func (a *announcing) watch(id string) watched {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := watched{a: a, f: a.m[id]}
	if w.f != nil {
		w.before = w.f.entered
	}
	return w
}

// watched is the flight of one id as an /unannounce found it.
type watched struct {
	a      *announcing
	f      *flight
	before int
}

// wait returns when the announces watched are done or ctx ends. It
// reports superseded when an announce of the id joined them meanwhile:
// the service announced again after the unannounce was asked for (a worker
// restarted on the same port while its predecessor's cancelled announce
// still ran here), so taking the record back now would remove the new one.
func (w watched) wait(ctx context.Context) (superseded bool) {
	if w.f == nil {
		return false
	}
	select {
	case <-w.f.done:
	case <-ctx.Done():
	}
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	return w.f.entered > w.before
}
