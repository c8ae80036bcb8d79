package interop

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// nameSizes are the service-name lengths (UTF-8 bytes) every direction is
// checked with: 1 byte, under, at and far over the 20-byte node-id length,
// since the DHT key is the raw name and XOR distance must cope with keys
// of unequal length (grenache-protocol.md §2.3, §3.6).
var nameSizes = []int{1, 8, 20, 200}

// side is the grapes of one implementation in a mixed cluster.
type side struct {
	name string
	ms   []member
}

// runGrapeMatrix checks announce→lookup and put→get from every grape of a
// to every grape of b and back, for every name size, then that lookups of
// an unknown name work everywhere, and finally that no Node lookup stalled.
// The cluster must already be connected (waitConnected).
func runGrapeMatrix(t *testing.T, a, b side) {
	all := append(slices.Clone(a.ms), b.ms...)
	for dir, pair := range [][2]side{{a, b}, {b, a}} {
		from, to := pair[0], pair[1]
		for si, size := range nameSizes {
			t.Run(fmt.Sprintf("announce_on_%s_lookup_on_%s/%dB", from.name, to.name, size), func(t *testing.T) {
				for mi, m := range from.ms {
					// A distinct first byte per direction and announcer keeps
					// even the 1-byte names apart.
					name := serviceName(byte('a'+dir*13+mi), size)
					port := 10000 + dir*1000 + mi*100 + si
					// In a cluster this small every other grape is among the
					// K closest, so all of them must ack announce_peer; the
					// second announce reuses the tokens cached by the first
					// (Node skips get_peers then), so it checks that a
					// token issued by the other implementation is accepted.
					// A Go walk may skip a grape that answers far slower than
					// the others (a busy machine), so a short count gets two
					// more tries; a refused token fails every time.
					for _, round := range []string{"announce", "re-announce with cached tokens"} {
						acked := announceAcked(t, m, name, port, len(all)-1)
						if acked != len(all)-1 {
							t.Errorf("%s %s %q acked by %d grapes in 3 tries, want %d (every other grape)", m.api.label, round, short(name), acked, len(all)-1)
						}
					}
					want := []string{"127.0.0.1:" + strconv.Itoa(port)}
					for _, o := range to.ms {
						if got := o.api.lookup(t, name); !slices.Equal(got, want) {
							t.Errorf("announced %q:%d on %s; lookup on %s right after = %q, want %q",
								short(name), port, m.api.label, o.api.label, got, want)
						}
					}
				}
			})
		}
		t.Run(fmt.Sprintf("put_on_%s_get_on_%s", from.name, to.name), func(t *testing.T) {
			for _, m := range from.ms {
				v := fmt.Sprintf("value put on %s for %s", m.api.label, to.name)
				target := m.api.put(t, v)
				for _, o := range to.ms {
					r, ok := o.api.get(t, target)
					if !ok || r.V != v {
						t.Errorf("put %q on %s; get %s on %s = %+v (found %v)", v, m.api.label, target, o.api.label, r, ok)
					}
				}
			}
		})
	}
	t.Run("lookup_unknown_everywhere", func(t *testing.T) {
		// A miss walks the whole cluster, so it touches every node: the
		// cleanest probe for an unanswered KRPC query.
		for i := range 5 {
			for _, m := range all {
				if got := m.api.lookup(t, "never-announced-"+strconv.Itoa(i)); len(got) != 0 {
					t.Errorf("%s lookup of an unknown name = %q, want []", m.api.label, got)
				}
			}
		}
	})
	assertNodeLookupsFast(t, all...)
}

// TestNodeOnlyClusterMatrix is the control: the same matrix on two Node
// grapes. If it fails, the test's expectations are wrong, not our grape.
func TestNodeOnlyClusterMatrix(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	n2 := startNode(t, "node2", 0, []string{n1.dht})
	waitConnected(t, n1, n2)
	runGrapeMatrix(t, side{"node1", []member{n1}}, side{"node2", []member{n2}})
}

// announceAcked announces up to 3 times until want grapes ack, and returns
// the best count seen (shortfalls are logged).
func announceAcked(t *testing.T, m member, name string, port, want int) int {
	t.Helper()
	best := 0
	for try := 1; try <= 3; try++ {
		n := m.api.announce(t, name, port)
		best = max(best, n)
		if n == want {
			return n
		}
		t.Logf("%s announce %q try %d acked by %d of %d", m.api.label, short(name), try, n, want)
	}
	return best
}
