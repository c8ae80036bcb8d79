package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// countingConn counts the writes that reach the socket; with gate set, the
// first of them signals entered and waits for gate to close; with fail
// set, every write fails.
type countingConn struct {
	net.Conn
	mu      sync.Mutex
	writes  int
	gate    chan struct{}
	entered chan struct{}
	fail    error
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	first, fail := c.writes == 1, c.fail
	c.mu.Unlock()
	if first && c.gate != nil {
		close(c.entered)
		<-c.gate
	}
	if fail != nil {
		return 0, fail
	}
	return c.Conn.Write(p)
}

func (c *countingConn) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// tcpPair returns both ends of one loopback TCP connection.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { _ = client.Close(); _ = server.Close() })
	return client, server
}

func readExactly(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	return string(b)
}

func TestCorkConnHoldsWritesUntilUncork(t *testing.T) {
	client, server := tcpPair(t)
	cc := &countingConn{Conn: client}
	c := &corkConn{Conn: cc}
	c.cork()
	for _, s := range []string{"ab", "cd", "ef"} {
		if _, err := c.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if n := cc.count(); n != 0 {
		t.Fatalf("%d writes reached the socket while corked", n)
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if n := cc.count(); n != 1 {
		t.Fatalf("uncork made %d writes, want 1", n)
	}
	if got := readExactly(t, server, 6); got != "abcdef" {
		t.Fatalf("peer read %q", got)
	}
	// Uncorked, writes go through one by one.
	if _, err := c.Write([]byte("g")); err != nil || cc.count() != 2 {
		t.Fatalf("uncorked write: %v, %d writes", err, cc.count())
	}
	if got := readExactly(t, server, 1); got != "g" {
		t.Fatalf("peer read %q", got)
	}
}

// A write that would grow the held bytes past corkMaxHeld sends them, then
// goes through itself: order kept, nothing large copied.
func TestCorkConnLargeWritePassesThrough(t *testing.T) {
	client, server := tcpPair(t)
	cc := &countingConn{Conn: client}
	c := &corkConn{Conn: cc}
	big := strings.Repeat("x", corkMaxHeld)
	c.cork()
	_, _ = c.Write([]byte("a"))
	go func() { _, _ = c.Write([]byte(big)) }()
	if got := readExactly(t, server, 1+len(big)); got != "a"+big {
		t.Fatalf("peer read %d bytes, out of order or short", len(got))
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if n := cc.count(); n != 2 {
		t.Fatalf("%d writes, want 2 (the held byte, then the large write)", n)
	}
}

// A peer that stops reading fails the writes within the write timeout
// instead of parking the writer.
func TestCorkConnWriteTimeout(t *testing.T) {
	client, _ := tcpPair(t) // the server end is never read
	c := &corkConn{Conn: client}
	c.setWriteTimeout(100 * time.Millisecond)
	chunk := make([]byte, 1<<20)
	start := time.Now()
	var err error
	for err == nil && time.Since(start) < 10*time.Second {
		_, err = c.Write(chunk)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("err %v after %v, want a write deadline", err, time.Since(start))
	}
}

// wsPair dials a WebSocket to a peer that forwards every message it reads
// to the returned channel, and returns the client socket and its cork.
func wsPair(t *testing.T) (*websocket.Conn, *corkConn, <-chan string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	msgs := make(chan string, 64)
	srv := &httpServerForTest{}
	srv.start(t, ln, func(ws *websocket.Conn) {
		defer ws.CloseNow()
		for {
			_, m, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			msgs <- string(m)
		}
	})
	c := newTestWSClient(t, WSClientConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, cork, err := c.dial(ctx, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.CloseNow() })
	return ws, cork, msgs
}

func frameOf(s string) *bytes.Buffer {
	b := getBuf()
	b.WriteString(s)
	return b
}

// Frames sent while a batch is being written wait for it without blocking
// their senders, then leave together in one write, in order.
func TestWSFrameWriterBatchesBehindAWrite(t *testing.T) {
	ws, cork, msgs := wsPair(t)
	cc := &countingConn{Conn: cork.Conn, gate: make(chan struct{}), entered: make(chan struct{})}
	cork.Conn = cc // before any use of the writer
	w := newWSFrameWriter(ws, cork, 5*time.Second)
	first := make(chan error, 1)
	go func() { first <- w.send(frameOf("a"), false) }()
	<-cc.entered // "a" is being written
	for _, s := range []string{"b", "c", "d"} {
		if err := w.send(frameOf(s), true); err != nil {
			t.Fatalf("send %s: %v", s, err)
		}
	}
	close(cc.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"a", "b", "c", "d"} {
		select {
		case got := <-msgs:
			if got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %q never arrived", want)
		}
	}
	if n := cc.count(); n != 2 {
		t.Fatalf("%d writes for 4 frames, want 2 (the first frame, then the other three)", n)
	}
}

// A failed write closes the socket; later sends fail at once.
func TestWSFrameWriterFailureClosesSocket(t *testing.T) {
	ws, cork, _ := wsPair(t)
	boom := errors.New("boom")
	cork.Conn = &countingConn{Conn: cork.Conn, fail: boom}
	w := newWSFrameWriter(ws, cork, 5*time.Second)
	if err := w.send(frameOf("a"), false); err == nil {
		t.Fatal("send over a failing connection succeeded")
	}
	if err := w.send(frameOf("b"), false); err == nil {
		t.Fatal("send after a failed batch succeeded")
	}
	if _, _, err := ws.Read(context.Background()); err == nil {
		t.Fatal("socket still open after a failed write")
	}
}

// While the sender that took the writing on yields, the sender that fills
// a batch of wsBatchFrames writes it at once; the yielding one then finds
// its frame written and returns.
func TestWSFrameWriterFullBatchTakesOver(t *testing.T) {
	ws, cork, msgs := wsPair(t)
	cc := &countingConn{Conn: cork.Conn}
	cork.Conn = cc
	w := newWSFrameWriter(ws, cork, 5*time.Second)
	yielding, resume := make(chan struct{}), make(chan struct{})
	w.yield = func() { close(yielding); <-resume }
	first := make(chan error, 1)
	go func() { first <- w.send(frameOf("f0"), true) }()
	<-yielding
	for i := 1; i < wsBatchFrames; i++ {
		if err := w.send(frameOf(fmt.Sprintf("f%d", i)), true); err != nil {
			t.Fatal(err)
		}
	}
	for i := range wsBatchFrames {
		select {
		case got := <-msgs:
			if want := fmt.Sprintf("f%d", i); got != want {
				t.Fatalf("got %q, want %q", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("frame %d not written while the first sender yields", i)
		}
	}
	close(resume)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if n := cc.count(); n != 1 {
		t.Fatalf("%d writes for one full batch, want 1", n)
	}
}
