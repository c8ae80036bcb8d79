package main

import (
	"context"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// --events prints Node's grape events on stdout as JSON lines, in order,
// and nothing else there; logs stay on stderr.
func TestEventsFlagPrintsJSONLines(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--dp", "0", "--aph", "0", "--bn", "", "-b", "127.0.0.1", "--log-format", "json", "--events"}, envOf(nil), &out, &logs)
	}()
	type line struct {
		Event, Node, Error string
		Time               time.Time
	}
	lines := func() []line {
		var ls []line
		for _, s := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if s == "" {
				continue
			}
			var l line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatalf("stdout line %q is not JSON: %v", s, err)
			}
			ls = append(ls, l)
		}
		return ls
	}
	waitFor := func(ev string) line {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			for _, l := range lines() {
				if l.Event == ev {
					return l
				}
			}
		}
		t.Fatalf("no %s line; stdout %q, logs %s", ev, out.String(), logs.String())
		return line{}
	}
	waitFor("ready")
	if ls := lines(); ls[0].Event != "listening" || ls[0].Time.IsZero() {
		t.Fatalf("first line %+v, want listening with a time", ls[0])
	}
	m := regexp.MustCompile(`"dht":"([0-9.:]+)"`).FindStringSubmatch(logs.String())
	if m == nil {
		t.Fatalf("no dht address in logs: %s", logs.String())
	}
	dhtAddr := strings.Replace(m[1], "0.0.0.0", "127.0.0.1", 1)
	c, err := net.Dial("udp", dhtAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if w := waitFor("warning"); w.Error == "" || w.Node != c.LocalAddr().String() {
		t.Fatalf("warning line %+v", w)
	}
	if strings.Contains(out.String(), `"level"`) {
		t.Fatalf("log lines on stdout: %s", out.String())
	}
	cancel()
	if c := <-code; c != 0 {
		t.Fatalf("exit %d", c)
	}
}

// Without --events stdout stays empty.
func TestNoEventsByDefault(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"--dp", "0", "--aph", "0", "--bn", "", "--log-format", "json"}, envOf(nil), &out, &logs)
	}()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(logs.String(), "grape running"); {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if c := <-code; c != 0 || out.String() != "" {
		t.Fatalf("exit %d, stdout %q", c, out.String())
	}
}
