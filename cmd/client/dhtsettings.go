package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/link"
)

// dhtSettings are the settings of the grenache-cli style subcommands
// (lookup, announce, put, get, keygen), loaded by pkg/config like the
// settings of call and run. Flags a subcommand does not use are refused
// (dhtFlags), so a misplaced --raw or --salt is not silently ignored.
type dhtSettings struct {
	SharedSettings
	KeyFile string `env:"CLIENT_KEY_FILE" flag:"key" usage:"put --mutable, keygen: ed25519 secret key file in grenache-cli's format, public key in FILE.pub (empty = $HOME/.grenache-cli/key)"`

	All      bool          `envDefault:"false" flag:"all" usage:"lookup: print every peer, one per line (the default)"`
	First    bool          `envDefault:"false" flag:"first" usage:"lookup: print only the first peer the grape returned (its order is random)"`
	Interval time.Duration `flag:"interval" envDefault:"0" allowed:"0..86400000" usage:"announce: announce again about every interval (0.5-1.5x, like Node's link) until SIGINT/SIGTERM; 0 = once"`
	File     string        `flag:"file" usage:"put: read the value from this file (- = stdin) instead of the VALUE argument"`
	Mutable  bool          `envDefault:"false" flag:"mutable" usage:"put: store a signed mutable item (key from --key)"`
	Salt     string        `flag:"salt" usage:"put --mutable, get: BEP44 salt (UTF-8, at most 64 bytes)"`
	Seq      int64         `flag:"seq" envDefault:"-1" allowed:"-1..9007199254740992" usage:"put --mutable: sequence number (-1 = the current time in microseconds, like grenache-put)"`
	Cas      int64         `flag:"cas" envDefault:"-1" allowed:"-1..9007199254740992" usage:"put --mutable: only replace the item stored with this seq (-1 = no check)"`
	Raw      bool          `envDefault:"false" flag:"raw" usage:"get: print the grape's reply as it came (after verifying it) instead of the value"`
	Force    bool          `envDefault:"false" flag:"force" usage:"keygen: overwrite an existing key file"`
}

// dhtFlags lists the flags each subcommand accepts beyond the common ones.
var dhtFlags = map[string][]string{
	"lookup":   {"all", "first"},
	"announce": {"interval"},
	"put":      {"file", "mutable", "key", "salt", "seq", "cas"},
	"get":      {"salt", "raw"},
	"keygen":   {"key", "force"},
}

// dhtBoolFlags take no value (for splitArgs).
var dhtBoolFlags = map[string]bool{"all": true, "first": true, "mutable": true, "raw": true, "force": true, "h": true, "help": true}

// commonDHTFlags are accepted by every one of these subcommands.
var commonDHTFlags = []string{"grape", "timeout", "log-level", "h", "help"}

// loadDHT parses the arguments of subcommand sub; code is -1 when the
// caller should go on.
func loadDHT(sub string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*dhtSettings, []string, int) {
	name := "client " + sub
	flags, pos := splitArgsWith(args, dhtBoolFlags)
	for i := 0; i < len(flags); i++ {
		f := flags[i]
		n, _, hasValue := strings.Cut(strings.TrimLeft(f, "-"), "=")
		if !hasValue && !dhtBoolFlags[n] {
			i++ // skip the flag's value, which may start with '-' ("--seq -1")
		}
		if !contains(commonDHTFlags, n) && !contains(dhtFlags[sub], n) {
			fmt.Fprintf(stderr, "%s: flag %s does not apply to %s; allowed --%s\n", name, f, sub,
				strings.Join(append(append([]string{}, commonDHTFlags[:3]...), dhtFlags[sub]...), ", --"))
			return nil, nil, exitSettings
		}
	}
	var s dhtSettings
	err := config.Load(&s, config.Source{Name: name, Args: flags, Getenv: getenv, Stdout: stdout})
	if errors.Is(err, config.ErrHelp) {
		return nil, nil, exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, nil, exitSettings
	}
	return &s, pos, -1
}

// newLink builds the link of a one-shot subcommand; a bad URL is a settings error.
func (s *dhtSettings) newLink(name string, stderr io.Writer) (*link.Link, int) {
	lc := link.DefaultConfig()
	lc.Grapes = s.Grapes
	lc.LookupCacheTTL = 0 // one lookup per process: nothing to cache
	lc.Logger = newLogger(s.LogLevel, stderr)
	l, err := link.New(lc)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, grapeError(s.Grapes, err))
		return nil, exitSettings
	}
	return l, -1
}

// deadline bounds a one-shot command by --timeout.
func (s *dhtSettings) deadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.Timeout)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
