package netns

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// The measurement: three hosts, host 0 a Go grape, host 1 a Node
// grape, host 2 the victim (a Go grape); every grape bootstraps at the two
// others and keeps the default 2 s query timeout. After the victim dies,
// each survivor looks up a name nobody announced (twice: the second walk
// already knows the victim is dead).
//
//   - process killed, host up: its kernel answers ICMP port unreachable,
//     so the Go survivor does not wait (was 4.0 s; Node: 2.2 s);
//   - host gone (its link down, no ICMP): the Go survivor waits the
//     victim's timeout once, as the Node survivor does (was 4.0 s).
const queryTimeout = 2 * time.Second

// The Node survivor's lookups take 2.5-5 s each, so they are timed only
// with NETNS_NODE=1 (docs/benchmarks.md); the Node grape always runs.
func TestDeadGrapeAcrossHosts(t *testing.T) {
	requireLab(t)
	withNode := os.Getenv("NETNS_NODE") == "1"
	bin := buildGrape(t)
	for _, hostGone := range []bool{false, true} {
		name := "process killed, host up"
		if hostGone {
			name = "host gone"
		}
		t.Run(name, func(t *testing.T) {
			l := newLab(t, 3)
			l.start(0, bin)
			l.start(1, "")
			victim := l.start(2, bin)
			l.waitConnected()
			if hostGone {
				l.ip("-n", l.hosts[2], "link", "set", "eth0", "down")
			}
			_ = victim.Process.Kill()
			_ = victim.Wait()
			for round := 0; round < 2; round++ {
				goD := l.timeLookup(0, "nobody_go_"+strconv.Itoa(round))
				nodeD := time.Duration(-1)
				if withNode {
					nodeD = l.timeLookup(1, "nobody_node_"+strconv.Itoa(round))
				}
				if withNode {
					t.Logf("lookup %d after the kill: Go survivor %v, Node survivor %v", round, goD.Round(time.Millisecond), nodeD.Round(time.Millisecond))
				} else {
					t.Logf("lookup %d after the kill: Go survivor %v", round, goD.Round(time.Millisecond))
				}
				switch {
				case !hostGone && goD > queryTimeout/4:
					// Expected: a few ms (curl's start included).
					t.Errorf("Go survivor took %v with the victim's port answering ICMP, want under %v", goD, queryTimeout/4)
				case hostGone && goD > queryTimeout*3/2:
					// One timeout (2 s) plus slack; the old walk waited two.
					t.Errorf("Go survivor took %v with the victim's host gone, want one query timeout (%v), under %v", goD, queryTimeout, queryTimeout*3/2)
				case withNode && goD > nodeD+queryTimeout/4:
					t.Errorf("Go survivor %v slower than the Node survivor %v", goD, nodeD)
				}
			}
		})
	}
}
