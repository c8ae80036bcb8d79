package grape

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
	"github.com/rs/zerolog"
)

// Config holds every setting of a Grape. DefaultConfig documents the
// defaults; they are the documented grenache-grape defaults (the ones a
// programmatic `new Grape()` gets), not the accidental ones of the 1.0.0 CLI.
type Config struct {
	// DHTPort is the UDP port of the DHT node; 0 picks a free one.
	DHTPort int
	// DHTHost is the IP the DHT UDP socket binds. Node grapes always bind
	// 0.0.0.0; tests use 127.0.0.1.
	DHTHost string
	// APIPort is the TCP port of the HTTP API; 0 picks a free one.
	APIPort int
	// Bootstrap lists host:port of DHT nodes to join through; empty is
	// allowed. Each entry needs a port in 1-65535 and an IPv4 address or a
	// DNS name as host (dht.CheckBootstrap); names are resolved at every
	// use, not by New.
	Bootstrap []string
	// Bind, when set, is the IP the HTTP API listens on, and (like Node's -b)
	// makes the grape store its own announcements locally under Bind:port.
	// Empty means all interfaces and no self-store.
	Bind string
	// PeerMaxAge is how long an announcement lives in the DHT peer store
	// (Node's dht_peer_maxAge); the grape's "seen peers" memory uses half of
	// it. 0 means announcements never expire.
	PeerMaxAge time.Duration
	// NodeLiveness: after this long without routing-table change the DHT
	// pings every node (Node's dht_nodeLiveness).
	NodeLiveness time.Duration
	// QueryTimeout is how long one KRPC query waits for its reply.
	QueryTimeout time.Duration
	// MaxTables bounds the DHT's per-key lookup tables.
	MaxTables int
	// MaxValues bounds the DHT's BEP44 value store.
	MaxValues int
	// Concurrency is the number of KRPC queries in flight per lookup.
	Concurrency int
	// MaxPayloadSize is the HTTP body limit in bytes; larger bodies get
	// 413 ERR_GRAPE_PAYLOAD_SIZE.
	MaxPayloadSize int64
	// LookupCacheTTL is how long a completed DHT walk for a name may answer
	// later lookups of that name from the seen-peers memory (refreshed in
	// the background from 7/8 of it on; see lookupCache for the freshness
	// rule); <= 0 walks on every lookup, as Node does.
	LookupCacheTTL time.Duration
	// LookupCacheBytes is the byte budget of the lookup cache: names (remote
	// input of any length, also taken from announce_peer queries) plus 160
	// bytes each, over both generations. A single name larger than half of
	// it is still held alone. Default 4 MiB.
	LookupCacheBytes int
	// SeenPeersBytes is the byte budget of the seen-peers memory: names plus
	// 400 bytes each, records plus 80 bytes each, over both generations
	// (besides Node's 5000-record count). A single name larger than half of
	// it is still held alone. Default 8 MiB.
	SeenPeersBytes int
	// BodyBudget bounds the bytes of request bodies the API reads at once,
	// over all connections (see pkg/budget); at least MaxPayloadSize+1. A
	// request that finds it spent waits up to a second, then gets 503
	// ERR_GRAPE_BUSY.
	BodyBudget int64
	// MaxConns caps the API connections open at once (0 = no cap). At the
	// cap the grape stops accepting; new connections wait in the kernel
	// backlog until a slot frees (see pkg/connlimit).
	MaxConns int
	// HeaderTimeout bounds reading a request's headers (at most 10 s), so
	// connections that never finish a request are dropped and free their
	// slot.
	HeaderTimeout time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight HTTP requests
	// after its context is done.
	ShutdownTimeout time.Duration
	// Clock is the time source of the seen-peers memory and the DHT;
	// nil means the wall clock.
	Clock dht.Clock
	// Logger receives the grape's logs; the zero value logs nothing.
	Logger zerolog.Logger
	// MaxPeers bounds the DHT peer store's announcements over all keys.
	MaxPeers int
	// MaxPeerBytes is the DHT peer store's byte budget (key bytes plus a
	// measured overhead per announcement). When the store is full, the
	// source holding the most bytes loses its oldest announcement: the
	// announcing IP for announce_peer, the HTTP client's IP for the
	// self-store of Bind.
	MaxPeerBytes int
	// MaxValueBytes is the BEP44 value store's byte budget.
	MaxValueBytes int
	// MaxTableBytes is the per-key lookup tables' byte budget.
	MaxTableBytes int
	// EventBuffer is the capacity of the Events channel; 0 (the default)
	// turns events off. Events beyond it, unread, are dropped and counted.
	EventBuffer int
}

// DefaultConfig returns the documented defaults: DHT on 0.0.0.0:20001, API
// port unset (callers must choose one), peer max age 120 s, 5000 tables and
// values, node liveness 5 min, concurrency 16 (what k-rpc really uses),
// 2 s KRPC timeout and an 8192-byte body limit.
func DefaultConfig() Config {
	return Config{
		DHTPort:         20001,
		DHTHost:         "0.0.0.0",
		PeerMaxAge:      120 * time.Second,
		NodeLiveness:    5 * time.Minute,
		QueryTimeout:    2 * time.Second,
		MaxTables:       5000,
		MaxValues:       5000,
		Concurrency:     16,
		MaxPayloadSize:  8192,
		LookupCacheTTL:  500 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second,
		// Both well above what Node's counts (10000 names, 5000 records)
		// take with names of a few dozen bytes, so only long names reach them.
		LookupCacheBytes: 4 << 20,
		SeenPeersBytes:   8 << 20,
		BodyBudget:       DefaultBodyBudget,
		MaxConns:         DefaultMaxConns,
		HeaderTimeout:    MaxHeaderTimeout,
		Logger:           zerolog.Nop(),
		MaxPeers:         10000,
		MaxPeerBytes:     32 << 20,
		MaxValueBytes:    8 << 20,
		MaxTableBytes:    16 << 20,
	}
}

// Defaults of the API's hardening settings.
const (
	// DefaultBodyBudget holds 2000 bodies of the default 8192-byte limit.
	DefaultBodyBudget = 16 << 20
	// DefaultMaxConns is well below typical descriptor limits (Go raises
	// the soft RLIMIT_NOFILE to the hard one, often 20000 to 1M, at start)
	// and far above what links need (a few keep-alive connections each).
	DefaultMaxConns = 4096
	// MaxHeaderTimeout is the longest (and default) header read timeout.
	MaxHeaderTimeout = 10 * time.Second
)

// validate reports the first setting that cannot work, naming the field.
func (c *Config) validate() error {
	var errs []error
	port := func(name string, p int) {
		if p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("grape: %s %d out of range 0-65535", name, p))
		}
	}
	port("DHTPort", c.DHTPort)
	port("APIPort", c.APIPort)
	if c.Bind != "" {
		if _, err := netip.ParseAddr(c.Bind); err != nil {
			errs = append(errs, fmt.Errorf("grape: Bind %q is not an IP address", c.Bind))
		}
	}
	if c.DHTHost != "" {
		if _, err := netip.ParseAddr(c.DHTHost); err != nil {
			errs = append(errs, fmt.Errorf("grape: DHTHost %q is not an IP address", c.DHTHost))
		}
	}
	for _, b := range c.Bootstrap {
		if _, err := dht.CheckBootstrap(b); err != nil {
			errs = append(errs, fmt.Errorf("grape: Bootstrap entry %q: %v; allowed %s", b, err, dht.BootstrapSyntax))
		}
	}
	if c.PeerMaxAge < 0 {
		errs = append(errs, errors.New("grape: PeerMaxAge must be >= 0"))
	}
	if c.NodeLiveness <= 0 {
		errs = append(errs, errors.New("grape: NodeLiveness must be > 0"))
	}
	if c.QueryTimeout <= 0 {
		errs = append(errs, errors.New("grape: QueryTimeout must be > 0"))
	}
	if c.MaxTables <= 0 || c.MaxValues <= 0 {
		errs = append(errs, errors.New("grape: MaxTables and MaxValues must be > 0"))
	}
	if c.Concurrency <= 0 {
		errs = append(errs, errors.New("grape: Concurrency must be > 0"))
	}
	if c.MaxPayloadSize <= 0 {
		errs = append(errs, errors.New("grape: MaxPayloadSize must be > 0"))
	}
	if c.LookupCacheBytes <= 0 || c.SeenPeersBytes <= 0 {
		errs = append(errs, errors.New("grape: LookupCacheBytes and SeenPeersBytes must be > 0"))
	}
	if c.BodyBudget <= c.MaxPayloadSize {
		errs = append(errs, fmt.Errorf("grape: BodyBudget %d must be > MaxPayloadSize %d (one body is read one byte past the limit)", c.BodyBudget, c.MaxPayloadSize))
	}
	if c.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("grape: MaxConns %d must be >= 0 (0 = no cap)", c.MaxConns))
	}
	if c.HeaderTimeout <= 0 || c.HeaderTimeout > MaxHeaderTimeout {
		errs = append(errs, fmt.Errorf("grape: HeaderTimeout %v must be in (0, %v]", c.HeaderTimeout, MaxHeaderTimeout))
	}
	if c.MaxPeers <= 0 || c.MaxPeerBytes <= 0 || c.MaxValueBytes <= 0 || c.MaxTableBytes <= 0 {
		errs = append(errs, errors.New("grape: MaxPeers, MaxPeerBytes, MaxValueBytes and MaxTableBytes must be > 0"))
	}
	if c.EventBuffer < 0 || c.EventBuffer > MaxEventBuffer {
		errs = append(errs, fmt.Errorf("grape: EventBuffer %d must be in 0-%d (0 = events off)", c.EventBuffer, MaxEventBuffer))
	}
	return errors.Join(errs...)
}

// dhtConfig maps the grape settings onto the DHT node's.
func (c *Config) dhtConfig() dht.Config {
	d := dht.DefaultConfig()
	host := c.DHTHost
	if host == "" {
		host = "0.0.0.0"
	}
	d.Addr = netip.AddrPortFrom(netip.MustParseAddr(host), uint16(c.DHTPort)).String()
	d.Bootstrap = append([]string(nil), c.Bootstrap...)
	d.PeerMaxAge = c.PeerMaxAge
	d.MaxTables = c.MaxTables
	d.MaxValues = c.MaxValues
	d.MaxPeers = c.MaxPeers
	d.MaxPeerBytes = c.MaxPeerBytes
	d.MaxValueBytes = c.MaxValueBytes
	d.MaxTableBytes = c.MaxTableBytes
	d.NodeLiveness = c.NodeLiveness
	d.Concurrency = c.Concurrency
	d.QueryTimeout = c.QueryTimeout
	if c.Clock != nil {
		d.Clock = c.Clock
	}
	d.Logger = c.Logger.With().Str("component", "dht").Logger()
	return d
}

// now is the configured clock's Now, or the wall clock.
func (c *Config) now() func() time.Time {
	if c.Clock != nil {
		return c.Clock.Now
	}
	return time.Now
}
