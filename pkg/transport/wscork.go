package transport

import (
	"bufio"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"
)

// corkConn is the connection under one WebSocket: while corked, what the
// WebSocket library writes is held back and leaves in one write when
// uncorked, so the frames of a batch (see wsFrameWriter) cost one syscall,
// and under TLS one record, instead of one each. Uncorked, it writes
// through. The library writes control frames (pong, close) from its own
// goroutines at any time; they join the batch when one is open.
type corkConn struct {
	net.Conn
	mu     sync.Mutex // orders the library's writes and uncork's
	corked bool
	held   []byte
	// timeout, when set (setWriteTimeout), bounds every write: a peer that
	// stops reading fails the write instead of parking its writer. The
	// deadline is moved only once a tenth of it has passed, as setting one
	// costs a timer update, which per write was a few percent of a call.
	timeout  time.Duration
	deadline time.Time
}

// corkMaxHeld bounds what a batch holds back: a write that would pass it
// first sends what is held, then goes through itself, so a large message
// is never copied into the batch.
const corkMaxHeld = 64 << 10

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked && len(c.held)+len(p) <= corkMaxHeld {
		c.held = append(c.held, p...)
		return len(p), nil
	}
	if err := c.sendHeldLocked(); err != nil {
		return 0, err
	}
	c.armLocked()
	return c.Conn.Write(p)
}

// Read yields before reading: it is called when every buffer above is
// empty, so the read would most likely find nothing yet (one syscall) and
// park. Letting the goroutines this reader just woke run first (the caller
// whose reply it delivered, the workers of the requests it dispatched)
// takes that syscall off the path of their reply or next request.
func (c *corkConn) Read(p []byte) (int, error) {
	runtime.Gosched()
	return c.Conn.Read(p)
}

// setWriteTimeout bounds every later write by d, at most 10% early.
func (c *corkConn) setWriteTimeout(d time.Duration) {
	c.mu.Lock()
	c.timeout = d
	c.mu.Unlock()
}

func (c *corkConn) armLocked() {
	if c.timeout <= 0 {
		return
	}
	if now := time.Now(); c.deadline.Sub(now) < c.timeout-c.timeout/10 {
		c.deadline = now.Add(c.timeout)
		_ = c.Conn.SetWriteDeadline(c.deadline)
	}
}

// cork holds writes back until uncork.
func (c *corkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork sends what was held back.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	c.corked = false
	err := c.sendHeldLocked()
	c.mu.Unlock()
	return err
}

func (c *corkConn) sendHeldLocked() error {
	if len(c.held) == 0 {
		return nil
	}
	c.armLocked()
	_, err := c.Conn.Write(c.held)
	c.held = c.held[:0]
	return err
}

// corkingWriter is the ResponseWriter websocket.Accept gets: its Hijack
// puts a corkConn under the upgraded socket, the only way to reach the
// connection below the library's buffered writer.
type corkingWriter struct {
	http.ResponseWriter
	cork *corkConn // set by a successful Hijack
}

func (w *corkingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.cork = &corkConn{Conn: conn}
	// net/http's writer is new and empty at hijack; the reader may hold
	// bytes the client sent after its upgrade request, so it stays.
	return w.cork, bufio.NewReadWriter(brw.Reader, bufio.NewWriter(w.cork)), nil
}
