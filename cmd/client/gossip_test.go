package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Two `client run --gossip` processes-in-one against the same service find
// each other's hint publishers through the grape, exchange hints, and both
// report the counts in the text summary and the JSON report.
func TestRunWithGossipReportsCounts(t *testing.T) {
	url := cluster(t, 2)
	dir := t.TempDir()
	vars := map[string]string{
		"GOSSIP_PUBLISH_INTERVAL": "200",
		"GOSSIP_LISTEN":           "127.0.0.1:0",
	}
	type result struct {
		code      int
		out, errs string
	}
	res := make([]result, 2)
	var wg sync.WaitGroup
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			js := filepath.Join(dir, []string{"a.json", "b.json"}[i])
			code, out, errs := runClient(t, vars, "run", "--grape", url, "--service", "svc", "--duration", "2s",
				"--rate", "50", "--gossip", "--json", js)
			res[i] = result{code, out, errs}
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("run %d: code %d, stderr %q", i, r.code, r.errs)
		}
		if !strings.Contains(r.out, "gossip  published") {
			t.Fatalf("run %d: summary lacks the gossip line: %q", i, r.out)
		}
		b, err := os.ReadFile(filepath.Join(dir, []string{"a.json", "b.json"}[i]))
		if err != nil {
			t.Fatal(err)
		}
		var rep struct {
			Gossip *struct{ Published, Received, Applied, Rejected uint64 } `json:"gossip"`
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			t.Fatal(err)
		}
		g := rep.Gossip
		if g == nil || g.Published < 5 || g.Received < 1 || g.Applied < 1 || g.Rejected != 0 {
			t.Fatalf("run %d: gossip block %+v", i, g)
		}
	}
}

func TestRunWithoutGossipHasNoGossipBlock(t *testing.T) {
	url := cluster(t, 1)
	js := filepath.Join(t.TempDir(), "r.json")
	code, out, errs := runClient(t, nil, "run", "--grape", url, "--service", "svc", "--duration", "1s", "--rate", "20", "--json", js)
	if code != 0 {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
	b, _ := os.ReadFile(js)
	if strings.Contains(out, "gossip") || strings.Contains(string(b), `"gossip"`) {
		t.Fatalf("gossip reported without --gossip: %q", out)
	}
}

func TestGossipSettingsErrorsExit2(t *testing.T) {
	url := cluster(t, 1)
	code, _, errs := runClient(t, map[string]string{"GOSSIP_DECAY_FACTOR": "2"},
		"run", "--grape", url, "--service", "svc", "--duration", "1s", "--rate", "5", "--gossip")
	if code != 2 || !strings.Contains(errs, "GOSSIP_DECAY_FACTOR") {
		t.Fatalf("code %d, stderr %q", code, errs)
	}
}
