package grape_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// recorder drains a grape's Events channel until it closes.
type recorder struct {
	mu   sync.Mutex
	evs  []grape.Event
	done chan struct{}
}

func record(ch <-chan grape.Event) *recorder {
	r := &recorder{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for ev := range ch {
			r.mu.Lock()
			r.evs = append(r.evs, ev)
			r.mu.Unlock()
		}
	}()
	return r
}

func (r *recorder) all() []grape.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.evs)
}

// wait polls for an event of typ that ok accepts (10 s at most: a loaded
// host is slow, a missing event never comes).
func (r *recorder) wait(t *testing.T, typ grape.EventType, ok func(grape.Event) bool) grape.Event {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, ev := range r.all() {
			if ev.Type == typ && ok(ev) {
				return ev
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no %s event; got %+v", typ, r.all())
	return grape.Event{}
}

func anyEvent(grape.Event) bool { return true }

// Two real grapes report Node's events: listening first, then ready, node
// for each other, announce on the grape that stores an announcement, peer
// on the grape whose lookup finds one, warning for a bad datagram.
func TestGrapeEvents(t *testing.T) {
	gs := grapetest.Cluster(t, 2, grapetest.WithConfig(func(_ int, cfg *grape.Config) { cfg.EventBuffer = 1024 }))
	r0, r1 := record(gs[0].Events()), record(gs[1].Events())

	for _, r := range []*recorder{r0, r1} {
		r.wait(t, grape.EventReady, anyEvent)
		evs := r.all()
		if evs[0].Type != grape.EventListening || evs[0].Time.IsZero() {
			t.Fatalf("first event %+v, want listening with a time", evs[0])
		}
	}
	r0.wait(t, grape.EventNode, func(ev grape.Event) bool { return ev.Node == gs[1].DHTAddr().String() })
	r1.wait(t, grape.EventNode, func(ev grape.Event) bool { return ev.Node == gs[0].DHTAddr().String() })

	if _, err := grapetest.Call(gs[1].APIURL(), "announce", `["events:svc",4321]`); err != nil {
		t.Fatal(err)
	}
	ev := r0.wait(t, grape.EventAnnounce, func(ev grape.Event) bool { return ev.Name == "events:svc" })
	if ev.Peer != "127.0.0.1:4321" || ev.Node != gs[1].DHTAddr().String() {
		t.Fatalf("announce event %+v", ev)
	}
	if _, err := grapetest.Call(gs[1].APIURL(), "lookup", `"events:svc"`); err != nil {
		t.Fatal(err)
	}
	ev = r1.wait(t, grape.EventPeer, func(ev grape.Event) bool { return ev.Name == "events:svc" })
	if ev.Peer != "127.0.0.1:4321" || ev.Node != gs[0].DHTAddr().String() {
		t.Fatalf("peer event %+v", ev)
	}

	c, err := net.Dial("udp", gs[0].DHTAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("garbage")); err != nil {
		t.Fatal(err)
	}
	ev = r0.wait(t, grape.EventWarning, anyEvent)
	if ev.Error == "" || ev.Node != "127.0.0.1:"+strconv.Itoa(c.LocalAddr().(*net.UDPAddr).Port) {
		t.Fatalf("warning event %+v", ev)
	}
	if d := gs[0].EventsDropped(); d != 0 {
		t.Fatalf("%d events dropped with a reader and room for 1024", d)
	}
}

// Events are off by default; with a full buffer the grape drops and counts
// instead of waiting; the channel closes when Run returns.
func TestGrapeEventsBufferAndClose(t *testing.T) {
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.DHTPort, cfg.APIPort = "127.0.0.1", 0, 0
	off, err := grape.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if off.Events() != nil {
		t.Fatal("events on without EventBuffer")
	}
	_ = off.Close()

	cfg.EventBuffer = 1
	g, err := grape.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- g.Run(ctx) }()
	<-g.Ready() // no bootstrap: ready after one walk
	deadline := time.Now().Add(10 * time.Second)
	for g.EventsDropped() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // listening fills the buffer, ready is dropped
	}
	if g.EventsDropped() == 0 {
		t.Fatal("nothing dropped with a one-event buffer and no reader")
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	var got []grape.EventType
	for ev := range g.Events() { // ends: closed by Run
		got = append(got, ev.Type)
	}
	if !slices.Equal(got, []grape.EventType{grape.EventListening}) {
		t.Fatalf("buffered events %v, want [listening]", got)
	}
}

// EventBuffer out of range is refused, naming the field.
func TestGrapeEventBufferValidated(t *testing.T) {
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.DHTPort, cfg.APIPort = "127.0.0.1", 0, 0
	for _, n := range []int{-1, grape.MaxEventBuffer + 1} {
		cfg.EventBuffer = n
		if _, err := grape.New(cfg); err == nil || !strings.Contains(err.Error(), "EventBuffer") {
			t.Fatalf("EventBuffer %d: err %v", n, err)
		}
	}
}
