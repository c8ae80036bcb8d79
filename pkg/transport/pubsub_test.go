package transport

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// mutableResolver is a Resolver whose answer the test changes over time.
type mutableResolver struct {
	mu    sync.Mutex
	addrs []string
}

func (r *mutableResolver) Lookup(context.Context, string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.addrs...), nil
}

func (r *mutableResolver) set(a ...string) {
	r.mu.Lock()
	r.addrs = a
	r.mu.Unlock()
}

// startPublisher serves a Publisher with the default config on addr
// ("127.0.0.1:0" for a free port) and returns its address and a stop func
// (also run at cleanup).
func startPublisher(t *testing.T, addr string) (string, *Publisher, func()) {
	t.Helper()
	return startPublisherWith(t, addr, PublisherConfig{})
}

// startPublisherWith is startPublisher with cfg.
func startPublisherWith(t *testing.T, addr string, cfg PublisherConfig) (string, *Publisher, func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // a just-freed port can take a moment to be reusable
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- p.Serve(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = p.Shutdown(ctx)
			<-done
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), p, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// newTestSubscriber subscribes to "gossip" with fast lookups and
// reconnects, closing at cleanup.
func newTestSubscriber(t *testing.T, r Resolver) *Subscriber {
	return newTestSubscriberWith(t, r, SubscriberConfig{})
}

// newTestSubscriberWith is newTestSubscriber with cfg; its zero lookup and
// backoff fields take the test's fast values, not the defaults.
func newTestSubscriberWith(t *testing.T, r Resolver, cfg SubscriberConfig) *Subscriber {
	orDefault(&cfg.LookupInterval, 50*time.Millisecond)
	orDefault(&cfg.ReconnectBackoffMin, 10*time.Millisecond)
	orDefault(&cfg.ReconnectBackoffMax, 100*time.Millisecond)
	s, err := NewSubscriber(r, "gossip", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// receiveFrom publishes on each publisher until the subscriber has seen a
// message from each of them (publishing before the socket is up is lost by
// design: at-most-once to whoever is connected).
func receiveFrom(t *testing.T, s *Subscriber, pubs map[string]*Publisher) {
	t.Helper()
	seen := map[string]bool{}
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for len(seen) < len(pubs) {
		select {
		case m, ok := <-s.Messages():
			if !ok {
				t.Fatal("Messages closed")
			}
			if want := fmt.Sprintf(`{"from":%q}`, m.From); string(m.Data) != want {
				t.Fatalf("message %s from %s, want %s", m.Data, m.From, want)
			}
			seen[m.From] = true
		case <-tick.C:
			for addr, p := range pubs {
				p.Publish([]byte(fmt.Sprintf(`{"from":%q}`, addr)))
			}
		case <-deadline:
			t.Fatalf("only heard from %v of %d publishers", seen, len(pubs))
		}
	}
}

func TestPubSubFanInFromTwoPublishers(t *testing.T) {
	a1, p1, _ := startPublisher(t, "127.0.0.1:0")
	a2, p2, _ := startPublisher(t, "127.0.0.1:0")
	s := newTestSubscriber(t, &mutableResolver{addrs: []string{a1, a2}})
	receiveFrom(t, s, map[string]*Publisher{a1: p1, a2: p2})
	waitFor(t, "both sockets", func() bool { return len(s.Connected()) == 2 })
}

func TestPubSubRawFramesAndSilentSubscriber(t *testing.T) {
	addr, p, _ := startPublisher(t, "127.0.0.1:0")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitFor(t, "subscriber registered", func() bool { return p.Subscribers() == 1 })
	p.Publish([]byte(`{"n":3,"hint":"gossip"}`))
	typ, msg, err := ws.Read(ctx)
	if err != nil || typ != websocket.MessageText || string(msg) != `{"n":3,"hint":"gossip"}` {
		t.Fatalf("frame %v %q %v", typ, msg, err)
	}
}

func TestPubSubDiscoversNewPublishers(t *testing.T) {
	a1, p1, _ := startPublisher(t, "127.0.0.1:0")
	r := &mutableResolver{addrs: []string{a1}}
	s := newTestSubscriber(t, r)
	receiveFrom(t, s, map[string]*Publisher{a1: p1})
	a2, p2, _ := startPublisher(t, "127.0.0.1:0")
	r.set(a1, a2)
	receiveFrom(t, s, map[string]*Publisher{a1: p1, a2: p2})
}

func TestPubSubReconnectsAfterPublisherRestart(t *testing.T) {
	addr, p, stop := startPublisher(t, "127.0.0.1:0")
	s := newTestSubscriber(t, &mutableResolver{addrs: []string{addr}})
	receiveFrom(t, s, map[string]*Publisher{addr: p})
	stop()
	waitFor(t, "disconnect noticed", func() bool { return len(s.Connected()) == 0 })
	_, p2, _ := startPublisher(t, addr) // same address, new process-equivalent
	receiveFrom(t, s, map[string]*Publisher{addr: p2})
}

func TestPubSubStopsRedialingVanishedPublisher(t *testing.T) {
	addr, p, stop := startPublisher(t, "127.0.0.1:0")
	r := &mutableResolver{addrs: []string{addr}}
	s := newTestSubscriber(t, r)
	receiveFrom(t, s, map[string]*Publisher{addr: p})
	r.set()
	time.Sleep(120 * time.Millisecond) // at least one lookup sees it gone
	stop()
	waitFor(t, "connection loop retired", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.pubs) == 0
	})
}

func TestPubSubSlowSubscriberDroppedOthersUnaffected(t *testing.T) {
	addr, p, _ := startPublisherWith(t, "127.0.0.1:0", PublisherConfig{QueueSize: 4, WriteTimeout: 200 * time.Millisecond})
	// A subscriber that never reads: its TCP buffers fill, then its queue.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slow, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.CloseNow()
	good := newTestSubscriberWith(t, &mutableResolver{addrs: []string{addr}}, SubscriberConfig{MessageBuffer: 4096})
	waitFor(t, "two subscribers", func() bool { return p.Subscribers() == 2 })

	big := bytes.Repeat([]byte("x"), 64<<10)
	const n = 400 // 25 MiB in total: far beyond loopback socket buffers
	start := time.Now()
	for i := range n {
		msg := append([]byte(fmt.Sprintf("%05d", i)), big...)
		p.Publish(msg) // must never block on the slow subscriber
		// The good subscriber reads each message before the next is sent,
		// so it is never the slow one: it must get every message, in order,
		// on the same connection, while the slow one's queue overflows.
		select {
		case m := <-good.Messages():
			if !bytes.Equal(m.Data[:5], msg[:5]) {
				t.Fatalf("good subscriber got message %q, want %q", m.Data[:5], msg[:5])
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("good subscriber did not get message %d: the slow one held it up", i)
		}
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("publishing took %v: Publish blocked", d)
	}
	waitFor(t, "slow subscriber dropped", func() bool { return p.Dropped() >= 1 && p.Subscribers() == 1 })
	p.Publish([]byte("last"))
	select {
	case m := <-good.Messages():
		if string(m.Data) != "last" {
			t.Fatalf("after the slow subscriber was dropped the good one got %q", m.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("good subscriber starved after the slow one was dropped")
	}
}

func TestSubscriberCloseClosesMessages(t *testing.T) {
	addr, p, _ := startPublisher(t, "127.0.0.1:0")
	s, err := NewSubscriber(&mutableResolver{addrs: []string{addr}}, "gossip", SubscriberConfig{LookupInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	receiveFrom(t, s, map[string]*Publisher{addr: p})
	_ = s.Close()
	for range s.Messages() {
	}
	_ = s.Close() // idempotent
}

func TestPubSubOverTLS(t *testing.T) {
	pki := newTestPKI(t)
	addr, p, _ := startPublisherWith(t, "127.0.0.1:0", PublisherConfig{TLS: &tlsConfig{Certificates: []tlsCert{pki.server}}})
	s := newTestSubscriberWith(t, &mutableResolver{addrs: []string{addr}}, SubscriberConfig{TLS: &tlsConfig{RootCAs: pki.pool}})
	receiveFrom(t, s, map[string]*Publisher{addr: p})
}
