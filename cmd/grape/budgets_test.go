package main

import (
	"strings"
	"testing"
)

// The memory budgets have documented defaults, take a flag or a variable,
// and a value out of range is refused naming both and the allowed range.
func TestMemoryBudgetSettings(t *testing.T) {
	t.Chdir(t.TempDir())
	base := []string{"--dp", "1", "--aph", "2"}
	cfg, _, err := load(base, envOf(nil), nil)
	if err != nil || cfg.LookupCacheBytes != 4<<20 || cfg.SeenPeersBytes != 8<<20 {
		t.Fatalf("defaults: %d %d %v", cfg.LookupCacheBytes, cfg.SeenPeersBytes, err)
	}
	cfg, _, err = load(append(base, "--lookup_cache_bytes", "1048576"), envOf(map[string]string{"GRAPE_SEEN_PEERS_BYTES": "2097152"}), nil)
	if err != nil || cfg.LookupCacheBytes != 1<<20 || cfg.SeenPeersBytes != 2<<20 {
		t.Fatalf("set: %d %d %v", cfg.LookupCacheBytes, cfg.SeenPeersBytes, err)
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want []string
	}{
		{[]string{"--lookup_cache_bytes", "100"}, nil, []string{"--lookup_cache_bytes", "GRAPE_LOOKUP_CACHE_BYTES", "65536"}},
		{nil, map[string]string{"GRAPE_SEEN_PEERS_BYTES": "lots"}, []string{"--seen_peers_bytes", "GRAPE_SEEN_PEERS_BYTES"}},
	} {
		_, _, err := load(append(append([]string{}, base...), c.args...), envOf(c.env), nil)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%v %v: error %v lacks %q", c.args, c.env, err, w)
			}
		}
	}
}
