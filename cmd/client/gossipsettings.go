package main

import (
	"fmt"
	"time"

	"github.com/grenache-go/grenache/client/gossip"
	"github.com/grenache-go/grenache/pkg/config"
)

// gossipSettings are the GOSSIP_* variables of `client run --gossip`,
// loaded by pkg/config (defaults, .env, environment; they have no flags)
// only when gossip is on, so `client call` never reads them. A `field` tag
// names the gossip.Config field the setting fills; the envDefault values
// are gossip.DefaultConfig's (a test keeps them equal). The ranges a tag
// cannot say (HintTTL at least PublishInterval, DecayFactor above 0) are gossip.Config.Validate's, reported under these
// variables' names.
type gossipSettings struct {
	Channel         string        `env:"GOSSIP_CHANNEL" field:"Channel" usage:"pub/sub channel of the hints, at most 256 bytes (empty = SERVICE:hints)"`
	Origin          string        `env:"GOSSIP_ORIGIN" field:"Origin" usage:"this client's id in messages, 1-64 of A-Z a-z 0-9 . _ : - (empty = a random UUID)"`
	Listen          string        `env:"GOSSIP_LISTEN" envDefault:":0" field:"Listen" usage:"host:port of this client's publisher; its port is announced under the channel"`
	PublishInterval time.Duration `env:"GOSSIP_PUBLISH_INTERVAL" envDefault:"5000" allowed:"100..600000" field:"PublishInterval" usage:"publish period, also the unit of decay"`
	HintTTL         time.Duration `env:"GOSSIP_HINT_TTL" envDefault:"60000" allowed:"100..3600000" field:"HintTTL" usage:"how long a hint counts after its evidence (at least GOSSIP_PUBLISH_INTERVAL)"`
	DecayFactor     float64       `env:"GOSSIP_DECAY_FACTOR" envDefault:"0.5" allowed:"0..1" field:"DecayFactor" usage:"weight multiplier per publish interval of age, above 0 (1 = no decay)"`
	MaxNudge        float64       `env:"GOSSIP_MAX_NUDGE" envDefault:"2" allowed:"1..4" field:"MaxNudge" usage:"strength of hints: a DEGRADED consensus stands for a failure share of (this - 1) x 0.4 (1 = effect off)"`
	PriorWeight     float64       `env:"GOSSIP_PRIOR_WEIGHT" envDefault:"10" allowed:"1..1000" field:"PriorWeight" usage:"how many of the client's own outcomes on a peer a hint is worth; its say fades as they accumulate"`
	MinOrigins      int           `env:"GOSSIP_MIN_ORIGINS" envDefault:"2" allowed:"1..16" field:"MinOrigins" usage:"independent origins needed for a hint's full effect"`
	MaxOrigins      int           `env:"GOSSIP_MAX_ORIGINS" envDefault:"64" allowed:"1..1024" field:"MaxOrigins" usage:"origins tracked at once"`
	MaxPeers        int           `env:"GOSSIP_MAX_PEERS" envDefault:"512" allowed:"1..4096" field:"MaxPeers" usage:"hints per message, sent and accepted"`
	MaxBookBytes    int           `env:"GOSSIP_MAX_BOOK_BYTES" envDefault:"12582912" allowed:"65536..1073741824" field:"MaxBookBytes" usage:"byte budget of the book of received hints"`
	SigningKey      string        `env:"GOSSIP_SIGNING_KEY" usage:"sign published messages: ed25519 seed (32 bytes) or private key (64 bytes), hex or base64"`
	TrustedKeys     string        `env:"GOSSIP_TRUSTED_KEYS" usage:"consume only messages signed by one of these comma-separated ed25519 public keys, hex or base64"`
}

// loadGossip reads the GOSSIP_* settings through getenv (and ./.env) into
// a validated gossip.Config with gossip on; errors name the variable and
// the allowed values.
func loadGossip(getenv func(string) string) (gossip.Config, error) {
	var s gossipSettings
	if err := config.Load(&s, config.Source{Name: "client run", Getenv: getenv}); err != nil {
		return gossip.Config{}, err
	}
	c := gossip.DefaultConfig()
	c.Enabled = true
	if err := config.Apply(&c, &s); err != nil {
		return gossip.Config{}, err
	}
	if s.SigningKey != "" {
		k, err := gossip.ParsePrivateKey(s.SigningKey)
		if err != nil {
			return gossip.Config{}, fmt.Errorf("invalid value for env GOSSIP_SIGNING_KEY: %v; allowed an ed25519 seed (32 bytes) or private key (64 bytes), hex or base64", err)
		}
		c.SigningKey = k
	}
	if s.TrustedKeys != "" {
		ks, err := gossip.ParsePublicKeys(s.TrustedKeys)
		if err != nil {
			return gossip.Config{}, fmt.Errorf("invalid value for env GOSSIP_TRUSTED_KEYS: %v; allowed comma-separated ed25519 public keys, hex or base64", err)
		}
		c.TrustedKeys = ks
	}
	if err := c.Validate(); err != nil {
		return gossip.Config{}, config.Attribute(&s, err)
	}
	return c, nil
}

// gossipHelp lists the GOSSIP_* variables for client run -h.
func gossipHelp() string {
	help, err := config.EnvUsageOf("Gossip (with --gossip; environment only, also read from a .env file):", &gossipSettings{})
	if err != nil {
		return "" // a programming error the tests catch; help goes on without the list
	}
	return help
}
