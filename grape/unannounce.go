package grape

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
)

// unannounce handles /unannounce, a Go grape extension (docs/protocol.md):
// data is [name, port] as for /announce, validated in the same order with
// the same tokens (ERR_GRAPE_UNANNOUNCE for a body that is not an array).
// It takes back what /announce made through this grape: the closest nodes
// are asked to drop (our IP, port) with unannounce_peer, this grape's own
// store drops (any address of this host, port), and so does its seen-peers
// memory. The reply is a number: the nodes that acknowledged the query
// (Go nodes; a Node grape stays silent and keeps the record until it
// expires) plus the records removed from this grape's own store.
func (g *Grape) unannounce(ctx context.Context, data any) reply {
	key, p, bad := g.serviceData(data, "ERR_GRAPE_UNANNOUNCE")
	if bad != nil {
		return *bad
	}
	if p < 0 || p > 65535 {
		return appError("ERR_GRAPE_SERVICE_PORT")
	}
	// An announce of it still running here (one the link cancelled when it
	// stopped announcing) would land after us: let it finish first.
	wctx, cancel := context.WithTimeout(ctx, g.announceWait())
	superseded := g.announcing.watch(announceID(key, p)).wait(wctx)
	cancel()
	if superseded {
		// The service announced again while we waited: the newer
		// announcement wins, as it would have had it come a moment later.
		return okJSON([]byte("0"))
	}
	k := string(key)
	// Before the walk: a lookup walk in flight now must not re-add it.
	g.removals.record(k)
	local := g.localIPs()
	removed := 0
	for ip := range local {
		if g.node.RemoveLocal(key, netip.AddrPortFrom(ip, uint16(p))) {
			removed++
		}
	}
	g.forgetLocal(k, p, local)
	n, err := g.node.Unannounce(ctx, key, p)
	// Replies to the walk's get_peers may have re-added it meanwhile.
	g.removals.record(k)
	g.forgetLocal(k, p, local)
	if err != nil && removed == 0 && !(errors.Is(err, dht.ErrNoNodes) && g.selfIP.IsValid()) {
		return dhtErrorReply(err)
	}
	return okJSON(strconv.AppendInt(nil, int64(n+removed), 10))
}

// announceWait bounds how long an /unannounce waits for announces in
// flight: an announce is a walk and a store round, each ending within a
// few QueryTimeouts.
func (g *Grape) announceWait() time.Duration { return 3*g.cfg.QueryTimeout + time.Second }

// forgetLocal drops from the seen-peers memory every record of name at
// port p on one of this host's addresses.
func (g *Grape) forgetLocal(name string, p int, local map[netip.Addr]bool) {
	g.seen.RemoveMatching(name, func(rec string) bool {
		ap, err := netip.ParseAddrPort(rec)
		return err == nil && int(ap.Port()) == p && local[ap.Addr().Unmap()]
	})
}

// localIPs are the IPv4 addresses other nodes may have stored this grape's
// announcements under: the bind address, the DHT address, loopback and
// every interface address of this host (the DHT source address of a grape
// bound to 0.0.0.0 is whichever the route picks). Behind NAT the stored
// address is not among them; the holders still drop it.
func (g *Grape) localIPs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{netip.AddrFrom4([4]byte{127, 0, 0, 1}): true}
	if g.selfIP.IsValid() {
		out[g.selfIP] = true
	}
	if a := g.node.Addr().Addr().Unmap(); a.Is4() && !a.IsUnspecified() {
		out[a] = true
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if pn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(pn.IP); ok && ip.Unmap().Is4() {
					out[ip.Unmap()] = true
				}
			}
		}
	}
	return out
}

// peerGone is the DHT node's OnPeerGone: a node took back its announcement
// of peer under key with a valid token. The seen-peers memory forgets it
// too, else lookups here would keep answering it from memory until it aged
// out; and a walk in flight must not re-add it.
func (g *Grape) peerGone(key string, peer netip.AddrPort, stored bool) {
	if g.seen.Remove(key, netipString(peer)) || stored {
		g.removals.record(key)
	}
}
