package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client/gossip"
)

// The GOSSIP_* defaults are gossip.DefaultConfig's, with gossip on.
func TestGossipDefaultsMatchLibrary(t *testing.T) {
	t.Chdir(t.TempDir()) // no .env
	got, err := loadGossip(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got.Origin == "" {
		t.Error("the origin must be a random UUID")
	}
	got.Origin = ""
	want := gossip.DefaultConfig()
	want.Enabled = true
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("binary defaults differ from the library's:\n got %+v\nwant %+v", got, want)
	}
}

// Every variable reaches its field; durations take a bare integer of
// milliseconds, as they always did, or a Go duration, like every other
// duration setting.
func TestGossipVariablesOverride(t *testing.T) {
	t.Chdir(t.TempDir())
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	trusted := func(b byte) string {
		s := make([]byte, ed25519.SeedSize)
		s[0] = b
		return hex.EncodeToString(ed25519.NewKeyFromSeed(s).Public().(ed25519.PublicKey))
	}
	c, err := loadGossip(env(map[string]string{
		"GOSSIP_CHANNEL":          "c",
		"GOSSIP_ORIGIN":           "me",
		"GOSSIP_LISTEN":           "127.0.0.1:0",
		"GOSSIP_PUBLISH_INTERVAL": "1000",
		"GOSSIP_HINT_TTL":         "20s",
		"GOSSIP_DECAY_FACTOR":     "0.25",
		"GOSSIP_PRIOR_WEIGHT":     "20",
		"GOSSIP_MAX_NUDGE":        "1.5",
		"GOSSIP_MIN_ORIGINS":      "3",
		"GOSSIP_MAX_ORIGINS":      "10",
		"GOSSIP_MAX_PEERS":        "100",
		"GOSSIP_MAX_BOOK_BYTES":   "65536",
		"GOSSIP_SIGNING_KEY":      hex.EncodeToString(seed),
		"GOSSIP_TRUSTED_KEYS":     trusted(1) + "," + trusted(2),
	}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.Channel != "c" || c.Origin != "me" || c.Listen != "127.0.0.1:0" || c.PublishInterval != time.Second ||
		c.HintTTL != 20*time.Second || c.DecayFactor != 0.25 || c.PriorWeight != 20 ||
		c.MaxNudge != 1.5 || c.MinOrigins != 3 || c.MaxOrigins != 10 || c.MaxPeers != 100 || c.MaxBookBytes != 65536 ||
		!c.SigningKey.Equal(ed25519.NewKeyFromSeed(seed)) || len(c.TrustedKeys) != 2 {
		t.Fatalf("variables not applied: %+v", c)
	}
}

// An invalid value names its variable and the allowed values, whether
// pkg/config's range tag or gossip.Config.Validate catches it.
func TestGossipErrorsNameTheVariable(t *testing.T) {
	t.Chdir(t.TempDir())
	cases := []struct {
		vars map[string]string
		want []string
	}{
		{map[string]string{"GOSSIP_PUBLISH_INTERVAL": "soon"}, []string{"GOSSIP_PUBLISH_INTERVAL", "allowed milliseconds as an integer, or a Go duration"}},
		{map[string]string{"GOSSIP_PUBLISH_INTERVAL": "50"}, []string{"GOSSIP_PUBLISH_INTERVAL", "100..600000 ms"}},
		{map[string]string{"GOSSIP_DECAY_FACTOR": "2"}, []string{"GOSSIP_DECAY_FACTOR", "0..1"}},
		{map[string]string{"GOSSIP_DECAY_FACTOR": "0"}, []string{"env GOSSIP_DECAY_FACTOR", "above 0"}},
		{map[string]string{"GOSSIP_HINT_TTL": "1000"}, []string{"env GOSSIP_HINT_TTL", "the publish interval (5s)"}},
		{map[string]string{"GOSSIP_PRIOR_WEIGHT": "0.5"}, []string{"GOSSIP_PRIOR_WEIGHT", "1..1000"}},
		{map[string]string{"GOSSIP_ORIGIN": "has space"}, []string{"env GOSSIP_ORIGIN", "A-Z a-z 0-9"}},
		{map[string]string{"GOSSIP_MAX_PEERS": "0"}, []string{"GOSSIP_MAX_PEERS", "1..4096"}},
		{map[string]string{"GOSSIP_SIGNING_KEY": "nope"}, []string{"GOSSIP_SIGNING_KEY", "allowed an ed25519 seed"}},
		{map[string]string{"GOSSIP_TRUSTED_KEYS": "abc"}, []string{"GOSSIP_TRUSTED_KEYS", "allowed comma-separated ed25519 public keys"}},
	}
	for _, c := range cases {
		_, err := loadGossip(env(c.vars))
		if err == nil {
			t.Errorf("%v: accepted", c.vars)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%v: %q lacks %q", c.vars, err, w)
			}
		}
	}
}

// GOSSIP_* come from ./.env like every other setting; a real variable wins.
func TestGossipVariablesFromDotEnv(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("GOSSIP_PUBLISH_INTERVAL=250\nGOSSIP_MAX_NUDGE=3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	c, err := loadGossip(env(map[string]string{"GOSSIP_MAX_NUDGE": "1.5"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.PublishInterval != 250*time.Millisecond || c.MaxNudge != 1.5 || c.HintTTL != time.Minute {
		t.Fatalf(".env or precedence not applied: %+v", c)
	}
}

// client run -h lists every GOSSIP_* variable; client call -h, which never
// reads them, does not.
func TestRunHelpListsGossipVariables(t *testing.T) {
	_, run, _ := runClient(t, nil, "run", "-h")
	_, call, _ := runClient(t, nil, "call", "-h")
	for _, v := range []string{"GOSSIP_PUBLISH_INTERVAL", "GOSSIP_TRUSTED_KEYS", "GOSSIP_MAX_BOOK_BYTES"} {
		if !strings.Contains(run, "  "+v+" (default") {
			t.Errorf("run -h lacks %s:\n%s", v, run)
		}
		if strings.Contains(call, "  "+v) {
			t.Errorf("call -h lists %s", v)
		}
	}
}
