package transport

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// A reader that does not read: publishers send maximum-size frames (1 MiB,
// the read limit) and the subscriber parks at most SubscriberConfig.MessageBufferBytes of
// them, dropping and counting the rest; after draining, new messages flow
// again.
func TestSubscriberBufferByteBudget(t *testing.T) {
	const budget, frames = 4 << 20, 24
	addr, p, _ := startPublisher(t, "127.0.0.1:0")
	s := newTestSubscriberWith(t, &mutableResolver{addrs: []string{addr}}, SubscriberConfig{MessageBufferBytes: budget})
	waitFor(t, "subscriber connected", func() bool { return p.Subscribers() == 1 })
	frame := bytes.Repeat([]byte("f"), maxFrameBytes)
	for range frames {
		p.Publish(frame)
	}
	waitFor(t, "every frame buffered or dropped", func() bool { return int(s.Dropped())+len(s.Messages()) == frames })
	held := 0
	for len(s.Messages()) > 0 {
		m := <-s.Messages()
		held += len(m.Data) + len(m.From)
	}
	if held > budget || held == 0 {
		t.Fatalf("the buffer held %d bytes, budget %d", held, budget)
	}
	t.Logf("%d bytes buffered, %d frames dropped", held, s.Dropped())
	// Drained: the budget is free again.
	p.Publish([]byte("after"))
	select {
	case m := <-s.Messages():
		if string(m.Data) != "after" {
			t.Fatalf("got %q", m.Data)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no message after draining")
	}
}

// Lookups are remote input: a resolver answering ever new publishers, or
// absurdly long addresses, cannot grow the publisher table (and its
// goroutines and sockets) past SubscriberConfig.MaxPublishers. The addresses are closed
// loopback ports, so every dial is refused at once.
func TestSubscriberPublisherTableBounded(t *testing.T) {
	var closed []string
	for range 40 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed = append(closed, ln.Addr().String())
		ln.Close()
	}
	r := &mutableResolver{addrs: append([]string{"127.0.0.1:" + strings.Repeat("9", maxPublisherAddr)}, closed[:20]...)}
	s := newTestSubscriberWith(t, r, SubscriberConfig{MaxPublishers: 8})
	tracked := func() (n, bytes int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for a := range s.pubs {
			n++
			bytes += len(a)
		}
		return n, bytes
	}
	waitFor(t, "lookups tracked", func() bool { n, _ := tracked(); return n == 8 })
	r.set(closed[20:]...)              // new publishers every lookup
	time.Sleep(200 * time.Millisecond) // four lookups
	if n, b := tracked(); n > 8 || b > 8*maxPublisherAddr {
		t.Fatalf("%d publishers, %d address bytes tracked; bound 8", n, b)
	}
	s.mu.Lock()
	for a := range s.pubs {
		if len(a) > maxPublisherAddr {
			t.Errorf("over-long address tracked (%d bytes)", len(a))
		}
	}
	s.mu.Unlock()
}

// A publisher serves at most PublisherConfig.MaxSubscribers; the next one is refused
// with 1013 and counted, and a slot freed is usable again.
func TestPublisherMaxSubscribers(t *testing.T) {
	addr, p, _ := startPublisherWith(t, "127.0.0.1:0", PublisherConfig{MaxSubscribers: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		c, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := dial(), dial()
	defer c1.CloseNow()
	waitFor(t, "two subscribers", func() bool { return p.Subscribers() == 2 })
	c3 := dial()
	_, _, err := c3.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusTryAgainLater || p.Refused() != 1 {
		t.Fatalf("third subscriber: %v, refused %d", err, p.Refused())
	}
	c2.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "slot freed", func() bool { return p.Subscribers() == 1 })
	c4 := dial()
	defer c4.CloseNow()
	waitFor(t, "new subscriber served", func() bool { return p.Subscribers() == 2 })
}
