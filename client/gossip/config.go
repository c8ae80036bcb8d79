package gossip

import (
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/grenache-go/grenache/pkg/validate"
)

// Config holds every gossip setting. Build it with [DefaultConfig], change
// what you need, then call [Config.Validate] once before use ([New] does).
// The package reads no environment: `client run --gossip` maps its GOSSIP_*
// variables onto these fields (docs/configuration.md lists them).
//
// Validate errors are *validate.FieldError values naming the field.
type Config struct {
	// Enabled turns gossip on. Default false: gossip is an opt-in
	// optimisation, the client must work without it.
	Enabled bool

	// Channel is the pub/sub channel name announced by publishers and looked
	// up by subscribers, at most 256 bytes. Empty means "<service>:hints",
	// see [Config.ChannelFor].
	Channel string

	// Origin identifies this client in messages. Empty means a random UUID
	// chosen by Validate, so two processes never share one.
	Origin string

	// Listen is the address the pub/sub publisher binds (default ":0": all
	// interfaces, a free port; the port is announced under the channel, and
	// grapes record the announcer's address).
	Listen string

	// AnnounceInterval is how often the channel is re-announced to the
	// grapes (default 1 s, like Grenache services).
	AnnounceInterval time.Duration

	// PublishInterval is how often hints are published, and the unit of
	// decay (default 5 s, 100ms..10m).
	PublishInterval time.Duration

	// HintTTL is how long a hint counts after the evidence behind it was
	// observed; also the accepted window for a message's send time
	// (default 1 min, PublishInterval..1h).
	HintTTL time.Duration

	// DecayFactor multiplies a hint's weight once per PublishInterval of age
	// (default 0.5, in (0, 1]; 1 means no decay).
	DecayFactor float64

	// MaxNudge is the strength of hints: a net DEGRADED consensus stands for
	// a failure share of (MaxNudge − 1) × 2 × DegradedErrorRate (0.4 with
	// the defaults), one origin alone for at most half of it, see
	// [Book.Advise] (default 2, 1..4; 1 disables the effect while still
	// publishing and counting).
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
	// it (default 2, 1..16).
	MinOrigins int

	// MaxOrigins caps the origins tracked at once; new origins are rejected
	// while the table is full of live ones (default 64, 1..1024).
	MaxOrigins int

	// MaxPeers caps the hints in one message, both sent and accepted, and so
	// the peers tracked per origin (default 512, 1..4096). The frame size
	// limit follows from it, see [Config.MaxFrameBytes].
	MaxPeers int

	// MaxBookBytes is the byte budget of the book of received hints: origin
	// ids, signers, publisher addresses and peers, each charged with its
	// measured overhead (see bookbudget.go). A message that would pass it is
	// rejected like one past MaxOrigins (default 12 MiB, 64 KiB..1 GiB: the
	// default counts fit in it even with 64-byte peers, about 8.5 MB
	// charged).
	MaxBookBytes int

	// SigningKey, when set, signs every published message
	// ([ParsePrivateKey] reads one from text).
	SigningKey ed25519.PrivateKey

	// TrustedKeys, when non-empty, restricts consumption to messages signed
	// by one of these keys ([ParsePublicKeys] reads them from text).
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

// configName is how errors name Config.
const configName = "gossip.Config"

// Validate checks every field against its documented range and fills the
// origin with a random UUID when empty. The error is a *validate.FieldError
// naming the field.
func (c *Config) Validate() error {
	bad := func(field, value, allowed string) error {
		return &validate.FieldError{Config: configName, Field: field, Value: value, Allowed: allowed}
	}
	if err := validate.Range(configName, "PublishInterval", c.PublishInterval, 100*time.Millisecond, 10*time.Minute); err != nil {
		return err
	}
	if c.HintTTL < c.PublishInterval || c.HintTTL > time.Hour {
		return bad("HintTTL", c.HintTTL.String(), fmt.Sprintf("the publish interval (%v)..%v", c.PublishInterval, time.Hour))
	}
	if !(c.DecayFactor > 0 && c.DecayFactor <= 1) {
		return bad("DecayFactor", fmt.Sprint(c.DecayFactor), "above 0, at most 1")
	}
	if err := validate.Range(configName, "MaxNudge", c.MaxNudge, 1, 4); err != nil {
		return err
	}
	ints := []struct {
		field     string
		v, lo, hi int
	}{
		{"MinOrigins", c.MinOrigins, 1, 16},
		{"MaxOrigins", c.MaxOrigins, 1, 1024},
		{"MaxPeers", c.MaxPeers, 1, 4096},
		{"MaxBookBytes", c.MaxBookBytes, 65536, 1 << 30},
	}
	for _, i := range ints {
		if err := validate.Range(configName, i.field, i.v, i.lo, i.hi); err != nil {
			return err
		}
	}
	if c.Origin == "" {
		c.Origin = uuid.NewString()
	}
	if validToken(c.Origin, maxOriginLen) != nil {
		return bad("Origin", c.Origin, fmt.Sprintf("1 to %d of A-Z a-z 0-9 . _ : -", maxOriginLen))
	}
	if c.Listen == "" {
		return bad("Listen", `""`, "a host:port (:0 for any free port)")
	}
	if c.AnnounceInterval <= 0 {
		return bad("AnnounceInterval", c.AnnounceInterval.String(), "above 0")
	}
	if len(c.Channel) > 256 {
		return bad("Channel", fmt.Sprintf("of %d bytes", len(c.Channel)), "at most 256 bytes (empty: <service>:hints)")
	}
	if c.SigningKey != nil && len(c.SigningKey) != ed25519.PrivateKeySize {
		return bad("SigningKey", fmt.Sprintf("of %d bytes", len(c.SigningKey)), fmt.Sprintf("a %d-byte ed25519 private key", ed25519.PrivateKeySize))
	}
	for i, k := range c.TrustedKeys {
		if len(k) != ed25519.PublicKeySize {
			return bad("TrustedKeys", fmt.Sprintf("[%d] of %d bytes", i, len(k)), fmt.Sprintf("%d-byte ed25519 public keys", ed25519.PublicKeySize))
		}
	}
	if !(c.DegradedErrorRate > 0 && c.DegradedErrorRate < 1) {
		return bad("DegradedErrorRate", fmt.Sprint(c.DegradedErrorRate), "above 0, below 1")
	}
	if !(c.PriorWeight >= 1 && c.PriorWeight <= 1000) {
		return bad("PriorWeight", fmt.Sprint(c.PriorWeight), "1..1000")
	}
	if !(c.FullConfidenceSamples >= 1) {
		return bad("FullConfidenceSamples", fmt.Sprint(c.FullConfidenceSamples), ">= 1")
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
