package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	clientui "github.com/grenache-go/grenache/client/ui"
)

// `client run --ui` serves the page and an event stream with the run's
// peers and, with --gossip, the gossip counters.
func TestRunServesLiveView(t *testing.T) {
	url := cluster(t, 2)
	vars := map[string]string{"GOSSIP_PUBLISH_INTERVAL": "200", "GOSSIP_LISTEN": "127.0.0.1:0"}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() { // another gossiping client, so hints arrive
		defer wg.Done()
		if code, _, errs := runClient(t, vars, "run", "--grape", url, "--service", "svc", "--duration", "3s", "--rate", "50", "--gossip"); code != 0 {
			t.Errorf("other run: code %d, %s", code, errs)
		}
	}()
	var out, errb lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(context.Background(), []string{"run", "--grape", url, "--service", "svc", "--duration", "3s", "--rate", "50",
			"--gossip", "--ui", "127.0.0.1:0"}, env(vars), &out, &errb)
	}()
	re := regexp.MustCompile(`live view on (http://[0-9.:]+/)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := re.FindStringSubmatch(errb.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		t.Fatalf("no live-view address in stderr %q", errb.String())
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(string(page), "EventSource") {
		t.Fatalf("page: %s, %d bytes", ct, len(page))
	}
	time.Sleep(1500 * time.Millisecond) // traffic and gossip under way
	resp, err = http.Get(base + "events")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	var v clientui.View
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(line), &v); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	resp.Body.Close()
	if len(v.Services) != 1 || v.Services[0].Name != "svc" || len(v.Services[0].Peers) != 2 {
		t.Fatalf("view %+v, want svc with 2 peers", v)
	}
	var share float64
	for _, p := range v.Services[0].Peers {
		share += p.Share
	}
	if share < 0.99 || share > 1.01 {
		t.Errorf("shares sum to %.3f, want 1", share)
	}
	if v.Gossip == nil || v.Gossip.Received == 0 {
		t.Errorf("gossip %+v, want hints received", v.Gossip)
	}
	if code := <-done; code != 0 {
		t.Fatalf("run: code %d, %s", code, errb.String())
	}
}

func TestUIAddrInvalidExit2(t *testing.T) {
	url := cluster(t, 1)
	code, _, errs := runClient(t, nil, "run", "--grape", url, "--service", "svc", "--duration", "1s", "--rate", "5",
		"--ui", "127.0.0.1:notaport")
	if code != exitSettings || !strings.Contains(errs, "CLIENT_UI_ADDR") || !strings.Contains(errs, "--ui") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}
