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
	key, p, bad := g.serviceData(data, "ERR_GRAPE_ANNOUNCE")
	if bad != nil {
		return *bad
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

// serviceData reads the [name, port] of /announce and /unannounce the way
// Node's grape does, in its order: notArray (the endpoint's token) when
// data is not an array, ERR_GRAPE_SERVICE_PORT for a port that is not an
// integer, Buffer.from's error for a name it cannot take. Port 0 is the
// grape's own DHT port; the port is clamped to -1..2^20 for the caller's
// range check (each endpoint answers an out-of-range port its own way).
func (g *Grape) serviceData(data any, notArray string) (key []byte, port int, bad *reply) {
	arr, ok := data.([]any)
	if !ok {
		r := appError(notArray)
		return nil, 0, &r
	}
	name, pv := undefinedValue, undefinedValue
	if len(arr) > 0 {
		name = arr[0]
	}
	if len(arr) > 1 {
		pv = arr[1]
	}
	if !isInteger(pv) {
		r := appError("ERR_GRAPE_SERVICE_PORT")
		return nil, 0, &r
	}
	key, errMsg := bufferFrom(name)
	if errMsg != "" {
		r := rawError(errMsg)
		return nil, 0, &r
	}
	port = int(math.Max(-1, math.Min(number(pv.(jsonNumber)), 1<<20)))
	if port == 0 {
		port = int(g.node.Addr().Port())
	}
	return key, port, nil
}
