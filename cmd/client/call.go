package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/internal/version"
	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/link"
)

// boolFlags take no value, so the argument after them is positional.
var boolFlags = map[string]bool{"compress": true, "map": true, "retry-remote-errors": true, "h": true, "help": true, "version": true}

// splitArgs separates flags (with their values) from positional arguments,
// so "call --grape URL svc '{}'" and "call svc '{}' --map" both work.
func splitArgs(args []string) (flags, pos []string) { return splitArgsWith(args, boolFlags) }

// splitArgsWith is splitArgs with the given set of value-less flags.
func splitArgsWith(args []string, bools map[string]bool) (flags, pos []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(pos, args[i+1:]...)
		}
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") || bools[name] {
			continue
		}
		if i+1 < len(args) {
			flags = append(flags, args[i+1])
			i++
		}
	}
	return flags, pos
}

// load reads settings for a subcommand; code is -1 when the caller should go on.
func load(name string, args []string, getenv func(string) string, stdout, stderr io.Writer) (*settings, client.Config, int) {
	var s settings
	err := config.Load(&s, config.Source{Name: name, Args: args, Getenv: getenv, Stdout: stdout, Version: version.Line("client")})
	if errors.Is(err, config.ErrHelp) {
		fmt.Fprint(stdout, policyHelp())
		if name == "client run" {
			fmt.Fprint(stdout, gossipHelp())
		}
		return nil, client.Config{}, exitOK
	}
	if errors.Is(err, config.ErrVersion) {
		return nil, client.Config{}, exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, client.Config{}, exitSettings
	}
	cfg, err := s.toConfig()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, strings.TrimPrefix(err.Error(), errUsage.Error()+": "))
		return nil, client.Config{}, exitSettings
	}
	cfg.Logger = newLogger(s.LogLevel, stderr)
	return &s, cfg, -1
}

// newClient builds the link and the client; a bad grape URL is a settings error.
func newClient(name string, s *settings, cfg client.Config, stderr io.Writer) (*client.Client, *link.Link, int) {
	l, code := newLink(name, s, cfg, stderr)
	if code >= 0 {
		return nil, nil, code
	}
	c, err := client.New(l, cfg)
	if err != nil {
		_ = l.Close()
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return nil, nil, exitSettings
	}
	return c, l, -1
}

// newLink builds the link to the grapes of --grape.
func newLink(name string, s *settings, cfg client.Config, stderr io.Writer) (*link.Link, int) {
	lc := link.DefaultConfig()
	lc.Grapes = s.Grapes
	lc.Logger = cfg.Logger
	l, err := link.New(lc)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, grapeError(s.Grapes, err))
		return nil, exitSettings
	}
	return l, -1
}

func callCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags, pos := splitArgs(args)
	s, cfg, code := load("client call", flags, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	if s.Stream != "" {
		return streamCmd(ctx, s, cfg, pos, stdin, stdout, stderr)
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "client call: want SERVICE PAYLOAD_JSON, got %d argument(s)\n", len(pos))
		return exitSettings
	}
	service, payload := pos[0], json.RawMessage(pos[1])
	if !json.Valid(payload) {
		fmt.Fprintf(stderr, "client call: PAYLOAD_JSON is not valid JSON: %s\n", pos[1])
		return exitSettings
	}
	c, l, code := newClient("client call", s, cfg, stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	defer c.Close()
	var out any
	var err error
	if s.Map {
		var res []json.RawMessage
		res, err = c.Map(ctx, service, payload)
		if res == nil {
			res = []json.RawMessage{}
		}
		out = res
	} else {
		out, err = c.Request(ctx, service, payload)
	}
	if err != nil {
		fmt.Fprintf(stderr, "client call: %v\n", err)
		return exitFailure
	}
	b, err := json.Marshal(out)
	if err != nil {
		fmt.Fprintf(stderr, "client call: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}
