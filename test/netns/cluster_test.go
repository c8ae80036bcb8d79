package netns

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	service    = "netns_svc"
	workerPort = 41000 // host i's worker listens on workerPort+i
	// peerMaxAge is every grape's --dpa: short, so the dead host's worker
	// expires within the test. Workers re-announce every 400 ms (gaps of
	// 200-600 ms), well inside the 2M/3 = 1333 ms that keeps a record alive.
	peerMaxAge       = 2 * time.Second
	announceInterval = "400"
	// nodePeerMaxAge is the Node grape's --dpa. Once a peer host is dead,
	// every Node walk waits out its 2 s query timeout (2.5-4.6 s a walk,
	// measured) and then answers from its seen-peers memory, which keeps a
	// record only M/3..2M/3: with M = 2 s that memory is empty by the time
	// the walk ends and the Node grape answers []. 9 s keeps 3 s.
	nodePeerMaxAge = 9 * time.Second
)

// The whole stack across three hosts, as it would be deployed: hosts 0
// and 1 each run a Go grape and a worker (host 0's grape with -b), host 2
// a Node grape; every grape bootstraps at the two others and every host
// runs clients against its own grape. On loopback every address is
// 127.0.0.1, so a grape that stored the wrong address would still work;
// here each host has its own, and a wrong one shows.
func TestClusterAcrossHosts(t *testing.T) {
	requireLab(t)
	bins := buildBins(t, "grape", "worker", "client")
	grapeBin, workerBin, clientBin := bins[0], bins[1], bins[2]
	l := newLab(t, 3)
	dpa := strconv.FormatInt(peerMaxAge.Milliseconds(), 10)
	l.start(0, grapeBin, "--dpa", dpa, "-b", l.addr(0))
	victimGrape := l.start(1, grapeBin, "--dpa", dpa)
	l.start(2, "", "--dpa", strconv.FormatInt(nodePeerMaxAge.Milliseconds(), 10))
	start := time.Now()
	l.waitConnected()
	t.Logf("grapes bootstrapped at each other across hosts in %v", time.Since(start).Round(time.Millisecond))

	// Worker 0 binds its host's address only, worker 1 every address (the
	// default); both announce to their own host's grape.
	var workers []*exec.Cmd
	for i := 0; i < 2; i++ {
		argv := []string{workerBin, "--service", service, "--port", strconv.Itoa(workerPort + i),
			"--grape", l.apiURL(i), "--announce-interval", announceInterval, "--log-level", "warn"}
		if i == 0 {
			argv = append(argv, "--bind", l.addr(0))
		}
		workers = append(workers, l.run(i, argv...))
	}
	both := []string{l.workerAddr(0), l.workerAddr(1)}
	start = time.Now()
	for i := range l.hosts {
		l.waitLookup(t, i, both, 20*time.Second)
	}
	t.Logf("every grape (Go and Node) returns %v %v after the workers started", both, time.Since(start).Round(time.Millisecond))

	t.Run("-b binds where asked", func(t *testing.T) {
		for _, c := range []struct {
			what         string
			port0, port1 int // host 0's (bound to its address) and host 1's (not bound)
		}{
			{"grape API (-b)", apiPort, apiPort},
			{"worker (--bind)", workerPort, workerPort + 1},
		} {
			p0, p1 := ":"+strconv.Itoa(c.port0), ":"+strconv.Itoa(c.port1)
			if !l.reachable(0, l.addr(0)+p0) || !l.reachable(2, l.addr(0)+p0) {
				t.Errorf("%s bound to %s: not reachable on %s from hosts 0 and 2", c.what, l.addr(0), l.addr(0)+p0)
			}
			if l.reachable(0, "127.0.0.1"+p0) {
				t.Errorf("%s bound to %s: also answers on 127.0.0.1%s", c.what, l.addr(0), p0)
			}
			// The control: not bound, it listens on every address.
			if !l.reachable(1, "127.0.0.1"+p1) || !l.reachable(1, l.addr(1)+p1) {
				t.Errorf("host 1's %s, not bound: not reachable on both 127.0.0.1%s and %s%s", c.what, p1, l.addr(1), p1)
			}
		}
		// -b makes the grape store its own announcements under the bind
		// address; without it, only the other grapes hold them (under the
		// announcing grape's UDP source IP).
		w0, w1 := netip.MustParseAddrPort(l.workerAddr(0)), netip.MustParseAddrPort(l.workerAddr(1))
		for _, c := range []struct {
			host int
			peer netip.AddrPort
			want bool
			why  string
		}{
			{0, w0, true, "the -b grape's self-store of its own worker"},
			{1, w1, false, "a grape without -b stores no announcement of its own"},
			{1, w0, true, "the other grape stores the worker under the announcer's UDP source IP"},
		} {
			got, err := l.storeHolds(c.host, service, c.peer)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("host %d's peer store holds %v: %v, want %v (%s)", c.host, c.peer, got, c.want, c.why)
			}
		}
	})

	t.Run("client call from every host", func(t *testing.T) {
		for i := range l.hosts {
			payload := fmt.Sprintf(`{"job":"echo","from":"host %d"}`, i)
			l.expectCall(t, i, clientBin, payload, 1)
			// --map sends to every worker: both are reachable from here.
			l.expectCall(t, i, clientBin, payload, 2, "--map")
		}
	})

	// A worker on host 2 announcing through host 0's grape (started here:
	// the lab's helpers fail the parent test).
	const elsewhere = "netns_elsewhere"
	l.run(2, workerBin, "--service", elsewhere, "--port", strconv.Itoa(workerPort+2),
		"--grape", l.apiURL(0), "--announce-interval", announceInterval, "--log-level", "warn")
	elsewhereLogs := l.logs[len(l.logs)-1]
	t.Run("a worker announcing through another host's grape", func(t *testing.T) {
		// The grape stores what it announces under its own IP, so the
		// worker is found on host 0, where nothing listens; it warns at
		// start.
		name, logs := elsewhere, elsewhereLogs
		wrong := []string{l.addr(0) + ":" + strconv.Itoa(workerPort+2)}
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := l.lookup(1, name)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Equal(got, wrong) && strings.Contains(logs.String(), "names a grape on another host") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("lookup on host 1: %v, want %v; worker log: %s", got, wrong, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	t.Run("a host dies", func(t *testing.T) {
		killed := time.Now()
		for _, p := range []*exec.Cmd{victimGrape, workers[1]} {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
		// The survivors' clients still get answers while the dead worker
		// is still announced: a refused connection is retried on the
		// other worker. The Node host's client lists a Go grape after its
		// own: its Node grape now takes longer than a lookup's 2.5 s
		// (link.Config.RequestTimeout) to answer, and the link fails over.
		failover := []string{"--grape", l.apiURL(2) + "," + l.apiURL(0)}
		for _, i := range []int{0, 2} {
			var args []string
			if i == 2 {
				args = failover
			}
			start := time.Now()
			l.expectCall(t, i, clientBin, fmt.Sprintf(`{"job":"echo","after_kill_on":%d}`, i), 1, args...)
			t.Logf("host %d: call right after the kill answered in %v", i, time.Since(start).Round(time.Millisecond))
		}
		// The dead worker then expires on every surviving grape. Worst
		// case (grenache-protocol.md §2.6): 4M/3 in a store after its last
		// announce, then up to 2M/3 in a grape's seen-peers memory. A Go
		// grape's walk reads the Node grape's store too, so the Node
		// grape's M bounds both: 2M = 18 s. The deadline adds 10 s for the
		// Node grape's walks, which each wait out the dead grape's 2 s
		// query timeout.
		bound := 2 * nodePeerMaxAge
		for _, i := range []int{0, 2} {
			l.waitLookup(t, i, []string{l.workerAddr(0)}, bound+10*time.Second-time.Since(killed))
			t.Logf("host %d: dead worker gone from lookups %v after the kill (worst case %v)",
				i, time.Since(killed).Round(time.Millisecond), bound)
		}
		for _, i := range []int{0, 2} {
			var args []string
			if i == 2 {
				args = failover
			}
			l.expectCall(t, i, clientBin, `{"job":"echo","after_expiry":true}`, 1, append(args, "--map")...)
		}
	})
}

// waitLookup polls host i's grape until a lookup of the service returns
// exactly want. An address that is no worker's fails at once: that is a
// wrong announced or stored address.
func (l *lab) waitLookup(t *testing.T, i int, want []string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	workers := map[string]bool{l.workerAddr(0): true, l.workerAddr(1): true}
	var got []string
	for {
		var err error
		got, err = l.lookup(i, service)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range got {
			if !workers[a] {
				t.Fatalf("lookup on host %d returned %v: %s is no worker's address (workers: %v)", i, got, a, []string{l.workerAddr(0), l.workerAddr(1)})
			}
		}
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup on host %d: %v after %v, want %v", i, got, timeout, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// expectCall runs `client call` on host i and checks the echo: the payload
// itself, or with --map an array of n copies of it.
func (l *lab) expectCall(t *testing.T, i int, bin, payload string, n int, args ...string) {
	t.Helper()
	out, err := l.clientCall(i, bin, service, payload, args...)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(payload), &want)
	if slices.Contains(args, "--map") {
		var list []any
		for k := 0; k < n; k++ {
			list = append(list, want)
		}
		want = list
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("client call %v on host %d: got %s, want %v", args, i, out, want)
	}
}
