package grape

import (
	"context"
	"math"
	"net/netip"
	"strconv"

	"github.com/grenache-go/grenache/pkg/dht"
)

// announce handles /announce: data is [name, port]. Port 0 means the grape's
// own DHT port; with Bind set the grape also stores the announcement itself,
// charged to from (the HTTP client's IP) so that one client flooding it
// evicts its own records first. Remote grapes charge what we send them to
// our DHT IP: KRPC carries no other source.
func (g *Grape) announce(ctx context.Context, data any, from netip.Addr) reply {
	arr, ok := data.([]any)
	if !ok {
		return appError("ERR_GRAPE_ANNOUNCE")
	}
	name, port := undefinedValue, undefinedValue
	if len(arr) > 0 {
		name = arr[0]
	}
	if len(arr) > 1 {
		port = arr[1]
	}
	if !isInteger(port) {
		return appError("ERR_GRAPE_SERVICE_PORT")
	}
	key, errMsg := bufferFrom(name)
	if errMsg != "" {
		return rawError(errMsg)
	}
	p := int(math.Max(-1, math.Min(number(port.(jsonNumber)), 1<<20)))
	if p == 0 {
		p = int(g.node.Addr().Port())
	}
	if p < 0 || p > 65535 {
		// Node sends the bad port and every DHT node ignores the query, so
		// the answer after the timeouts is this; we give it without waiting.
		return appError(dht.ErrAllFailed.Error())
	}
	id := announceID(key, p)
	g.announcing.enter(id)
	defer g.announcing.leave(id)
	if g.selfIP.IsValid() {
		g.node.StoreLocal(key, netip.AddrPortFrom(g.selfIP, uint16(p)), from)
	}
	n, err := g.node.Announce(ctx, key, p)
	// The announcement is now stored on the closest nodes: this grape's
	// next lookup of the name must see it, not a cached walk.
	g.lcache.invalidate(string(key))
	if err != nil {
		return dhtErrorReply(err)
	}
	return okJSON(strconv.AppendInt(nil, int64(n), 10))
}

// bufferFrom is Node's Buffer.from(name) for a service name: a string gives
// its UTF-8 bytes, an array its elements as bytes, anything else throws.
func bufferFrom(v any) ([]byte, string) {
	switch x := v.(type) {
	case string:
		return []byte(x), ""
	case []any:
		return bufferFromArray(x), ""
	}
	return nil, bufferFromError(v)
}
