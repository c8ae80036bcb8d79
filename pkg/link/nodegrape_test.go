package link

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/test/nodeproc"
)

// startNodeGrapes starts two pinned Node grapes bootstrapped at each other
// and returns their API URLs.
func startNodeGrapes(t *testing.T) (string, string) {
	t.Helper()
	d1, d2 := nodeproc.FreeUDPPort(t), nodeproc.FreeUDPPort(t)
	a1, a2 := nodeproc.FreeTCPPort(t), nodeproc.FreeTCPPort(t)
	g1 := nodeproc.StartGrape(t, d1, a1, []string{"127.0.0.1:" + strconv.Itoa(d2)})
	g2 := nodeproc.StartGrape(t, d2, a2, []string{"127.0.0.1:" + strconv.Itoa(d1)})
	return g1.APIURL(), g2.APIURL()
}

func TestAgainstNodeGrapes(t *testing.T) {
	u1, u2 := startNodeGrapes(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// A dead first URL exercises failover against real grapes too.
	c1 := DefaultConfig()
	c1.Grapes = []string{deadURL(t), u1}
	l1, err := New(c1)
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	c2 := DefaultConfig()
	c2.Grapes = []string{u2}
	l2, err := New(c2)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()

	if _, err := l2.Lookup(ctx, "link_test_svc"); !errors.Is(err, ErrLookupEmpty) {
		t.Fatalf("lookup before announce: %v", err)
	}
	// The Node grapes may still be joining; announce until one node acks.
	var n int
	for {
		n, err = l1.Announce(ctx, "link_test_svc", 4567)
		if err == nil {
			break
		}
		var ge *GrapeError
		if !errors.As(err, &ge) || ctx.Err() != nil {
			t.Fatalf("announce: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n < 1 {
		t.Fatalf("announce acked by %d nodes", n)
	}
	peers, err := l2.Lookup(ctx, "link_test_svc")
	if err != nil || len(peers) != 1 || peers[0] != "127.0.0.1:4567" {
		t.Fatalf("lookup on the other grape: %v %v", peers, err)
	}

	_, err = l2.Lookup(ctx, "")
	var ge *GrapeError
	if !errors.As(err, &ge) || ge.Token != "ERR_GRAPE_LOOKUP" {
		t.Fatalf("empty-name lookup: %v", err)
	}

	hash, err := l1.PutValue(ctx, "hello world")
	if err != nil || hash != "6d33adc2b6b2c14c3036feefb7fedbca1a880527" {
		t.Fatalf("put: %q %v", hash, err)
	}
	it, err := l2.Get(ctx, hash, "")
	if err != nil || it.V != "hello world" || len(it.ID) != 40 {
		t.Fatalf("get: %+v %v", it, err)
	}
	if _, err := l2.Get(ctx, strings.Repeat("0", 39)+"1", ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get unknown: %v", err)
	}
	_, err = l1.Put(ctx, map[string]int{"x": 1})
	if !errors.As(err, &ge) || ge.Token != "opts.v not given" {
		t.Fatalf("bad put: %v", err)
	}
}

func TestStartAnnouncingVisibleOnNodeGrape(t *testing.T) {
	u1, u2 := startNodeGrapes(t)
	c1 := DefaultConfig()
	c1.Grapes = []string{u1}
	l1, err := New(c1)
	if err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	c2 := DefaultConfig()
	c2.Grapes = []string{u2}
	c2.LookupCacheTTL = 0
	l2, err := New(c2)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	l1.StartAnnouncing("link_loop_svc", 4568, 100*time.Millisecond)
	deadline := time.Now().Add(15 * time.Second)
	for {
		peers, err := l2.Lookup(context.Background(), "link_loop_svc")
		if err == nil && len(peers) == 1 && peers[0] == "127.0.0.1:4568" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("announced service never visible: %v %v", peers, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
