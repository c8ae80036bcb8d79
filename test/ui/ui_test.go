// Package ui tests both live views in a real browser: headless Chromium
// loads the grape's /ui and the client's handler while a small cluster
// runs a fault, and the test reads the rendered DOM.
package ui

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	clientui "github.com/grenache-go/grenache/client/ui"
	"github.com/grenache-go/grenache/internal/lab"
	"github.com/grenache-go/grenache/pkg/link"
)

const service = "rest:ui:test"

type peerRow struct {
	Peer     string `json:"peer"`
	State    string `json:"state"`
	Share    string `json:"share"`
	Timeline string `json:"timeline"`
}

// TestLiveViewsInBrowser: three healthy workers under load, then one of
// them failing every request; the client page must first show the three
// peers sharing the traffic, then the failing one's breaker OPEN (now or in
// its timeline) and its share of the last 5 s under 10%; the grape page its node id, buckets with nodes and the
// stored name. UI_SCREENSHOTS=dir writes both pages as PNGs (the README's).
func TestLiveViewsInBrowser(t *testing.T) {
	b := startBrowser(t)
	gs, err := lab.StartGrapes(3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer gs.Close()
	urls := gs.URLs()
	ws, err := lab.StartWorkers(urls[:1], service, 3, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	if err := ws.WaitVisible(ctx, urls[2]); err != nil {
		t.Fatal(err)
	}
	lc := link.DefaultConfig()
	lc.Grapes = []string{urls[2]}
	lk, err := link.New(lc)
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Close()
	rec := clientui.NewRecorder()
	cfg := client.DefaultConfig()
	cfg.Hooks = rec.Hooks(cfg.Hooks)
	c, err := client.New(lk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptest.NewServer(nil)
	done := make(chan struct{})
	srv.Config.Handler = clientui.Handler(c, clientui.Options{Recorder: rec, Done: done})
	defer srv.Close()
	defer close(done) // before srv.Close: it waits for the streams

	failing := ws.Addr(1)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stopLoad()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for loadCtx.Err() == nil {
				_, _ = c.Request(loadCtx, service, map[string]int{"n": 1})
				time.Sleep(2 * time.Millisecond)
			}
		}()
	}

	clientTab, err := b.open(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	var rows []peerRow
	read := func() bool {
		rows = nil
		if err := b.eval(clientTab, `Array.from(document.querySelectorAll("tr[data-peer]")).map(r => ({
			peer: r.dataset.peer, state: r.dataset.state, share: r.dataset.share,
			timeline: r.querySelector(".tl").textContent}))`, &rows); err != nil {
			t.Logf("eval: %v", err)
			return false
		}
		return len(rows) == 3
	}
	// Healthy first: the page shows the three peers sharing the traffic
	// (a third each; 15% leaves room for the balancer's preferences).
	ok := poll(ctx, func() bool {
		if !read() {
			return false
		}
		for _, r := range rows {
			if r.State != "CLOSED" || parseShare(r.Share) < 0.15 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("client page never showed 3 closed peers with >= 15%% of the traffic each; last rows %+v", rows)
	}
	t.Logf("client page, healthy: %+v", rows)
	if err := ws.SetFaults(1, lab.Failing(lab.BaseService, 1)); err != nil {
		t.Fatal(err)
	}
	// Then the shift: the failing peer's breaker opens and its share of the
	// last 5 s falls under 10% (about 4 s after the fault).
	ok = poll(ctx, func() bool {
		if !read() {
			return false
		}
		for _, r := range rows {
			if r.Peer == failing {
				return (r.State == "OPEN" || strings.Contains(r.Timeline, "OPEN")) && r.Share != "" && parseShare(r.Share) < 0.10
			}
		}
		return false
	})
	if !ok {
		t.Fatalf("client page never showed 3 peers with %s OPEN and under 10%% of the traffic; last rows %+v", failing, rows)
	}
	for _, r := range rows {
		if r.Peer != failing && parseShare(r.Share) < 0.25 {
			t.Errorf("healthy peer %s has %.2f of the traffic, want the failing one's share moved to it (>= 0.25)", r.Peer, parseShare(r.Share))
		}
	}
	t.Logf("client page, %s failing: %+v", failing, rows)

	// The name is stored on the grapes closest to its key: any of the three.
	var tabs []string
	for _, u := range urls {
		tab, err := b.open(u + "/ui")
		if err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tab)
	}
	type grapeView struct {
		ID      string   `json:"id"`
		Buckets []string `json:"buckets"`
		Names   []string `json:"names"`
	}
	var g []grapeView
	grapeTab := ""
	hexID := regexp.MustCompile(`^[0-9a-f]{40}$`)
	ok = poll(ctx, func() bool {
		g, grapeTab = nil, ""
		for _, tab := range tabs {
			var v grapeView
			if err := b.eval(tab, `({id: document.getElementById("node-id").textContent,
				buckets: Array.from(document.querySelectorAll("tr[data-bucket]")).map(r => r.dataset.nodes),
				names: Array.from(document.querySelectorAll("tr[data-name]")).map(r => r.dataset.name)})`, &v); err != nil {
				t.Logf("eval: %v", err)
				return false
			}
			if !hexID.MatchString(v.ID) || len(v.Buckets) == 0 || v.Buckets[0] == "0" {
				return false
			}
			if contains(v.Names, service) {
				grapeTab = tab
			}
			g = append(g, v)
		}
		return grapeTab != ""
	})
	if !ok {
		t.Fatalf("grape pages never showed node ids, buckets with nodes and %q on one of them: %+v", service, g)
	}
	t.Logf("grape page: %+v", g)
	if dir := os.Getenv("UI_SCREENSHOTS"); dir != "" {
		for name, tab := range map[string]string{"client-ui.png": clientTab, "grape-ui.png": grapeTab} {
			if err := b.screenshot(tab, filepath.Join(dir, name)); err != nil {
				t.Error(err)
			}
		}
	}
}

// parseShare reads a data-share attribute; unparsable (or -1, no
// recorder) reads as 1, which fails every "under" check.
func parseShare(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 1
	}
	return f
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// poll checks cond every 500 ms until it holds or ctx ends.
func poll(ctx context.Context, cond func() bool) bool {
	for {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(500 * time.Millisecond):
		}
	}
}
