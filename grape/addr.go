package grape

import "net/netip"

// netipString prints a peer as Node does ("a.b.c.d:port"), unmapping
// IPv4-in-IPv6 addresses first.
func netipString(p netip.AddrPort) string {
	return netip.AddrPortFrom(p.Addr().Unmap(), p.Port()).String()
}
