package ui

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/client"
)

type fixedPeers []string

func (f fixedPeers) Lookup(context.Context, string) ([]string, error) { return f, nil }

// The handler serves one page that loads nothing from the network and
// never parses data as HTML, and a stream whose events carry the peers
// (a hostile-looking service name arrives as plain data); other paths
// are 404, other methods 405; closing Done ends a stream.
func TestHandlerPageAndEvents(t *testing.T) {
	c, err := client.New(fixedPeers{"127.0.0.1:1", "127.0.0.1:2"}, client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	name := `<img src=x onerror=alert(1)>`
	if err := c.Refresh(context.Background(), name); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	srv := httptest.NewServer(Handler(c, Options{Recorder: NewRecorder(), Done: done}))
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page headers %v", resp.Header)
	}
	if regexp.MustCompile(`(src|href)="?https?:`).Match(page) || strings.Contains(string(page), "innerHTML") {
		t.Fatal("the page loads something from the network or parses data as HTML")
	}
	for path, want := range map[string]int{"/nope": 404, "/events/x": 404} {
		if r, err := http.Get(srv.URL + path); err != nil || r.StatusCode != want {
			t.Fatalf("GET %s: %v %v, want %d", path, r, err, want)
		} else {
			r.Body.Close()
		}
	}
	if r, err := http.Post(srv.URL+"/events", "text/plain", nil); err != nil || r.StatusCode != 405 {
		t.Fatalf("POST /events: %v %v, want 405", r, err)
	} else {
		r.Body.Close()
	}

	resp, err = http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var v View
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	if len(v.Services) != 1 || v.Services[0].Name != name || len(v.Services[0].Peers) != 2 || v.Services[0].Peers[0].State != "CLOSED" {
		t.Fatalf("event %+v", v)
	}
	close(done)
	_, _ = io.Copy(io.Discard, resp.Body) // returns: the stream ended
}
