package gossip

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/test/nodeproc"
)

// Against the pinned Node reference: a Node PeerSub on the channel receives
// our hint messages as plain text frames, and a Node PeerPub sending its own
// payloads on the same channel is ignored (counted as rejected) while hints
// from another Go client still apply. Grape and link are real.
func TestNodeInterop(t *testing.T) {
	grape := nodeproc.StartGrape(t, nodeproc.FreeUDPPort(t), nodeproc.FreeTCPPort(t), nil)
	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{grape.APIURL()}
	lk, err := link.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() }) // after the gossipers' cleanups (LIFO)

	cfg := fastConfig(t, "go-a")
	cfg.PublishInterval = 200 * time.Millisecond
	a, err := New(cfg, "svc", lk, lk)
	if err != nil {
		t.Fatal(err)
	}
	startGossiper(t, a)
	const bad = "127.0.0.1:7001"
	observeFixed(t, a, peerStats(bad, 20, 10, client.Closed)) // a sees the bad peer fail

	waitFor(t, "the channel to be announced", func() bool {
		addrs, err := lk.Lookup(context.Background(), "svc:hints")
		return err == nil && len(addrs) == 1
	})

	// 1. Node PeerSub receives our frames and they decode as hints.
	sub := nodeproc.Start(t, "rpc/sub.js", grape.APIURL(), "svc:hints")
	if _, err := sub.WaitLine(`"connected":true`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	line, err := sub.WaitLine(bad, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Msg string }
	if err := json.Unmarshal([]byte(line), &got); err != nil {
		t.Fatalf("sub.js line %q: %v", line, err)
	}
	m, err := Decode([]byte(got.Msg), cfg.MaxFrameBytes(), cfg.MaxPeers)
	if err != nil {
		t.Fatalf("Node received %q, which does not decode: %v", got.Msg, err)
	}
	if m.Origin != "go-a" || len(m.Hints) != 1 || m.Hints[0].Peer != bad || m.Hints[0].State != Degraded {
		t.Fatalf("Node received %+v", m)
	}

	// 2. A Node PeerPub joins the channel with its own payloads.
	port := nodeproc.FreeTCPPort(t)
	pub := nodeproc.Start(t, "rpc/pub.js", grape.APIURL(), "svc:hints", strconv.Itoa(port), "50")
	if _, err := pub.WaitLine(`"ready":true`, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	// 3. And another Go client publishes real hints.
	b, err := New(fastConfig(t, "go-b"), "svc", lk, lk)
	if err != nil {
		t.Fatal(err)
	}
	observeFixed(t, b, peerStats("127.0.0.1:7002", 20, 0, client.Closed))
	startGossiper(t, b)

	waitFor(t, "Node frames rejected and go-b's hints applied at a", func() bool {
		s := a.Stats()
		return s.ByVerdict["malformed"] >= 5 && s.Applied >= 2
	})
	s := a.Stats()
	if s.Origins != 1 {
		t.Fatalf("a tracks %d origins, want only go-b: %+v", s.Origins, s)
	}
	if s.Rejected != s.ByVerdict["malformed"] {
		t.Fatalf("rejections other than malformed: %v", s.ByVerdict)
	}
}
