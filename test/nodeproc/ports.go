package nodeproc

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
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

// Ports are handed to Node processes by number, so there is a window
// between the probe that found one free and the Node process's own bind.
// Ports the kernel picks for ":0" come from the ephemeral range, where
// every other test binary running in parallel binds its own listeners and
// the kernel picks the source port of every outgoing connection: a port
// just probed and closed there can be taken again within that window
// (an estimate, not a measurement: each bind(0) may pick any free port of
// the ~28000, so at a few hundred binds and dials a second on a busy
// `go test ./...` a Node start of about a second loses its port about once
// per hundred ports). The probe therefore draws ports
// from below the ephemeral range, where nothing is assigned automatically;
// only a fixed-port service could hold one, and the probe sees that. Test
// binaries drawing from the same range reserve what they draw (reserve).
const minProbePort = 10000

// probeRange is [lo, hi) of the ports probed, or (0, 0) when the ephemeral
// range cannot be read or leaves no room below it (then ":0" is used).
func probeRange() (lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0
	}
	var first, last int
	if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &first, &last); err != nil || first-minProbePort < 1000 {
		return 0, 0
	}
	return minProbePort, first
}

// probe returns a port that could be bound by listen a moment ago: a random
// one below the ephemeral range if there is one, else one the kernel picks.
// The port is also reserved across test binaries until the test ends.
func probe(t testing.TB, what string, listen func(port int) (int, error)) int {
	t.Helper()
	lo, hi := probeRange()
	for range 200 {
		want := 0
		if hi > lo {
			want = lo + rand.IntN(hi-lo)
		}
		port, err := listen(want)
		if err != nil {
			if want != 0 {
				continue // taken: draw another
			}
			t.Fatalf("nodeproc: probe free %s port: %v", what, err)
		}
		if claim(port) && reserve(t, what, port) {
			return port
		}
	}
	t.Fatalf("nodeproc: no fresh %s port after 200 tries", what)
	return 0
}

// reserve claims port for the rest of the test across every test binary
// on the machine: `go test ./...` runs several packages that start Node
// processes at once, and two of them could draw the same port and both
// find it free before either Node process binds it (seen once in a full
// parallel run). The claim is a file created exclusively in a shared
// directory and removed when the test ends; one left by a killed run is
// taken over after staleReservation.
func reserve(t testing.TB, what string, port int) bool {
	dir := filepath.Join(os.TempDir(), "grenache-nodeproc-ports")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return true // no shared directory: the probe alone decides
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d", strings.ToLower(what), port))
	for range 2 {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o666)
		if err == nil {
			_ = f.Close()
			t.Cleanup(func() { _ = os.Remove(path) })
			return true
		}
		if !errors.Is(err, fs.ErrExist) {
			return true
		}
		st, err := os.Stat(path)
		if err != nil || time.Since(st.ModTime()) < staleReservation {
			return false
		}
		_ = os.Remove(path) // left by a run that was killed
	}
	return false
}

// staleReservation is how old a reservation file must be to be taken over:
// longer than any test holds a port.
const staleReservation = time.Hour

// FreeTCPPort returns a TCP port that was free on all interfaces a moment
// ago. Node's HTTP API binds the IPv6 wildcard, so the probe does too. A
// window between this probe and the real bind cannot be avoided (see
// minProbePort for how it is kept safe); ports are never reused within one
// test binary.
func FreeTCPPort(t testing.TB) int {
	t.Helper()
	return probe(t, "TCP", func(port int) (int, error) {
		ln, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			return 0, err
		}
		defer ln.Close()
		return ln.Addr().(*net.TCPAddr).Port, nil
	})
}

// FreeUDPPort returns a UDP port that was free on 0.0.0.0 a moment ago. A
// Node grape's DHT socket always binds 0.0.0.0 (udp4), so the probe does too.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	return probe(t, "UDP", func(port int) (int, error) {
		c, err := net.ListenPacket("udp4", fmt.Sprintf("0.0.0.0:%d", port))
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	})
}
