package gossip

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
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
		t.Errorf("ChannelFor with a Channel = %q", got)
	}
}

func TestValidateRanges(t *testing.T) {
	cases := []struct {
		field  string
		mutate func(*Config)
	}{
		{"PublishInterval", func(c *Config) { c.PublishInterval = 50 * time.Millisecond }},
		{"PublishInterval", func(c *Config) { c.PublishInterval = 11 * time.Minute }},
		{"HintTTL", func(c *Config) { c.HintTTL = time.Second }}, // shorter than the interval
		{"HintTTL", func(c *Config) { c.HintTTL = 2 * time.Hour }},
		{"PriorWeight", func(c *Config) { c.PriorWeight = 0.5 }},
		{"PriorWeight", func(c *Config) { c.PriorWeight = 1001 }},
		{"DecayFactor", func(c *Config) { c.DecayFactor = 0 }},
		{"DecayFactor", func(c *Config) { c.DecayFactor = 1.1 }},
		{"MaxNudge", func(c *Config) { c.MaxNudge = 0.9 }},
		{"MaxNudge", func(c *Config) { c.MaxNudge = 5 }},
		{"MinOrigins", func(c *Config) { c.MinOrigins = 0 }},
		{"MaxOrigins", func(c *Config) { c.MaxOrigins = 5000 }},
		{"MaxPeers", func(c *Config) { c.MaxPeers = 0 }},
		{"MaxBookBytes", func(c *Config) { c.MaxBookBytes = 1000 }},
		{"Origin", func(c *Config) { c.Origin = "has space" }},
		{"Channel", func(c *Config) { c.Channel = strings.Repeat("c", 300) }},
		{"SigningKey", func(c *Config) { c.SigningKey = make([]byte, 10) }},
		{"TrustedKeys", func(c *Config) { c.TrustedKeys = append(c.TrustedKeys, make([]byte, 10)) }},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mutate(&cfg)
		err := cfg.Validate()
		var fe *validate.FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || fe.Allowed == "" || !strings.Contains(err.Error(), "gossip.Config."+c.field) {
			t.Errorf("want a FieldError naming %s and its allowed values, got %v", c.field, err)
		}
	}
}
