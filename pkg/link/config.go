package link

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
	"github.com/rs/zerolog"
)

// Config configures a Link. Build it with DefaultConfig and override
// fields; New validates it (Validate).
type Config struct {
	// Grapes lists grape HTTP API base URLs ("http://127.0.0.1:30001").
	// With several, a call that cannot reach one grape (connection refused,
	// per-attempt timeout) moves on to the next, and the Link keeps using
	// the one that answered until it fails in turn.
	Grapes []string
	// RequestTimeout bounds one HTTP attempt against one grape (Node's
	// requestTimeout, 2.5 s). A call tries each grape at most once, so the
	// whole call takes at most len(Grapes)*RequestTimeout, and never longer
	// than the caller's context allows.
	RequestTimeout time.Duration
	// LookupCacheTTL is how long a non-empty lookup result is served from
	// memory. Node links cache for 10 s; we default to 1 s because a short
	// cache still absorbs hot-path lookups (one HTTP lookup per name per
	// second) while new and vanished peers show up ten times sooner.
	// Zero disables the cache.
	LookupCacheTTL time.Duration
	// LookupCacheSize bounds the number of cached names (LRU), like Node's
	// 2500-entry LRU.
	LookupCacheSize int
	// LookupCacheBytes bounds the cache's memory: names and the peers a
	// grape answered (a reply may be up to 1 MiB), plus 256 bytes per entry
	// and 16 per peer. Least recently used entries go first; a single
	// result larger than the budget is not cached. Default 4 MiB.
	LookupCacheBytes int
	// CacheEmptyLookups caches empty results too (Node's behaviour). Off by
	// default: a client started before its server would otherwise see
	// ErrLookupEmpty for a whole TTL after the server appeared.
	CacheEmptyLookups bool
	// Logger receives announce failures from StartAnnouncing loops.
	Logger zerolog.Logger
}

// DefaultConfig returns the defaults documented on Config, with one grape at
// http://127.0.0.1:30001 (the conventional first grape API port).
func DefaultConfig() Config {
	return Config{
		Grapes:          []string{"http://127.0.0.1:30001"},
		RequestTimeout:  2500 * time.Millisecond,
		LookupCacheTTL:  time.Second,
		LookupCacheSize: 2500,
		// Far above 2500 names of a few peers each (~1 MB), so only
		// oversized replies reach it.
		LookupCacheBytes: 4 << 20,
		Logger:           zerolog.Nop(),
	}
}

// configName is how errors name Config.
const configName = "link.Config"

// Validate checks every field; New calls it. The error is a
// *validate.FieldError naming the field and the values it allows. The
// package reads no environment: the binaries map their --grape flags and
// variables onto Grapes.
func (c Config) Validate() error {
	bad := func(field, value, allowed string) error {
		return &validate.FieldError{Config: configName, Field: field, Value: value, Allowed: allowed}
	}
	if len(c.Grapes) == 0 {
		return bad("Grapes", `""`, "at least one http(s)://host:port URL")
	}
	for _, g := range c.Grapes {
		u, err := url.Parse(g)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("Grapes", g, "http(s)://host:port URLs")
		}
	}
	if c.RequestTimeout <= 0 {
		return bad("RequestTimeout", c.RequestTimeout.String(), "above 0")
	}
	if err := validate.AtLeast(configName, "LookupCacheTTL", c.LookupCacheTTL, 0); err != nil {
		return err
	}
	if c.LookupCacheTTL > 0 && c.LookupCacheSize <= 0 {
		return bad("LookupCacheSize", fmt.Sprint(c.LookupCacheSize), "above 0 when the cache is on (LookupCacheTTL > 0)")
	}
	if c.LookupCacheTTL > 0 && c.LookupCacheBytes <= 0 {
		return bad("LookupCacheBytes", fmt.Sprint(c.LookupCacheBytes), "above 0 when the cache is on (LookupCacheTTL > 0)")
	}
	return nil
}

// trimGrapes drops trailing slashes so request URLs can be built by
// concatenation.
func trimGrapes(grapes []string) []string {
	out := make([]string, len(grapes))
	for i, g := range grapes {
		out[i] = strings.TrimRight(g, "/")
	}
	return out
}
