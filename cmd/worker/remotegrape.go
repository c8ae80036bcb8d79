package main

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"time"
)

// A grape stores an announcement under its own IP: the UDP source of the
// announce_peer it sends (grenache-protocol.md §3.9), never the address of
// the worker that called /announce. A worker that announces through a
// grape on another host is therefore found at that grape's host, where
// nothing listens. remoteGrapes finds such --grape URLs so the worker can
// say so at start; it is a warning, not an error, because the worker
// cannot always tell (NAT, a grape in a container sharing the host's
// network through another address).

// resolveTimeout bounds the name lookups of the check: a slow DNS must not
// delay the worker's start by more than this.
const resolveTimeout = 2 * time.Second

// remoteGrapes returns the grape URLs whose host is an address, or a name
// that resolves only to addresses, that isLocal rejects. URLs that do not
// parse and names that do not resolve are left out: the check cannot tell.
func remoteGrapes(grapes []string, isLocal func(netip.Addr) bool, resolve func(host string) ([]netip.Addr, error)) []string {
	var remote []string
	for _, g := range grapes {
		u, err := url.Parse(g)
		if err != nil || u.Hostname() == "" {
			continue
		}
		var addrs []netip.Addr
		if ip, err := netip.ParseAddr(u.Hostname()); err == nil {
			addrs = []netip.Addr{ip}
		} else if addrs, err = resolve(u.Hostname()); err != nil || len(addrs) == 0 {
			continue
		}
		local := false
		for _, a := range addrs {
			local = local || isLocal(a.Unmap())
		}
		if !local {
			remote = append(remote, g)
		}
	}
	return remote
}

// localAddrs is this machine's notion of "this host": loopback, the
// unspecified address, and every address assigned to an interface.
func localAddrs() func(netip.Addr) bool {
	own := map[netip.Addr]bool{}
	if ifaddrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range ifaddrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				own[p.Addr().Unmap()] = true
			}
		}
	}
	return func(a netip.Addr) bool { return a.IsLoopback() || a.IsUnspecified() || own[a] }
}

// resolveHost resolves a grape host name within resolveTimeout.
func resolveHost(host string) ([]netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}
