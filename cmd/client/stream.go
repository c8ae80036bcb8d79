package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/grenache-go/grenache/client"
)

// streamCmd is "client call --stream FILE SERVICE": FILE (or stdin for -)
// is streamed as the body of a streamed request, never read whole, and
// the reply is copied to stdout as it arrives.
func streamCmd(ctx context.Context, s *settings, cfg client.Config, pos []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(pos) != 1 {
		fmt.Fprintf(stderr, "client call --stream FILE: want SERVICE, got %d argument(s)\n", len(pos))
		return exitSettings
	}
	var args any
	if s.StreamArgs != "" {
		if !json.Valid([]byte(s.StreamArgs)) {
			fmt.Fprintf(stderr, "client call: invalid value %q for --args (env CLIENT_STREAM_ARGS): allowed any JSON value\n", s.StreamArgs)
			return exitSettings
		}
		args = json.RawMessage(s.StreamArgs)
	}
	body := stdin
	if s.Stream != "-" {
		f, err := os.Open(s.Stream)
		if err != nil {
			fmt.Fprintf(stderr, "client call: invalid value %q for --stream (env CLIENT_STREAM): %v; allowed a readable file or - for stdin\n", s.Stream, err)
			return exitSettings
		}
		defer f.Close()
		body = f
	}
	c, l, code := newClient("client call", s, cfg, stderr)
	if code >= 0 {
		return code
	}
	defer l.Close()
	defer c.Close()
	rep, err := c.Stream(ctx, pos[0], client.StreamOptions{Action: s.StreamAction, Args: args, Body: body})
	if err != nil {
		fmt.Fprintf(stderr, "client call: %v\n", err)
		return exitFailure
	}
	defer rep.Close()
	tail := &lastByte{w: stdout}
	if _, err := io.Copy(tail, rep); err != nil {
		fmt.Fprintf(stderr, "client call: reply: %v\n", err)
		return exitFailure
	}
	if tail.last != '\n' && tail.n > 0 {
		fmt.Fprintln(stdout)
	}
	return exitOK
}

// lastByte remembers the last byte written, to end the output with one newline.
type lastByte struct {
	w    io.Writer
	n    int64
	last byte
}

func (l *lastByte) Write(p []byte) (int, error) {
	if len(p) > 0 {
		l.last = p[len(p)-1]
		l.n += int64(len(p))
	}
	return l.w.Write(p)
}
