// Package connlimit caps the connections a server holds open at once, so
// clients that open sockets and never finish a request (slowloris) cannot
// exhaust the process's file descriptors.
//
// At the cap, Accept blocks instead of accepting and closing: new
// connections wait in the kernel's listen backlog, which costs this process
// no descriptor and no goroutine, and they are served as soon as a slot
// frees (a server's header and idle timeouts guarantee slots do free). An
// accept-and-close policy would answer faster, but it spends a descriptor
// and a syscall pair on every attempt, so a flood of reconnects keeps the
// accept loop busy while the legitimate clients it turns away would retry
// into the same flood.
package connlimit

import (
	"net"
	"sync"
)

// Listener is a net.Listener that keeps at most a fixed number of accepted
// connections open; a connection frees its slot when it is closed.
type Listener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// NewListener caps ln at n open connections; n <= 0 returns ln unchanged.
func NewListener(ln net.Listener, n int) net.Listener {
	if n <= 0 {
		return ln
	}
	return &Listener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

// Accept waits for a free slot, then for a connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &conn{Conn: c, free: func() { <-l.slots }}, nil
}

// Open is the number of accepted connections not yet closed.
func (l *Listener) Open() int { return len(l.slots) }

// Close stops the listener; an Accept waiting for a slot returns at once.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// conn frees its slot on the first Close.
type conn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}
