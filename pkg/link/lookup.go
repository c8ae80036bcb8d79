package link

import (
	"context"
	"errors"
	"time"
)

// Lookup returns the "ip:port" addresses the grapes know for name, in the
// grape's (random) order. An empty result is ErrLookupEmpty; a grape error
// string (e.g. "ERR_GRAPE_LOOKUP" for an empty name) is *GrapeError.
//
// Results come from the LRU cache when fresh (LookupCacheTTL). Concurrent
// lookups of one name share a single grape request; that request runs under
// the Link's lifetime and RequestTimeout rather than the first caller's
// context, so one impatient caller cannot fail the others. Each caller still
// returns as soon as its own ctx is done.
func (l *Link) Lookup(ctx context.Context, name string) ([]string, error) {
	if l.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if l.cache != nil {
		if peers, ok := l.cache.get(name); ok {
			if len(peers) == 0 {
				return nil, ErrLookupEmpty
			}
			return peers, nil
		}
	}
	call, leader := l.lookups.join(name)
	if leader && !l.spawn(func() { l.runLookup(name, call) }) {
		l.lookups.finish(name, call, nil, ErrClosed)
	}
	select {
	case <-call.done:
		if call.err != nil {
			return nil, call.err
		}
		return append([]string(nil), call.peers...), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// runLookup performs the shared grape request for a merged lookup. It is
// bounded by the Link's lifetime and by one RequestTimeout per grape.
func (l *Link) runLookup(name string, call *lookupCall) {
	ctx, cancel := context.WithTimeout(l.ctx, time.Duration(len(l.cfg.Grapes))*l.cfg.RequestTimeout)
	defer cancel()
	peers, err := l.lookupOnce(ctx, name)
	if l.cache != nil {
		switch {
		case err == nil:
			l.cache.put(name, peers)
		case errors.Is(err, ErrLookupEmpty) && l.cfg.CacheEmptyLookups:
			l.cache.put(name, nil)
		}
	}
	l.lookups.finish(name, call, peers, err)
}

func (l *Link) lookupOnce(ctx context.Context, name string) ([]string, error) {
	reply, err := l.post(ctx, "lookup", name)
	if err != nil {
		return nil, err
	}
	var peers []string
	if err := decodeTyped(reply, &peers); err != nil {
		return nil, err
	}
	if len(peers) == 0 {
		return nil, ErrLookupEmpty
	}
	return peers, nil
}
