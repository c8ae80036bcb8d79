package grape

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
)

// EventType is the name of a grape event, as grenache-grape emits it.
type EventType string

// The events of a grape, with the names and moments of Node's Grape.
const (
	// EventListening: the grape serves (its sockets are bound); the first event.
	EventListening EventType = "listening"
	// EventReady: the DHT joined (Ready closed): Node's "ready".
	EventReady EventType = "ready"
	// EventAnnounce: this grape's DHT node stored an announce_peer (a
	// refresh too). Name is the service, Peer the stored ip:port, Node the
	// announcing node.
	EventAnnounce EventType = "announce"
	// EventNode: a DHT node entered the routing table. Node is its address.
	EventNode EventType = "node"
	// EventPeer: a lookup's get_peers reply carried a peer. Name is the
	// service, Peer the ip:port, Node the node that answered.
	EventPeer EventType = "peer"
	// EventWarning: a datagram the DHT could not use. Error says why,
	// Node is its sender.
	EventWarning EventType = "warning"
)

// Event is one grape event. The JSON form is what `grape --events` prints,
// one object a line.
type Event struct {
	Type  EventType `json:"event"`
	Time  time.Time `json:"time"`
	Name  string    `json:"name,omitempty"`
	Peer  string    `json:"peer,omitempty"`
	Node  string    `json:"node,omitempty"`
	Error string    `json:"error,omitempty"`
}

// MaxEventBuffer bounds Config.EventBuffer.
const MaxEventBuffer = 1 << 16

// eventStream hands events to a bounded channel. It never blocks the grape:
// an event that does not fit (the reader is slow) is dropped and counted.
type eventStream struct {
	now     func() time.Time
	mu      sync.Mutex // orders send against close
	ch      chan Event // nil when events are off
	closed  bool
	dropped atomic.Uint64
}

func newEventStream(size int, now func() time.Time) *eventStream {
	e := &eventStream{now: now}
	if size > 0 {
		e.ch = make(chan Event, size)
	}
	return e
}

func (e *eventStream) send(ev Event) {
	if e.ch == nil {
		return
	}
	ev.Time = e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	select {
	case e.ch <- ev:
	default:
		e.dropped.Add(1)
	}
}

// fromDHT is the DHT node's OnEvent hook.
func (e *eventStream) fromDHT(d dht.Event) {
	if e.ch == nil {
		return
	}
	ev := Event{Type: EventType(d.Type), Name: d.Key, Error: d.Err}
	if d.Peer.IsValid() {
		ev.Peer = d.Peer.String()
	}
	if d.Addr.IsValid() {
		ev.Node = d.Addr.String()
	}
	e.send(ev)
}

// close ends the stream once the DHT can report nothing more.
func (e *eventStream) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed && e.ch != nil {
		close(e.ch)
	}
	e.closed = true
}

// Events is the grape's event stream (Node's Grape events), or nil when
// Config.EventBuffer is 0. It is closed when Run returns (or by Close if
// Run never ran). Events a slow reader has no room for are dropped and
// counted by EventsDropped; the grape never waits for the reader.
func (g *Grape) Events() <-chan Event { return g.events.ch }

// EventsDropped is how many events found the Events buffer full.
func (g *Grape) EventsDropped() uint64 { return g.events.dropped.Load() }

// watchReady emits EventReady when the DHT joins, unless the grape stops
// first; Run waits for it.
func (g *Grape) watchReady(stop <-chan struct{}) {
	select {
	case <-g.node.Ready():
		select {
		case <-stop: // Ready also closes when the node closes
		default:
			g.events.send(Event{Type: EventReady})
		}
	case <-stop:
	}
}
