package grape

import (
	"context"
	"errors"

	"github.com/grenache-go/grenache/pkg/dht"
)

// maxLookupReply is how many peers a lookup answers at most, like Node.
const maxLookupReply = 100

// lookup handles /lookup: data is a non-empty name. It walks the DHT, adds
// everything found to the seen-peers memory and answers up to 100 random
// entries of that memory. Concurrent lookups of one name share one walk.
func (g *Grape) lookup(ctx context.Context, data any) reply {
	name, ok := data.(string)
	if !ok || name == "" {
		return appError("ERR_GRAPE_LOOKUP")
	}
	v, err, _ := g.lookups.Do(name, func() (any, error) {
		peers, err := g.node.Lookup(ctx, []byte(name))
		for _, p := range peers {
			g.seen.Add(name, netipString(p))
		}
		// A Node grape never fails a lookup for lack of nodes: it answers
		// from what it remembers.
		if err != nil && !errors.Is(err, dht.ErrNoNodes) && !errors.Is(err, dht.ErrAllFailed) {
			return nil, err
		}
		return encodeStrings(g.seen.Get(name, maxLookupReply)), nil
	})
	if err != nil {
		return dhtErrorReply(err)
	}
	return okJSON(v.([]byte))
}

// encodeStrings is JSON.stringify of an array of strings.
func encodeStrings(list []string) []byte {
	b := []byte{'['}
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, jsonString(s)...)
	}
	return append(b, ']')
}
