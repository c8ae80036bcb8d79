package interop

import (
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/test/nodeproc"
)

// member is one grape of a test cluster, Node or Go, seen through its API.
type member struct {
	api  *grapeAPI
	dht  string         // DHT address as a bootstrap entry, "127.0.0.1:<udp>"
	proc *nodeproc.Proc // the Node process; nil for Go grapes
}

// startNode starts a Node grape on dhtPort (0 = pick one) joined through
// bootstrap (empty = itself).
func startNode(t testing.TB, label string, dhtPort int, bootstrap []string, extra ...string) member {
	t.Helper()
	if dhtPort == 0 {
		dhtPort = nodeproc.FreeUDPPort(t)
	}
	// DEBUG logs every KRPC query the grape receives: if a lookup stalls,
	// diagnoseStall can tell which nodes it knew.
	p := nodeproc.StartGrapeEnv(t, []string{"DEBUG=bittorrent-dht"}, dhtPort, nodeproc.FreeTCPPort(t), bootstrap, extra...)
	return member{api: newGrapeAPI(t, label, "node", p.APIURL()), dht: p.DHTAddr(), proc: p}
}

// dhtAddrs lists the members' DHT addresses, for bootstrap lists.
func dhtAddrs(ms ...member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.dht
	}
	return out
}

// waitConnected announces a probe name through every member and waits
// until every other member's /lookup returns it: the cluster is then
// connected in every direction. Lookup timings from this warm-up are
// discarded.
func waitConnected(t testing.TB, ms ...member) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for i, from := range ms {
		probe := "__connected_" + strconv.Itoa(i) + "__"
		want := "127.0.0.1:" + strconv.Itoa(40000+i)
		for {
			// An announce can fail with "No nodes to query" while the
			// routing table is still filling; that is what we wait out.
			_, _ = from.api.call(t, "announce", []any{probe, 40000 + i})
			missing := ""
			for j, to := range ms {
				if j != i && !slices.Contains(to.api.lookup(t, probe), want) {
					missing = to.api.label
					break
				}
			}
			if missing == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not connected after 15 s: %s cannot see what %s announced", missing, from.api.label)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, m := range ms {
		m.api.resetLookupTimes()
	}
}

// assertNodeLookupsFast checks the Node members' /lookup latencies: none
// may be a stall (>= stallLookup) and the median must stay under
// maxNodeLookup. Go members are only logged.
func assertNodeLookupsFast(t testing.TB, ms ...member) {
	t.Helper()
	for _, m := range ms {
		times := m.api.lookupTimes()
		if len(times) == 0 {
			continue
		}
		slices.Sort(times)
		med, worst := times[len(times)/2], times[len(times)-1]
		over := len(times) - sort.Search(len(times), func(i int) bool { return times[i] >= maxNodeLookup })
		t.Logf("%s (%s): %d lookups, median %v, worst %v, %d >= %v",
			m.api.label, m.api.kind, len(times), med.Round(time.Microsecond), worst.Round(time.Microsecond), over, maxNodeLookup)
		if m.api.kind != "node" {
			continue
		}
		if stalls := stalledNodeLookups(m); len(stalls) > 0 {
			t.Errorf("%s: %d of %d lookups stalled (>= %v, worst %v): a Node walk waited out its KRPC timeout for a reply that never came",
				m.api.label, len(stalls), len(times), stallLookup, worst)
			diagnoseStall(t, ms)
		}
		if med >= maxNodeLookup {
			t.Errorf("%s: median lookup %v, want < %v", m.api.label, med, maxNodeLookup)
		}
	}
}

// stalledNodeLookups returns the lookups on a Node member that took
// stallLookup or more (none for Go members).
func stalledNodeLookups(m member) []time.Duration {
	if m.api.kind != "node" {
		return nil
	}
	var slow []time.Duration
	for _, d := range m.api.lookupTimes() {
		if d >= stallLookup {
			slow = append(slow, d)
		}
	}
	return slow
}

// queryFrom matches bittorrent-dht's DEBUG line for a received query.
var queryFrom = regexp.MustCompile(`received (\w+) query from ([0-9.]+:[0-9]+)`)

// foreignQueriers counts the queries a Node member received from DHT
// addresses not in known (from its DEBUG output).
func foreignQueriers(m member, known map[string]bool) map[string]int {
	foreign := map[string]int{}
	for _, line := range strings.Split(m.proc.Output(), "\n") {
		if sub := queryFrom.FindStringSubmatch(line); sub != nil && !known[sub[2]] {
			foreign[sub[2]]++
		}
	}
	return foreign
}

// diagnoseStall logs what can explain a stall: queries the Node grapes
// received from DHT nodes outside this cluster (another test's node on a
// reused port, which may since have died and left a dead entry in the
// routing table), and each Go grape's /status counters.
func diagnoseStall(t testing.TB, ms []member) {
	t.Helper()
	known := map[string]bool{}
	for _, m := range ms {
		known[m.dht] = true
	}
	for _, m := range ms {
		if m.proc != nil {
			t.Logf("diagnose %s: queries from DHT nodes outside this cluster: %v", m.api.label, foreignQueriers(m, known))
			continue
		}
		resp, err := m.api.c.Get(m.api.url + "/status")
		if err != nil {
			t.Logf("diagnose %s: /status: %v", m.api.label, err)
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		t.Logf("diagnose %s: /status %s", m.api.label, b)
	}
}
