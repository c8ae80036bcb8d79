package grape_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
)

type uiEvent struct {
	ID      string `json:"id"`
	Buckets []struct {
		Nodes []struct {
			Addr string `json:"addr"`
		} `json:"nodes"`
	} `json:"buckets"`
	Names []struct {
		Name  string `json:"name"`
		Peers []struct {
			Addr      string  `json:"addr"`
			ExpiresIn float64 `json:"expires_in_s"`
		} `json:"peers"`
	} `json:"names"`
	NamesTotal int `json:"names_total"`
}

// firstEvent opens /ui/events and decodes its first event.
func firstEvent(t *testing.T, url string) uiEvent {
	t.Helper()
	resp, err := http.Get(url + "/ui/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 4<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var v uiEvent
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no event: %v", sc.Err())
	return uiEvent{}
}

// /ui is one self-contained page; /ui/events streams the node id, the
// buckets and the stored names (a hostile-looking name arrives as data);
// at most 8 streams; a stream ends when the grape stops, so the drain does
// not wait for it.
func TestUIPageAndEvents(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	resp, err := http.Get(gs[0].APIURL() + "/ui")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("GET /ui: %d %q, CSP %q", resp.StatusCode, ct, resp.Header.Get("Content-Security-Policy"))
	}
	if regexp.MustCompile(`(src|href)="?https?:`).Match(page) || strings.Contains(string(page), "innerHTML") {
		t.Fatal("the page loads something from the network or parses data as HTML")
	}

	name := `rest:<img src=x onerror=alert(1)>`
	if _, err := grapetest.Call(gs[0].APIURL(), "announce", fmt.Sprintf(`[%q,%d]`, name, 4321)); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, g := range gs {
		v := firstEvent(t, g.APIURL())
		if !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(v.ID) || len(v.Buckets) == 0 || len(v.Buckets[0].Nodes) == 0 {
			t.Fatalf("%s: event %+v lacks the node id or a bucket with a node", g.APIURL(), v)
		}
		for _, n := range v.Names {
			if n.Name == name && len(n.Peers) == 1 && strings.HasSuffix(n.Peers[0].Addr, ":4321") && n.Peers[0].ExpiresIn > 0 {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("no grape's events list %q with its peer and expiry", name)
	}

	// Eight streams fit; the ninth is refused.
	var open []*http.Response
	for range 8 {
		r, err := http.Get(gs[1].APIURL() + "/ui/events")
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("stream: %v %v", r, err)
		}
		open = append(open, r)
	}
	r, err := http.Get(gs[1].APIURL() + "/ui/events")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ninth stream: status %d, want 503", r.StatusCode)
	}
	start := time.Now()
	if err := gs[1].Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with live views open: the drain waited for their streams", d)
	}
	for _, r := range open {
		_, _ = io.Copy(io.Discard, r.Body) // ends: the grape closed the streams
		r.Body.Close()
	}
}
