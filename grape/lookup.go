package grape

import (
	"context"
	"errors"

	"github.com/grenache-go/grenache/pkg/dht"
)

// maxLookupReply is how many peers a lookup answers at most, like Node.
const maxLookupReply = 100

// lookup handles /lookup: data is a non-empty name.
func (g *Grape) lookup(ctx context.Context, data any) reply {
	name, ok := data.(string)
	if !ok {
		return appError("ERR_GRAPE_LOOKUP")
	}
	return g.lookupName(ctx, name)
}

// lookupName walks the DHT (unless a walk for the name is fresh enough, see
// lookupCache), adds everything found to the seen-peers memory and answers
// up to 100 random entries of that memory. Concurrent lookups of one name
// share one walk.
func (g *Grape) lookupName(ctx context.Context, name string) reply {
	if name == "" {
		return appError("ERR_GRAPE_LOOKUP")
	}
	if !g.lcache.fresh(name) {
		_, err, _ := g.lookups.Do(name, func() (any, error) {
			start := g.now()
			peers, err := g.node.Lookup(ctx, []byte(name))
			for _, p := range peers {
				g.seen.Add(name, netipString(p))
			}
			// A Node grape never fails a lookup for lack of nodes: it
			// answers from what it remembers.
			if err != nil && !errors.Is(err, dht.ErrNoNodes) && !errors.Is(err, dht.ErrAllFailed) {
				return nil, err
			}
			g.lcache.done(name, start)
			return nil, nil
		})
		if err != nil {
			return dhtErrorReply(err)
		}
	}
	return okJSON(g.seen.AppendJSON(make([]byte, 0, 64), name, maxLookupReply))
}
