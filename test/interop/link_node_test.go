package interop

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/grenache-go/grenache/test/nodeproc"
)

// linkStep is one line printed by node/link/link_ops.js.
type linkStep struct {
	Op  string          `json:"op"`
	Ms  int             `json:"ms"`
	Err *string         `json:"err"`
	Res json.RawMessage `json:"res"`
}

// runNodeLink runs grenache-nodejs-link (link_ops.js) with announce/put
// through a and lookup/get through b, and checks every operation.
func runNodeLink(t *testing.T, a, b member) {
	t.Helper()
	const name, port = "node-link-svc", 47000
	p := nodeproc.Start(t, "link/link_ops.js", a.api.url, b.api.url, name, strconv.Itoa(port))
	steps := map[string]linkStep{}
	for {
		line, err := p.WaitLine(`{"op":`, 20*time.Second)
		if err != nil {
			t.Fatalf("link_ops.js: %v (steps so far: %v)", err, slices.Sorted(maps.Keys(steps)))
		}
		var s linkStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("link_ops.js printed %q: %v", line, err)
		}
		if s.Op == "done" {
			break
		}
		steps[s.Op] = s
	}
	if code, err := p.Wait(5 * time.Second); err != nil || code != 0 {
		t.Fatalf("link_ops.js exit %d, %v", code, err)
	}
	ok := func(op string) linkStep {
		s, found := steps[op]
		if !found {
			t.Fatalf("link_ops.js did not report %s", op)
		}
		if s.Err != nil {
			t.Errorf("link %s failed: %s", op, *s.Err)
		}
		// A Node link gives up after 2.5 s; anything close means a stall.
		if s.Ms > 1000 {
			t.Errorf("link %s took %d ms", op, s.Ms)
		}
		return s
	}
	var n int
	if s := ok("announce"); json.Unmarshal(s.Res, &n) != nil || n < 1 {
		t.Errorf("link announce result %s, want a count >= 1", s.Res)
	}
	var peers []string
	if s := ok("lookup"); json.Unmarshal(s.Res, &peers) != nil || !slices.Equal(peers, []string{"127.0.0.1:" + strconv.Itoa(port)}) {
		t.Errorf("link lookup result %s", s.Res)
	}
	v := "value from node link " + name
	var hash string
	if s := ok("put"); json.Unmarshal(s.Res, &hash) != nil || hash != immutableTarget(v) {
		t.Errorf("link put result %s, want %q", s.Res, immutableTarget(v))
	}
	var got getResult
	if s := ok("get"); json.Unmarshal(s.Res, &got) != nil || got.V != v || len(got.ID) != 40 {
		t.Errorf("link get result %s, want v %q", s.Res, v)
	}
	if s := steps["lookup_unknown"]; s.Err == nil || *s.Err != "ERR_GRAPE_LOOKUP_EMPTY" {
		t.Errorf("link lookup of an unknown name: err %v res %s, want ERR_GRAPE_LOOKUP_EMPTY", s.Err, s.Res)
	}
	// Not found is an empty 200 body, which the link hands back as "".
	if s := ok("get_unknown"); string(s.Res) != `""` {
		t.Errorf("link get of an unknown hash = %s, want \"\"", s.Res)
	}
	if s := ok("start_announcing_lookup"); json.Unmarshal(s.Res, &peers) != nil || !slices.Equal(peers, []string{"127.0.0.1:" + strconv.Itoa(port+1)}) {
		t.Errorf("lookup after startAnnouncing = %s", s.Res)
	}
}

// TestNodeLinkThroughNodeGrapes is the control for TestNodeLinkThroughGoGrapes.
func TestNodeLinkThroughNodeGrapes(t *testing.T) {
	t.Parallel()
	n1 := startNode(t, "node1", 0, nil)
	n2 := startNode(t, "node2", 0, []string{n1.dht})
	waitConnected(t, n1, n2)
	runNodeLink(t, n1, n2)
}
