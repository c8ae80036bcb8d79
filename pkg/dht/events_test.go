package dht

import (
	"context"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// eventLog collects a node's events for a test.
type eventLog struct {
	mu  sync.Mutex
	evs []Event
}

func (l *eventLog) add(ev Event) {
	l.mu.Lock()
	l.evs = append(l.evs, ev)
	l.mu.Unlock()
}

// of returns the events of type typ seen so far.
func (l *eventLog) of(typ EventType) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, ev := range l.evs {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// wait polls until some event of typ satisfies ok (5 s at most).
func (l *eventLog) wait(t *testing.T, typ EventType, ok func(Event) bool) Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if i := slices.IndexFunc(l.of(typ), ok); i >= 0 {
			return l.of(typ)[i]
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s event came; events: %+v", typ, l.of(typ))
	return Event{}
}

// Each event fires where bittorrent-dht emits it: node when a node enters
// the table, announce for every stored announce_peer (refreshes too), peer
// for each value a get_peers reply carries, warning for a datagram that
// cannot be used.
func TestEvents(t *testing.T) {
	var la, lb eventLog
	cfgA := testConfig()
	cfgA.OnEvent = la.add
	a := startNode(t, cfgA)
	cfgB := testConfig(a.Addr().String())
	cfgB.OnEvent = lb.add
	b := startNode(t, cfgB)
	waitReady(t, a)
	waitReady(t, b)

	lb.wait(t, EventNode, func(ev Event) bool { return ev.Addr == a.Addr() })
	la.wait(t, EventNode, func(ev Event) bool { return ev.Addr == b.Addr() })
	if n := len(la.of(EventNode)); n != 1 {
		t.Fatalf("a saw %d node events for one node, want 1 (refreshes must not count)", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i := 0; i < 2; i++ {
		if n, err := b.Announce(ctx, []byte("svc:ev"), 4000); err != nil || n != 1 {
			t.Fatalf("announce: %d %v", n, err)
		}
	}
	anns := la.of(EventAnnounce)
	if len(anns) != 2 {
		t.Fatalf("a saw %d announce events for two announce_peer, want 2: %+v", len(anns), anns)
	}
	if ev := anns[0]; ev.Key != "svc:ev" || ev.Peer.Port() != 4000 || ev.Addr != b.Addr() {
		t.Fatalf("announce event %+v", ev)
	}

	if _, err := b.Lookup(ctx, []byte("svc:ev")); err != nil {
		t.Fatal(err)
	}
	ev := lb.wait(t, EventPeer, func(ev Event) bool { return ev.Key == "svc:ev" })
	if ev.Peer.Port() != 4000 || ev.Addr != a.Addr() {
		t.Fatalf("peer event %+v", ev)
	}

	c, err := net.Dial("udp", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("not bencode")); err != nil {
		t.Fatal(err)
	}
	ev = la.wait(t, EventWarning, func(Event) bool { return true })
	if ev.Err == "" || ev.Addr.Port() != uint16(c.LocalAddr().(*net.UDPAddr).Port) {
		t.Fatalf("warning event %+v", ev)
	}
}
