package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/bep44"
	"github.com/grenache-go/grenache/pkg/link"
)

// The grenache-cli subcommands: grenache-lookup, -announce, -put, -get and
// -keygen as `client lookup|announce|put|get|keygen`, against the grapes
// of --grape (CLIENT_GRAPE).

func lookupCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, pos, code := loadDHT("lookup", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	switch {
	case len(pos) != 1:
		fmt.Fprintf(stderr, "client lookup: want NAME, got %d argument(s)\n", len(pos))
		return exitSettings
	case s.All && s.First:
		fmt.Fprintln(stderr, "client lookup: --all and --first exclude each other: allowed one of them")
		return exitSettings
	}
	l, code := s.newLink("client lookup", stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	peers, err := l.Lookup(ctx, pos[0])
	if errors.Is(err, link.ErrLookupEmpty) {
		fmt.Fprintf(stderr, "client lookup: no peer announced as %q (%v)\n", pos[0], err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "client lookup: %v\n", err)
		return exitFailure
	}
	if s.First {
		peers = peers[:1]
	}
	for _, p := range peers {
		fmt.Fprintln(stdout, p)
	}
	return exitOK
}

// maxAnnounceNames bounds the names read from stdin: each one runs an
// announcing loop with --interval.
const maxAnnounceNames = 1024

func announceCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, pos, code := loadDHT("announce", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) != 2 {
		fmt.Fprintf(stderr, "client announce: want NAME PORT (NAME - reads names from stdin, one a line), got %d argument(s)\n", len(pos))
		return exitSettings
	}
	port, err := strconv.Atoi(pos[1])
	if err != nil || port < 0 || port > 65535 {
		fmt.Fprintf(stderr, "client announce: invalid PORT %q: allowed an integer in 0..65535 (0 = the grape's DHT port)\n", pos[1])
		return exitSettings
	}
	names := []string{pos[0]}
	if pos[0] == "-" {
		if names, err = readNames(stdin); err != nil {
			fmt.Fprintf(stderr, "client announce: stdin: %v\n", err)
			return exitSettings
		}
	}
	l, code := s.newLink("client announce", stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	// The first round is synchronous so a wrong grape or name fails loudly.
	failed := 0
	for _, name := range names {
		rctx, cancel := s.deadline(ctx)
		n, err := l.Announce(rctx, name, port)
		cancel()
		if err != nil {
			fmt.Fprintf(stderr, "client announce: %s %d: %v\n", name, port, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s %d %d\n", name, port, n)
	}
	if failed > 0 {
		return exitFailure
	}
	if s.Interval == 0 {
		return exitOK
	}
	for _, name := range names {
		l.StartAnnouncing(name, port, s.Interval)
	}
	<-ctx.Done() // SIGINT or SIGTERM; Close stops the loops
	return exitOK
}

// readNames reads service names from stdin, one a line, skipping blank lines.
func readNames(r io.Reader) ([]string, error) {
	var names []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name := strings.TrimSpace(sc.Text())
		if name == "" {
			continue
		}
		if len(names) == maxAnnounceNames {
			return nil, fmt.Errorf("more than %d names", maxAnnounceNames)
		}
		names = append(names, name)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, errors.New("no names (want one a line)")
	}
	return names, nil
}

func putCmd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, pos, code := loadDHT("put", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "client put: "+format+"\n", a...)
		return exitSettings
	}
	if !s.Mutable && (s.Salt != "" || s.Seq != -1 || s.Cas != -1) {
		return fail("--salt, --seq and --cas apply to --mutable puts only")
	}
	var value string
	switch {
	case s.File != "" && len(pos) == 0:
		v, err := readValue(s.File, stdin)
		if err != nil {
			return fail("--file %s: %v", s.File, err)
		}
		value = v
	case s.File == "" && len(pos) == 1:
		value = pos[0]
	default:
		return fail("want VALUE or --file FILE, got %d argument(s)%s", len(pos), map[bool]string{true: " and --file", false: ""}[s.File != ""])
	}
	if len(value) >= bep44.MaxValueLen {
		return fail("the value is %d bytes; BEP44 values must be under %d", len(value), bep44.MaxValueLen)
	}
	var key *bep44.Key
	if s.Mutable {
		path, err := keyFilePath(s, getenv)
		if err != nil {
			return fail("%v", err)
		}
		if key, err = readKeyFile(path); err != nil {
			return fail("--key (env CLIENT_KEY_FILE): %v; create one with `client keygen`", err)
		}
	}
	l, code := s.newLink("client put", stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	var target string
	var err error
	if key == nil {
		target, err = l.PutValue(ctx, value)
	} else {
		opts := link.MutableOptions{Salt: s.Salt, Seq: s.Seq}
		if opts.Seq == -1 {
			opts.Seq = time.Now().UnixMicro()
		}
		if s.Cas != -1 {
			opts.Cas = &s.Cas
		}
		target, err = l.PutMutable(ctx, key, value, opts)
	}
	if err != nil {
		fmt.Fprintf(stderr, "client put: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(stdout, target)
	return exitOK
}

// readValue reads a put value from a file or stdin ("-"), at most one byte
// more than BEP44 allows so an oversized file is reported, not loaded.
func readValue(path string, stdin io.Reader) (string, error) {
	r := stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, bep44.MaxValueLen))
	return string(b), err
}

func getCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, pos, code := loadDHT("get", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "client get: want HASH, got %d argument(s)\n", len(pos))
		return exitSettings
	}
	l, code := s.newLink("client get", stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	it, err := l.Get(ctx, pos[0], s.Salt)
	var ve *link.VerifyError
	switch {
	case errors.As(err, &ve):
		fmt.Fprintf(stderr, "client get: REJECTED: the grape's reply for %s failed the %s check: %s\n", ve.Target, ve.Check, ve.Detail)
		return exitFailure
	case errors.Is(err, link.ErrNotFound):
		fmt.Fprintf(stderr, "client get: no item at %s\n", pos[0])
		return exitFailure
	case err != nil:
		fmt.Fprintf(stderr, "client get: %v\n", err)
		return exitFailure
	}
	if s.Raw {
		fmt.Fprintf(stdout, "%s\n", strings.TrimSpace(string(it.Raw)))
		return exitOK
	}
	b, _ := json.Marshal(it.V)
	fmt.Fprintf(stdout, "%s\n", b)
	return exitOK
}

func keygenCmd(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	s, pos, code := loadDHT("keygen", args, getenv, stdout, stderr)
	if code >= 0 {
		return code
	}
	if len(pos) != 0 {
		fmt.Fprintf(stderr, "client keygen: takes no arguments (the file is --key), got %d\n", len(pos))
		return exitSettings
	}
	path, err := keyFilePath(s, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "client keygen: %v\n", err)
		return exitSettings
	}
	key, err := bep44.GenerateKey(nil)
	if err == nil {
		err = writeKeyFile(path, key, s.Force)
	}
	if err != nil {
		fmt.Fprintf(stderr, "client keygen: %v\n", err)
		return exitFailure
	}
	pub := key.PublicKey()
	fmt.Fprintf(stdout, "%x\n", pub)
	fmt.Fprintf(stderr, "client keygen: wrote %s (secret, mode 0600) and %s.pub\n", path, path)
	return exitOK
}
