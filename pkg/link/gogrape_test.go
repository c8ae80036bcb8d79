package link

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
)

// TestAgainstGoGrapes runs the link against a cluster of our own grapes,
// with failover from a stopped grape to a live one.
func TestAgainstGoGrapes(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	cfg := DefaultConfig()
	cfg.Grapes = []string{deadURL(t), gs[0].APIURL()}
	l1, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	cfg2 := DefaultConfig()
	cfg2.Grapes = []string{gs[2].APIURL()}
	l2, err := New(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()

	if n, err := l1.Announce(ctx, "link_go_svc", 5555); err != nil || n < 1 {
		t.Fatalf("announce: %d %v", n, err)
	}
	peers, err := l2.Lookup(ctx, "link_go_svc")
	if err != nil || len(peers) != 1 || peers[0] != "127.0.0.1:5555" {
		t.Fatalf("lookup: %v %v", peers, err)
	}
	if _, err := l2.Lookup(ctx, "link_go_unknown"); !errors.Is(err, ErrLookupEmpty) {
		t.Fatalf("unknown lookup: %v", err)
	}
	hash, err := l1.PutValue(ctx, "hello world")
	if err != nil || hash != "6d33adc2b6b2c14c3036feefb7fedbca1a880527" {
		t.Fatalf("put: %q %v", hash, err)
	}
	it, err := l2.Get(ctx, hash, "")
	if err != nil || it.V != "hello world" {
		t.Fatalf("get: %+v %v", it, err)
	}
	var ge *GrapeError
	if _, err := l2.Lookup(ctx, ""); !errors.As(err, &ge) || ge.Token != "ERR_GRAPE_LOOKUP" {
		t.Fatalf("empty name: %v", err)
	}
}

// TestStopAnnouncingAgainstGoGrapes: a service announcing through a link
// is gone from every Go grape's lookups right after StopAnnouncing (the
// link unannounces through every grape; each takes back what it stored).
func TestStopAnnouncingAgainstGoGrapes(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	cfg := DefaultConfig()
	for _, g := range gs {
		cfg.Grapes = append(cfg.Grapes, g.APIURL())
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const rec = `"127.0.0.1:5600"`
	l.StartAnnouncing("link_stop_svc", 5600, 50*time.Millisecond)
	deadline := time.Now().Add(10 * time.Second)
	for _, g := range gs {
		for {
			body, _ := grapetest.Call(g.APIURL(), "lookup", `"link_stop_svc"`)
			if strings.Contains(body, rec) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never returned the service: %s", g.APIURL(), body)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	start := time.Now()
	l.StopAnnouncing("link_stop_svc", 5600)
	took := time.Since(start)
	for _, g := range gs {
		if body, err := grapetest.Call(g.APIURL(), "lookup", `"link_stop_svc"`); err != nil || strings.Contains(body, rec) {
			t.Errorf("%s after StopAnnouncing (%v): %s %v", g.APIURL(), took, body, err)
		}
	}
	t.Logf("StopAnnouncing took %v", took)
}
