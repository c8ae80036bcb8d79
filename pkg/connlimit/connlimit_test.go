package connlimit

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// acceptLoop accepts until the listener closes, handing connections out.
func acceptLoop(ln net.Listener) (<-chan net.Conn, <-chan error) {
	conns, done := make(chan net.Conn, 16), make(chan error, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				done <- err
				return
			}
			conns <- c
		}
	}()
	return conns, done
}

func TestCapHoldsAndAClosedConnectionFreesItsSlot(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := NewListener(raw, 2).(*Listener)
	conns, done := acceptLoop(ln)
	var clients []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", raw.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	a, b := <-conns, <-conns
	select {
	case <-conns:
		t.Fatal("a third connection was accepted over the cap of 2")
	case <-time.After(100 * time.Millisecond):
	}
	if ln.Open() != 2 {
		t.Fatalf("Open %d, want 2", ln.Open())
	}
	_ = a.Close()
	_ = a.Close() // a second Close frees nothing more
	select {
	case c := <-conns:
		_ = c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting connection was not accepted after a slot freed")
	}
	_ = b.Close()
	_ = ln.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v", err)
	}
	for _, c := range clients {
		_ = c.Close()
	}
	if ln.Open() != 0 {
		t.Fatalf("Open %d after all closed", ln.Open())
	}
}

func TestCloseReleasesAnAcceptWaitingForASlot(t *testing.T) {
	raw, _ := net.Listen("tcp", "127.0.0.1:0")
	ln := NewListener(raw, 1)
	conns, done := acceptLoop(ln)
	c, _ := net.Dial("tcp", raw.Addr().String())
	defer c.Close()
	held := <-conns
	defer held.Close()
	time.Sleep(20 * time.Millisecond) // the loop now waits for a slot
	_ = ln.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
}

func TestZeroMeansNoCap(t *testing.T) {
	raw, _ := net.Listen("tcp", "127.0.0.1:0")
	defer raw.Close()
	if NewListener(raw, 0) != raw {
		t.Fatal("n=0 wrapped the listener")
	}
}
