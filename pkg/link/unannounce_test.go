package link

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// Unannounce asks every grape, not one (each may hold announcements made
// through it), sums what they removed, and succeeds when a grape without
// the extension refuses, as long as one grape accepted.
func TestUnannounceAsksEveryGrape(t *testing.T) {
	removes := func(n string) func(string, json.RawMessage) (int, string) {
		return func(endpoint string, data json.RawMessage) (int, string) {
			if endpoint != "unannounce" || string(data) != `["svc",1337]` {
				return 200, `"ERR_REQ_NOTFOUND"`
			}
			return 200, n
		}
	}
	a, b := newFakeGrape(t, removes("2")), newFakeGrape(t, removes("1"))
	// A Node 1.0.0 grape has no /unannounce: it answers 200
	// "ERR_REQ_NOTFOUND", as for any unknown path (grenache-protocol.md §1).
	node := newFakeGrape(t, func(string, json.RawMessage) (int, string) { return 200, `"ERR_REQ_NOTFOUND"` })
	l := newTestLink(t, a.URL, node.URL, b.URL)
	n, err := l.Unannounce(context.Background(), "svc", 1337)
	if err != nil || n != 3 {
		t.Fatalf("Unannounce = %d, %v; want 3 removed, no error", n, err)
	}
	for _, g := range []*fakeGrape{a, b, node} {
		if r := g.requests(); len(r) != 1 || r[0].Path != "/unannounce" {
			t.Fatalf("grape %s got %v, want one /unannounce", g.URL, r)
		}
	}

	only := newTestLink(t, node.URL)
	if _, err := only.Unannounce(context.Background(), "svc", 1337); err == nil || !strings.Contains(err.Error(), "ERR_REQ_NOTFOUND") {
		t.Fatalf("with no grape accepting, err = %v; want the grape's answer", err)
	}
}
