package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// startStreamServer serves the sha256 stream handler on loopback.
func startStreamServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := transport.NewHTTPServer(func(context.Context, string, json.RawMessage) (any, error) { return nil, nil },
		transport.HTTPServerConfig{StreamHandler: func(ctx context.Context, req *transport.StreamRequest, w io.Writer) error {
			h := sha256.New()
			if _, err := io.Copy(h, req.Body); err != nil {
				return err
			}
			return req.Reply(w, hex.EncodeToString(h.Sum(nil)), nil)
		}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-done
	})
	return ln.Addr().String()
}

type attemptLog struct {
	mu sync.Mutex
	ev []AttemptEvent
}

func (l *attemptLog) add(e AttemptEvent) { l.mu.Lock(); l.ev = append(l.ev, e); l.mu.Unlock() }
func (l *attemptLog) all() []AttemptEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]AttemptEvent(nil), l.ev...)
}

// TestStreamRetriesBeforeBodyOnly: a dead peer (refused before any body
// byte was read) is retried on the live one, and both outcomes are
// recorded; the stream's success is recorded when its reply hits EOF.
func TestStreamRetriesBeforeBodyOnly(t *testing.T) {
	live := startStreamServer(t)
	dead := deadServerAddr(t)
	var log attemptLog
	c := newTestClient(t, []string{dead, live}, func(cfg *Config) {
		cfg.Hooks.OnAttempt = log.add
		cfg.MaxRetries = 2
		cfg.RetryDelay = time.Millisecond
		cfg.Strategy = StrategyRoundRobin // the dead peer is picked first in one of the first two streams
	})
	for range 4 {
		rep, err := c.Stream(context.Background(), "svc", StreamOptions{Action: "sha256", Body: strings.NewReader("hello")})
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rep)
		_ = rep.Close()
		sum := sha256.Sum256([]byte("hello"))
		if err != nil || !strings.HasSuffix(string(b), `,null,"`+hex.EncodeToString(sum[:])+`"]`) {
			t.Fatalf("reply %q, %v", b, err)
		}
	}
	var okLive, failDead int
	for _, e := range log.all() {
		switch {
		case e.Addr == live && e.Outcome == Success:
			okLive++
		case e.Addr == dead && e.Outcome == TransportError:
			failDead++
		default:
			t.Errorf("unexpected attempt %+v", e)
		}
	}
	if okLive != 4 || failDead < 1 {
		t.Fatalf("%d successes recorded on the live peer (want 4), %d failures on the dead one (want ≥ 1)", okLive, failDead)
	}
}

// TestStreamNoRetryAfterBodyStarted: a peer that fails the exchange after
// reading part of the body is not retried (the bytes are gone).
func TestStreamNoRetryAfterBodyStarted(t *testing.T) {
	// Two servers that read a little and then drop the connection: a
	// retry, if there were one, would go to the other.
	a, b := dropServer(t), dropServer(t)
	var log attemptLog
	c := newTestClient(t, []string{a, b}, func(cfg *Config) {
		cfg.Hooks.OnAttempt = log.add
		cfg.MaxRetries = 3
	})
	pr, pw := io.Pipe()
	go func() {
		defer pw.Close()
		for range 64 {
			if _, err := pw.Write(make([]byte, 4096)); err != nil {
				return
			}
		}
	}()
	defer pr.Close()
	rep, err := c.Stream(context.Background(), "svc", StreamOptions{Body: pr})
	if err == nil {
		_, err = io.ReadAll(rep)
		_ = rep.Close()
	}
	if !errors.Is(err, transport.ErrTransport) {
		t.Fatalf("err %v, want ErrTransport", err)
	}
	if n := len(log.all()); n != 1 {
		t.Fatalf("%d attempts recorded, want 1 (no retry once the body started)", n)
	}
}

func dropServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 1024)
			_, _ = conn.Read(buf)
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func deadServerAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	_ = ln.Close()
	return a
}

// TestStreamEarlyCloseCountsAgainstNobody: a caller closing the reply
// before EOF records Canceled, not a failure of the peer.
func TestStreamEarlyCloseCountsAgainstNobody(t *testing.T) {
	var log attemptLog
	c := newTestClient(t, []string{startStreamServer(t)}, func(cfg *Config) { cfg.Hooks.OnAttempt = log.add })
	rep, err := c.Stream(context.Background(), "svc", StreamOptions{Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	if len(log.all()) != 0 {
		t.Fatalf("outcome recorded before the stream ended: %+v", log.all())
	}
	_ = rep.Close()
	_ = rep.Close()
	if ev := log.all(); len(ev) != 1 || ev[0].Outcome != Canceled {
		t.Fatalf("recorded %+v, want one Canceled", ev)
	}
}
