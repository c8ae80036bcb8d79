package gossip

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/caarlos0/env/v11"
)

func TestDefaultsAreValidAndDocumented(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Enabled {
		t.Error("gossip must be off by default")
	}
	if cfg.PublishInterval != 5*time.Second || cfg.HintTTL != time.Minute || cfg.DecayFactor != 0.5 {
		t.Errorf("issue defaults changed: %v %v %v", cfg.PublishInterval, cfg.HintTTL, cfg.DecayFactor)
	}
	if cfg.Origin == "" {
		t.Error("Validate must fill a random origin")
	}
	other := DefaultConfig()
	_ = other.Validate()
	if other.Origin == cfg.Origin {
		t.Error("two processes got the same origin")
	}
	if got := cfg.ChannelFor("rpc_test"); got != "rpc_test:hints" {
		t.Errorf("ChannelFor = %q", got)
	}
	cfg.Channel = "shared"
	if got := cfg.ChannelFor("rpc_test"); got != "shared" {
		t.Errorf("ChannelFor with GOSSIP_CHANNEL = %q", got)
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	seed := make([]byte, 32)
	seed[0] = 7
	cfg := DefaultConfig()
	err := cfg.loadEnv(env.Options{Environment: map[string]string{
		"CLIENT_GOSSIP":           "true",
		"GOSSIP_CHANNEL":          "c",
		"GOSSIP_ORIGIN":           "me",
		"GOSSIP_PUBLISH_INTERVAL": "1000",
		"GOSSIP_HINT_TTL":         "20000",
		"GOSSIP_DECAY_FACTOR":     "0.25",
		"GOSSIP_FRESH_FOR":        "500",
		"GOSSIP_STALE_AFTER":      "3000",
		"GOSSIP_MAX_NUDGE":        "1.5",
		"GOSSIP_MIN_ORIGINS":      "3",
		"GOSSIP_MAX_ORIGINS":      "10",
		"GOSSIP_MAX_PEERS":        "100",
		"GOSSIP_SIGNING_KEY":      hex.EncodeToString(seed),
		"GOSSIP_TRUSTED_KEYS":     hex.EncodeToString(pub(keyN(1))) + "," + hex.EncodeToString(pub(keyN(2))),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled || cfg.Channel != "c" || cfg.Origin != "me" || cfg.PublishInterval != time.Second ||
		cfg.HintTTL != 20*time.Second || cfg.DecayFactor != 0.25 || cfg.StaleAfter != 3*time.Second || cfg.FreshFor != 500*time.Millisecond ||
		cfg.MaxNudge != 1.5 || cfg.MinOrigins != 3 || cfg.MaxOrigins != 10 || cfg.MaxPeers != 100 ||
		cfg.SigningKey == nil || len(cfg.TrustedKeys) != 2 {
		t.Fatalf("env not applied: %+v", cfg)
	}

	// Unset variables keep what was there (flags may have set it already).
	cfg2 := DefaultConfig()
	cfg2.MaxNudge = 3
	if err := cfg2.loadEnv(env.Options{Environment: map[string]string{}}); err != nil || cfg2.MaxNudge != 3 {
		t.Fatalf("unset env changed MaxNudge to %v (%v)", cfg2.MaxNudge, err)
	}
}

func TestLoadEnvErrorsNameTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"GOSSIP_PUBLISH_INTERVAL": "soon",
		"GOSSIP_SIGNING_KEY":      "nope",
		"GOSSIP_TRUSTED_KEYS":     "abc",
	} {
		cfg := DefaultConfig()
		err := cfg.loadEnv(env.Options{Environment: map[string]string{name: val}})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%q: error %v does not name the variable", name, val, err)
		}
	}
}

func TestValidateRanges(t *testing.T) {
	cases := []struct {
		variable string
		mutate   func(*Config)
	}{
		{"GOSSIP_PUBLISH_INTERVAL", func(c *Config) { c.PublishInterval = 50 * time.Millisecond }},
		{"GOSSIP_PUBLISH_INTERVAL", func(c *Config) { c.PublishInterval = 11 * time.Minute }},
		{"GOSSIP_HINT_TTL", func(c *Config) { c.HintTTL = time.Second }}, // shorter than the interval
		{"GOSSIP_HINT_TTL", func(c *Config) { c.HintTTL = 2 * time.Hour }},
		{"GOSSIP_STALE_AFTER", func(c *Config) { c.StaleAfter = 0 }},
		{"GOSSIP_FRESH_FOR", func(c *Config) { c.FreshFor = c.StaleAfter }},
		{"GOSSIP_FRESH_FOR", func(c *Config) { c.FreshFor = -time.Second }},
		{"GOSSIP_DECAY_FACTOR", func(c *Config) { c.DecayFactor = 0 }},
		{"GOSSIP_DECAY_FACTOR", func(c *Config) { c.DecayFactor = 1.1 }},
		{"GOSSIP_MAX_NUDGE", func(c *Config) { c.MaxNudge = 0.9 }},
		{"GOSSIP_MAX_NUDGE", func(c *Config) { c.MaxNudge = 5 }},
		{"GOSSIP_MIN_ORIGINS", func(c *Config) { c.MinOrigins = 0 }},
		{"GOSSIP_MAX_ORIGINS", func(c *Config) { c.MaxOrigins = 5000 }},
		{"GOSSIP_MAX_PEERS", func(c *Config) { c.MaxPeers = 0 }},
		{"GOSSIP_MAX_BOOK_BYTES", func(c *Config) { c.MaxBookBytes = 1000 }},
		{"GOSSIP_ORIGIN", func(c *Config) { c.Origin = "has space" }},
		{"GOSSIP_CHANNEL", func(c *Config) { c.Channel = strings.Repeat("c", 300) }},
		{"GOSSIP_SIGNING_KEY", func(c *Config) { c.SigningKey = make([]byte, 10) }},
		{"GOSSIP_TRUSTED_KEYS", func(c *Config) { c.TrustedKeys = append(c.TrustedKeys, make([]byte, 10)) }},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mutate(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.variable) {
			t.Errorf("want an error naming %s, got %v", c.variable, err)
		}
	}
}

func TestLoadEnvFuncReadsThroughGetenv(t *testing.T) {
	vars := map[string]string{"CLIENT_GOSSIP": "true", "GOSSIP_PUBLISH_INTERVAL": "250", "UNRELATED": "x"}
	cfg := DefaultConfig()
	if err := cfg.LoadEnvFunc(func(k string) string { return vars[k] }); err != nil {
		t.Fatal(err)
	}
	if !cfg.Enabled || cfg.PublishInterval != 250*time.Millisecond || cfg.HintTTL != time.Minute {
		t.Fatalf("%+v", cfg)
	}
}
