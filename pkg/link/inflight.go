package link

import "sync"

// lookupGroup merges identical concurrent lookups into one grape request,
// like Node's link merges identical in-flight requests. Its map holds only
// names with a request in flight, so it is bounded by the callers'
// concurrency, not by remote input.
type lookupGroup struct {
	mu    sync.Mutex
	calls map[string]*lookupCall
}

type lookupCall struct {
	done  chan struct{}
	peers []string
	err   error
}

func newLookupGroup() *lookupGroup {
	return &lookupGroup{calls: make(map[string]*lookupCall)}
}

// join returns the in-flight call for name and false, or registers a new
// one and returns it with true: the caller that gets true must run the
// request and call finish.
func (g *lookupGroup) join(name string) (*lookupCall, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.calls[name]; ok {
		return c, false
	}
	c := &lookupCall{done: make(chan struct{})}
	g.calls[name] = c
	return c, true
}

func (g *lookupGroup) finish(name string, c *lookupCall, peers []string, err error) {
	c.peers, c.err = peers, err
	g.mu.Lock()
	delete(g.calls, name)
	g.mu.Unlock()
	close(c.done)
}
