package nodeproc

import (
	"net"
	"sync"
	"testing"
)

// handedOut remembers every port this process has returned, so two calls in
// one test binary never return the same port even if the first one has not
// been bound by its user yet. It is bounded by the port space (65536).
var (
	handedOutMu sync.Mutex
	handedOut   = map[int]bool{}
)

// claim records port and reports whether it was still unused.
func claim(port int) bool {
	handedOutMu.Lock()
	defer handedOutMu.Unlock()
	if handedOut[port] {
		return false
	}
	handedOut[port] = true
	return true
}

// FreeTCPPort returns a TCP port that was free on all interfaces a moment
// ago (the kernel picks it). Node's HTTP API binds the IPv6 wildcard, so the
// probe does too. There is an unavoidable window between this probe and the
// real bind; ports are never reused within one test binary.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatalf("nodeproc: probe free TCP port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if claim(port) {
			return port
		}
	}
	t.Fatalf("nodeproc: no fresh TCP port after 100 tries")
	return 0
}

// FreeUDPPort returns a UDP port that was free on 0.0.0.0 a moment ago. A
// Node grape's DHT socket always binds 0.0.0.0 (udp4), so the probe does too.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	for range 100 {
		c, err := net.ListenPacket("udp4", "0.0.0.0:0")
		if err != nil {
			t.Fatalf("nodeproc: probe free UDP port: %v", err)
		}
		port := c.LocalAddr().(*net.UDPAddr).Port
		_ = c.Close()
		if claim(port) {
			return port
		}
	}
	t.Fatalf("nodeproc: no fresh UDP port after 100 tries")
	return 0
}
