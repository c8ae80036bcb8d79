package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The store budgets reach the grape config from flags and variables, and
// a budget below its floor names the flag, the variable and the range.
func TestStoreBudgetSettings(t *testing.T) {
	t.Chdir(t.TempDir())
	cfg, _, err := load([]string{"--dp", "1", "--aph", "2", "--dht_maxPeers", "50", "--dht_maxPeerBytes", "2000000"},
		envOf(map[string]string{"GRAPE_MAX_VALUE_BYTES": "3000000", "GRAPE_MAX_TABLE_BYTES": "4000000"}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxPeers != 50 || cfg.MaxPeerBytes != 2000000 || cfg.MaxValueBytes != 3000000 || cfg.MaxTableBytes != 4000000 {
		t.Fatalf("budgets not applied: %d %d %d %d", cfg.MaxPeers, cfg.MaxPeerBytes, cfg.MaxValueBytes, cfg.MaxTableBytes)
	}
	cfg, _, err = load([]string{"--dp", "1", "--aph", "2"}, envOf(nil), &bytes.Buffer{})
	if err != nil || cfg.MaxPeers != 10000 || cfg.MaxPeerBytes != 32<<20 || cfg.MaxValueBytes != 8<<20 || cfg.MaxTableBytes != 16<<20 {
		t.Fatalf("defaults: %v %d %d %d %d", err, cfg.MaxPeers, cfg.MaxPeerBytes, cfg.MaxValueBytes, cfg.MaxTableBytes)
	}
	for _, c := range []struct{ flag, env, val string }{
		{"--dht_maxPeers", "GRAPE_MAX_PEERS", "0"},
		{"--dht_maxPeerBytes", "GRAPE_MAX_PEER_BYTES", "1000"},
		{"--dht_maxValueBytes", "GRAPE_MAX_VALUE_BYTES", "1000"},
		{"--dht_maxTableBytes", "GRAPE_MAX_TABLE_BYTES", "1000"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--dp", "1", "--aph", "2", c.flag, c.val}, envOf(nil), &out, &errb); code != 2 {
			t.Errorf("%s %s: exit %d, want 2", c.flag, c.val, code)
		}
		for _, w := range []string{c.flag, c.env, ">= "} {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("%s: stderr %q lacks %q", c.flag, errb.String(), w)
			}
		}
	}
}
