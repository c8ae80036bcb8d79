//go:build !linux

package dht

import (
	"net"
	"net/netip"
)

// Elsewhere an unconnected UDP socket does not report ICMP errors: a query
// to a dead port waits its QueryTimeout, as on a Node grape.

func enableUnreachable(*net.UDPConn) error { return nil }

type unreachable struct {
	to      netip.AddrPort
	payload []byte
}

func drainUnreachable(*net.UDPConn) []unreachable { return nil }

func isUnreachableErr(error) bool { return false }

// readBacklogged cannot look at the receive queue here, so it says yes: a
// timeout then always gets its second chance (query), as before.
func readBacklogged(*net.UDPConn) bool { return true }
