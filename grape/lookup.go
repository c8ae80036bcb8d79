package grape

import (
	"context"
	"errors"

	"github.com/grenache-go/grenache/pkg/dht"
)

// maxLookupReply is how many peers a lookup answers at most, like Node.
const maxLookupReply = 100

// maxRefreshes bounds background refresh walks in flight (one per name at
// most); past it a stale name is answered without a refresh until a slot
// frees or it ages into a miss.
const maxRefreshes = 64

// lookup handles /lookup: data is a non-empty name. The reply is built in
// buf's spare capacity (see lookupName).
func (g *Grape) lookup(ctx context.Context, data any, buf []byte) reply {
	name, ok := data.(string)
	if !ok {
		return appError("ERR_GRAPE_LOOKUP")
	}
	return g.lookupName(ctx, name, buf)
}

// lookupName walks the DHT unless a recent walk for the name is still good
// (see lookupCache), adds everything found to the seen-peers memory and
// answers up to 100 random entries of that memory. Concurrent lookups of
// one name share one walk. The reply body is appended to buf[:0], a pooled
// buffer the caller no longer reads from, so the hot path allocates no
// reply of its own.
func (g *Grape) lookupName(ctx context.Context, name string, buf []byte) reply {
	if name == "" {
		return appError("ERR_GRAPE_LOOKUP")
	}
	st, mem := g.lcache.state(name, g.seen.Gen())
	if st == lcRefresh {
		g.refresh(name)
	}
	if st != lcMiss {
		if out, ok := g.seen.AppendJSONSince(buf[:0], name, maxLookupReply, mem); ok {
			return okJSON(out)
		}
		// The memory rotated twice since the walk: what it found may be
		// gone from memory but not from the DHT, so walk.
	}
	if _, err, _ := g.lookups.Do(name, func() (any, error) { return nil, g.walk(ctx, name) }); err != nil {
		return dhtErrorReply(err)
	}
	return okJSON(g.seen.AppendJSON(buf[:0], name, maxLookupReply))
}

// walk runs one DHT lookup for name, records what it found in the
// seen-peers memory and marks the name walked.
func (g *Grape) walk(ctx context.Context, name string) error {
	start := g.now()
	peers, err := g.node.Lookup(ctx, []byte(name))
	// Read before adding: every record below is added while the memory's
	// generation is at least mem, so it is held while Gen <= mem+1.
	mem := g.seen.Gen()
	if g.removals.since(name, start) {
		// A record of the name was taken back while this walk ran: its
		// replies may predate that. Add nothing, and do not mark the name
		// walked: the next lookup walks again.
		g.lcache.abandon(name)
		return nil
	}
	for _, p := range peers {
		g.seen.Add(name, netipString(p))
	}
	// A Node grape never fails a lookup for lack of nodes: it answers from
	// what it remembers.
	if err != nil && !errors.Is(err, dht.ErrNoNodes) && !errors.Is(err, dht.ErrAllFailed) {
		return err
	}
	g.lcache.done(name, start, mem)
	return nil
}

// refresh walks name in the background, owned by the grape: Run waits for
// it after cancelling opCtx. At most maxRefreshes run at once.
func (g *Grape) refresh(name string) {
	g.bgMu.Lock()
	if g.bgStopped || g.bgRunning >= maxRefreshes {
		g.bgMu.Unlock()
		g.lcache.abandon(name)
		return
	}
	g.bgRunning++
	g.bg.Add(1)
	g.bgMu.Unlock()
	go func() {
		defer func() {
			g.bgMu.Lock()
			g.bgRunning--
			g.bgMu.Unlock()
			g.bg.Done()
		}()
		_, err, _ := g.lookups.Do(name, func() (any, error) { return nil, g.walk(g.opCtx, name) })
		if err != nil {
			g.lcache.abandon(name)
		}
	}()
}

// stopRefreshes refuses new background refreshes and waits for running
// ones (they end soon: opCtx is cancelled first).
func (g *Grape) stopRefreshes() {
	g.bgMu.Lock()
	g.bgStopped = true
	g.bgMu.Unlock()
	g.bg.Wait()
}
