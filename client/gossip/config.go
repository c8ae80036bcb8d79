package gossip

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/google/uuid"
)

// Config holds every gossip setting. Build it with [DefaultConfig], override
// from the environment with [Config.LoadEnv] and from flags, then call
// [Config.Validate] once before use.
type Config struct {
	// Enabled turns gossip on (env CLIENT_GOSSIP, flag --gossip). Default false:
	// gossip is an opt-in optimisation, the client must work without it.
	Enabled bool

	// Channel is the pub/sub channel name announced by publishers and looked
	// up by subscribers (env GOSSIP_CHANNEL). Empty means "<service>:hints",
	// see [Config.ChannelFor].
	Channel string

	// Origin identifies this client in messages (env GOSSIP_ORIGIN). Empty
	// means a random UUID chosen at start, so two processes never share one.
	Origin string

	// Listen is the address the pub/sub publisher binds (env GOSSIP_LISTEN,
	// default ":0": all interfaces, a free port; the port is announced under
	// the channel, and grapes record the announcer's address).
	Listen string

	// AnnounceInterval is how often the channel is re-announced to the
	// grapes (default 1 s, like Grenache services; not from env).
	AnnounceInterval time.Duration

	// PublishInterval is how often hints are published, and the unit of
	// decay (env GOSSIP_PUBLISH_INTERVAL, ms, default 5000, 100..600000).
	PublishInterval time.Duration

	// HintTTL is how long a hint counts after the evidence behind it was
	// observed; also the accepted window for a message's send time
	// (env GOSSIP_HINT_TTL, ms, default 60000, PublishInterval..3600000).
	HintTTL time.Duration

	// DecayFactor multiplies a hint's weight once per PublishInterval of age
	// (env GOSSIP_DECAY_FACTOR, default 0.5, (0,1]; 1 means no decay).
	DecayFactor float64

	// FreshFor and StaleAfter were the ages of local evidence between which
	// a hint went from no effect to its full effect (env GOSSIP_FRESH_FOR,
	// ms, default 1000, 0..StaleAfter; GOSSIP_STALE_AFTER, ms, default 5000,
	// 1..3600000). Ignored since hints are a prior the client's own
	// outcomes outweigh as they accumulate (PriorWeight); still read and
	// checked so existing environments start unchanged.
	FreshFor   time.Duration
	StaleAfter time.Duration

	// MaxNudge is the strength of hints: a net DEGRADED consensus stands for
	// a failure share of (MaxNudge − 1) × 2 × DegradedErrorRate (0.4 with
	// the defaults), one origin alone for at most half of it, see
	// [Book.Advise] (env GOSSIP_MAX_NUDGE, default 2, 1..4; 1 disables the
	// effect while still publishing and counting).
	MaxNudge float64

	// PriorWeight is how many of the client's own outcomes on a peer a hint
	// is worth: with n of its own (decayed with the client's StaleAfter)
	// the hint judges a pick with probability PriorWeight/(PriorWeight+n),
	// so it decides for a client that has barely used the peer and fades as
	// its own evidence grows (default 10, the samples behind a
	// full-confidence hint; 1..1000).
	PriorWeight float64

	// MinOrigins is how many independent origins it takes for a DEGRADED
	// hint to have full effect; one origin supplies at most 1/MinOrigins of
	// it (env GOSSIP_MIN_ORIGINS, default 2, 1..16).
	MinOrigins int

	// MaxOrigins caps the origins tracked at once; new origins are rejected
	// while the table is full of live ones (env GOSSIP_MAX_ORIGINS,
	// default 64, 1..1024).
	MaxOrigins int

	// MaxPeers caps the hints in one message, both sent and accepted, and so
	// the peers tracked per origin (env GOSSIP_MAX_PEERS, default 512,
	// 1..4096). The frame size limit follows from it, see [Config.MaxFrameBytes].
	MaxPeers int

	// MaxBookBytes is the byte budget of the book of received hints: origin
	// ids, signers, publisher addresses and peers, each charged with its
	// measured overhead (see bookbudget.go). A message that would pass it is
	// rejected like one past MaxOrigins (env GOSSIP_MAX_BOOK_BYTES, default
	// 12 MiB, 65536..1073741824: the default counts fit in it even with
	// 64-byte peers, about 8.5 MB charged).
	MaxBookBytes int

	// SigningKey, when set, signs every published message
	// (env GOSSIP_SIGNING_KEY: ed25519 seed (32 bytes) or private key
	// (64 bytes), in hex or base64).
	SigningKey ed25519.PrivateKey

	// TrustedKeys, when non-empty, restricts consumption to messages signed
	// by one of these keys (env GOSSIP_TRUSTED_KEYS: comma-separated ed25519
	// public keys, hex or base64).
	TrustedKeys []ed25519.PublicKey

	// DegradedErrorRate is the local failure share (errors and timeouts) at
	// or above which this client calls a peer DEGRADED when publishing.
	DegradedErrorRate float64

	// FullConfidenceSamples is how many recent local samples give a
	// published hint full confidence; fewer scale it down.
	FullConfidenceSamples float64
}

// DefaultConfig returns the documented defaults, with gossip disabled.
func DefaultConfig() Config {
	return Config{
		Listen:                ":0",
		AnnounceInterval:      time.Second,
		PublishInterval:       5 * time.Second,
		HintTTL:               60 * time.Second,
		DecayFactor:           0.5,
		FreshFor:              time.Second,
		StaleAfter:            5 * time.Second,
		MaxNudge:              2,
		MinOrigins:            2,
		MaxOrigins:            64,
		MaxPeers:              512,
		MaxBookBytes:          12 << 20,
		DegradedErrorRate:     0.2,
		FullConfidenceSamples: 10,
		PriorWeight:           10,
	}
}

// envConfig is the environment view of Config: durations in milliseconds and
// keys as text, as the project's env tables document them.
type envConfig struct {
	Enabled         bool    `env:"CLIENT_GOSSIP"`
	Channel         string  `env:"GOSSIP_CHANNEL"`
	Origin          string  `env:"GOSSIP_ORIGIN"`
	Listen          string  `env:"GOSSIP_LISTEN"`
	PublishInterval int64   `env:"GOSSIP_PUBLISH_INTERVAL"`
	HintTTL         int64   `env:"GOSSIP_HINT_TTL"`
	DecayFactor     float64 `env:"GOSSIP_DECAY_FACTOR"`
	FreshFor        int64   `env:"GOSSIP_FRESH_FOR"`
	StaleAfter      int64   `env:"GOSSIP_STALE_AFTER"`
	MaxNudge        float64 `env:"GOSSIP_MAX_NUDGE"`
	MinOrigins      int     `env:"GOSSIP_MIN_ORIGINS"`
	MaxOrigins      int     `env:"GOSSIP_MAX_ORIGINS"`
	MaxPeers        int     `env:"GOSSIP_MAX_PEERS"`
	MaxBookBytes    int     `env:"GOSSIP_MAX_BOOK_BYTES"`
	SigningKey      string  `env:"GOSSIP_SIGNING_KEY"`
	TrustedKeys     string  `env:"GOSSIP_TRUSTED_KEYS"`
}

// LoadEnv overrides c with the GOSSIP_* variables (and CLIENT_GOSSIP) that are
// set; unset ones keep their current value. Errors name the variable.
func (c *Config) LoadEnv() error {
	return c.loadEnv(env.Options{})
}

// LoadEnvFunc is LoadEnv reading variables through getenv (os.Getenv, or a
// lookup that also sees a .env file); empty values count as unset.
func (c *Config) LoadEnvFunc(getenv func(string) string) error {
	m := map[string]string{}
	t := reflect.TypeOf(envConfig{})
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("env")
		if v := getenv(name); v != "" {
			m[name] = v
		}
	}
	return c.loadEnv(env.Options{Environment: m})
}

// loadEnv is LoadEnv with injectable options so tests need not touch the
// process environment.
func (c *Config) loadEnv(opts env.Options) error {
	e := envConfig{
		Enabled:         c.Enabled,
		Channel:         c.Channel,
		Origin:          c.Origin,
		Listen:          c.Listen,
		PublishInterval: c.PublishInterval.Milliseconds(),
		HintTTL:         c.HintTTL.Milliseconds(),
		DecayFactor:     c.DecayFactor,
		FreshFor:        c.FreshFor.Milliseconds(),
		StaleAfter:      c.StaleAfter.Milliseconds(),
		MaxNudge:        c.MaxNudge,
		MinOrigins:      c.MinOrigins,
		MaxOrigins:      c.MaxOrigins,
		MaxPeers:        c.MaxPeers,
		MaxBookBytes:    c.MaxBookBytes,
	}
	if err := env.ParseWithOptions(&e, opts); err != nil {
		return nameEnvError(err)
	}
	c.Enabled = e.Enabled
	c.Channel = e.Channel
	c.Origin = e.Origin
	c.Listen = e.Listen
	c.PublishInterval = time.Duration(e.PublishInterval) * time.Millisecond
	c.HintTTL = time.Duration(e.HintTTL) * time.Millisecond
	c.DecayFactor = e.DecayFactor
	c.FreshFor = time.Duration(e.FreshFor) * time.Millisecond
	c.StaleAfter = time.Duration(e.StaleAfter) * time.Millisecond
	c.MaxNudge = e.MaxNudge
	c.MinOrigins = e.MinOrigins
	c.MaxOrigins = e.MaxOrigins
	c.MaxPeers = e.MaxPeers
	c.MaxBookBytes = e.MaxBookBytes
	if e.SigningKey != "" {
		k, err := ParsePrivateKey(e.SigningKey)
		if err != nil {
			return fmt.Errorf("GOSSIP_SIGNING_KEY: %w", err)
		}
		c.SigningKey = k
	}
	if e.TrustedKeys != "" {
		ks, err := ParsePublicKeys(e.TrustedKeys)
		if err != nil {
			return fmt.Errorf("GOSSIP_TRUSTED_KEYS: %w", err)
		}
		c.TrustedKeys = ks
	}
	return nil
}

// Validate checks every field against its documented range and fills the
// origin with a random UUID when empty. The error names the env variable.
func (c *Config) Validate() error {
	ms := func(name string, d, lo, hi time.Duration) error {
		if d < lo || d > hi {
			return fmt.Errorf("%s=%d ms out of range [%d, %d] ms", name, d.Milliseconds(), lo.Milliseconds(), hi.Milliseconds())
		}
		return nil
	}
	if err := ms("GOSSIP_PUBLISH_INTERVAL", c.PublishInterval, 100*time.Millisecond, 10*time.Minute); err != nil {
		return err
	}
	if err := ms("GOSSIP_HINT_TTL", c.HintTTL, c.PublishInterval, time.Hour); err != nil {
		return fmt.Errorf("%w (must be at least GOSSIP_PUBLISH_INTERVAL)", err)
	}
	if err := ms("GOSSIP_STALE_AFTER", c.StaleAfter, time.Millisecond, time.Hour); err != nil {
		return err
	}
	if err := ms("GOSSIP_FRESH_FOR", c.FreshFor, 0, c.StaleAfter-time.Millisecond); err != nil {
		return fmt.Errorf("%w (must be below GOSSIP_STALE_AFTER)", err)
	}
	if !(c.DecayFactor > 0 && c.DecayFactor <= 1) {
		return fmt.Errorf("GOSSIP_DECAY_FACTOR=%v out of range (0, 1]", c.DecayFactor)
	}
	if !(c.MaxNudge >= 1 && c.MaxNudge <= 4) {
		return fmt.Errorf("GOSSIP_MAX_NUDGE=%v out of range [1, 4]", c.MaxNudge)
	}
	ints := []struct {
		name      string
		v, lo, hi int
	}{
		{"GOSSIP_MIN_ORIGINS", c.MinOrigins, 1, 16},
		{"GOSSIP_MAX_ORIGINS", c.MaxOrigins, 1, 1024},
		{"GOSSIP_MAX_PEERS", c.MaxPeers, 1, 4096},
		{"GOSSIP_MAX_BOOK_BYTES", c.MaxBookBytes, 65536, 1 << 30},
	}
	for _, i := range ints {
		if i.v < i.lo || i.v > i.hi {
			return fmt.Errorf("%s=%d out of range [%d, %d]", i.name, i.v, i.lo, i.hi)
		}
	}
	if c.Origin == "" {
		c.Origin = uuid.NewString()
	}
	if err := validToken(c.Origin, maxOriginLen); err != nil {
		return fmt.Errorf("GOSSIP_ORIGIN: %w", err)
	}
	if c.Listen == "" {
		return fmt.Errorf("GOSSIP_LISTEN is empty (use :0 for any free port)")
	}
	if c.AnnounceInterval <= 0 {
		return fmt.Errorf("gossip AnnounceInterval must be positive")
	}
	if c.Channel != "" && len(c.Channel) > 256 {
		return fmt.Errorf("GOSSIP_CHANNEL longer than 256 bytes")
	}
	if c.SigningKey != nil && len(c.SigningKey) != ed25519.PrivateKeySize {
		return fmt.Errorf("GOSSIP_SIGNING_KEY: want %d-byte ed25519 private key", ed25519.PrivateKeySize)
	}
	for i, k := range c.TrustedKeys {
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("GOSSIP_TRUSTED_KEYS[%d]: want %d-byte ed25519 public key", i, ed25519.PublicKeySize)
		}
	}
	if !(c.DegradedErrorRate > 0 && c.DegradedErrorRate < 1) {
		return fmt.Errorf("gossip DegradedErrorRate=%v out of range (0, 1)", c.DegradedErrorRate)
	}
	if !(c.PriorWeight >= 1 && c.PriorWeight <= 1000) {
		return fmt.Errorf("gossip PriorWeight=%v out of range [1, 1000]", c.PriorWeight)
	}
	if !(c.FullConfidenceSamples >= 1) {
		return fmt.Errorf("gossip FullConfidenceSamples=%v must be at least 1", c.FullConfidenceSamples)
	}
	return nil
}

// ChannelFor returns the channel to use for service: Channel if set,
// otherwise "<service>:hints", so clients of one service meet by default and
// clients of different services do not mix hints about unrelated peers.
func (c *Config) ChannelFor(service string) string {
	if c.Channel != "" {
		return c.Channel
	}
	return service + ":hints"
}

// MaxFrameBytes is the largest message accepted or produced: room for
// MaxPeers hints of at most 160 bytes each (peer ≤ 64 bytes plus the JSON
// around it) and 512 bytes of header and signature.
func (c *Config) MaxFrameBytes() int {
	return 512 + 160*c.MaxPeers
}

// nameEnvError rewrites caarlos0/env's parse errors, which name the Go
// field, to name the environment variable a user actually set.
func nameEnvError(err error) error {
	var pe env.ParseError
	if errors.As(err, &pe) {
		if f, ok := reflect.TypeOf(envConfig{}).FieldByName(pe.Name); ok {
			return fmt.Errorf("%s: %w", f.Tag.Get("env"), pe.Err)
		}
	}
	return fmt.Errorf("gossip config: %w", err)
}
