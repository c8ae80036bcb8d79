package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/grenache-go/grenache/pkg/validate"
)

// WSClientConfig configures a WSClient. Zero fields take the defaults
// noted on each (DefaultWSClientConfig); Validate refuses negative ones.
type WSClientConfig struct {
	// Timeout bounds every call without a shorter deadline (default 10 s),
	// including in-flight calls on a socket that silently stalls, which
	// Node only fails when the caller passed a timeout.
	Timeout time.Duration
	// DialTimeout bounds connecting and the upgrade handshake (default 5 s).
	DialTimeout time.Duration
	// TLS, when set, dials wss:// with this config (mutual TLS via
	// Certificates; a session cache as for HTTPClientConfig.TLS).
	TLS *tls.Config
	// MaxMessageBytes bounds one reply frame (default 8 MiB).
	MaxMessageBytes int64
	// IdleTimeout closes a socket with no call in flight and none started
	// for this long (default 120 s, like Node's transport pool), so peers
	// called once do not hold sockets forever.
	IdleTimeout time.Duration
}

// WSClient calls Grenache WebSocket RPC servers (Go or Node). It keeps one
// socket per peer address, opened on first use at ws://addr/ws, and
// multiplexes concurrent calls on it by rid; the frames of calls made at
// once leave in one write (see wsFrameWriter). When a socket closes, its
// pending calls fail at once with ErrClosed (as a transport error) and the
// next call dials again.
type WSClient struct {
	cfg    WSClientConfig
	dialer net.Dialer
	tls    *tls.Config // nil: ws://
	scheme string

	mu     sync.RWMutex             // read-held on every call's lookup, so calls to different peers do not serialise
	conns  map[string]*wsClientConn // one per peer in use; removed when it dies
	closed bool
	wg     sync.WaitGroup // read loops
}

// DefaultWSClientConfig returns the defaults documented on WSClientConfig
// (plain ws://).
func DefaultWSClientConfig() WSClientConfig {
	return WSClientConfig{
		Timeout:         10 * time.Second,
		DialTimeout:     5 * time.Second,
		MaxMessageBytes: 8 << 20,
		IdleTimeout:     120 * time.Second,
	}
}

// Validate refuses negative fields (zero means the default); the error is
// a *validate.FieldError naming the field.
func (c WSClientConfig) Validate() error {
	const name = "transport.WSClientConfig"
	return firstError(
		validate.AtLeast(name, "Timeout", c.Timeout, 0),
		validate.AtLeast(name, "DialTimeout", c.DialTimeout, 0),
		validate.AtLeast(name, "MaxMessageBytes", c.MaxMessageBytes, 0),
		validate.AtLeast(name, "IdleTimeout", c.IdleTimeout, 0),
	)
}

// NewWSClient returns a client with cfg's zero (or negative) fields set to
// the defaults. It does not fail: call Validate first to refuse negative
// values instead.
func NewWSClient(cfg WSClientConfig) *WSClient {
	d := DefaultWSClientConfig()
	orDefault(&cfg.Timeout, d.Timeout)
	orDefault(&cfg.DialTimeout, d.DialTimeout)
	orDefault(&cfg.MaxMessageBytes, d.MaxMessageBytes)
	orDefault(&cfg.IdleTimeout, d.IdleTimeout)
	c := &WSClient{cfg: cfg, scheme: "ws://", conns: make(map[string]*wsClientConn)}
	c.dialer.KeepAlive = 30 * time.Second
	if cfg.TLS != nil {
		c.tls = clientTLS(cfg.TLS)
		c.scheme = "wss://"
	}
	return c
}

type wsClientConn struct {
	addr     string
	ws       *websocket.Conn
	out      *wsFrameWriter
	idle     time.Duration
	lastUsed atomic.Int64 // unix nanos of the last call start
	timer    *time.Timer  // idle check; no goroutine until it fires

	mu      sync.Mutex
	pending map[string]chan wsResult // rid -> waiter; bounded by callers' concurrency
	dead    error
}

type wsResult struct {
	reply *bytes.Buffer // from the buffer pool; the caller returns it
	err   error
}

// Call sends [rid, key, payload] to addr over its socket and waits for the
// matching reply. Errors are typed as for HTTPClient.Call.
func (c *WSClient) Call(ctx context.Context, addr, key string, payload any) (json.RawMessage, error) {
	pl, err := encodePayload(payload)
	if err != nil {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
	}
	return c.call(ctx, addr, key, pl, c.cfg.Timeout)
}

// call is Call with the payload encoded and the bound of this call (the
// client's Timeout, or a shorter one the caller asked for).
func (c *WSClient) call(ctx context.Context, addr, key string, pl []byte, timeout time.Duration) (json.RawMessage, error) {
	// Skip the timer when the caller's deadline already comes first.
	if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > timeout {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	conn, err := c.conn(ctx, addr)
	if err != nil {
		return nil, classify(ctx, addr, err)
	}
	rid := newRID()
	ch := make(chan wsResult, 1)
	pending, err := conn.register(rid, ch)
	if err != nil {
		return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
	}
	defer conn.unregister(rid)

	frame := getBuf()
	b := frame.AvailableBuffer()
	b = append(b, '[', '"')
	b = append(b, rid...)
	b = append(b, '"', ',')
	b = appendJSONString(b, key)
	b = append(b, ',')
	b = append(b, pl...)
	b = append(b, ']')
	frame.Write(b)
	if err := conn.out.send(frame, pending > 1); err != nil {
		// A failed write closes the socket, so the read loop fails the
		// other pending calls too.
		return nil, classify(ctx, addr, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, &CallError{Addr: addr, Kind: ErrTransport, Err: r.err}
		}
		res, err := parseReply(addr, rid, r.reply.Bytes())
		putBuf(r.reply)
		return res, err
	case <-ctx.Done():
		return nil, classify(ctx, addr, ctx.Err())
	}
}

// classify maps an error to ErrTimeout when the call's deadline passed and
// to ErrTransport otherwise.
func classify(ctx context.Context, addr string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		if !errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
		}
		return &CallError{Addr: addr, Kind: ErrTimeout, Err: err}
	}
	return &CallError{Addr: addr, Kind: ErrTransport, Err: err}
}

// conn returns the live socket to addr, dialling it if needed. Concurrent
// first calls may each dial; the loser's socket is closed.
func (c *WSClient) conn(ctx context.Context, addr string) (*wsClientConn, error) {
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return nil, ErrClosed
	}
	if cc, ok := c.conns[addr]; ok {
		// Mark use before returning so the idle check does not close the
		// socket between here and register (lastUsed is atomic).
		cc.lastUsed.Store(time.Now().UnixNano())
		c.mu.RUnlock()
		return cc, nil
	}
	c.mu.RUnlock()

	dctx, cancel := context.WithTimeout(ctx, c.cfg.DialTimeout)
	defer cancel()
	ws, cork, err := c.dial(dctx, addr)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(c.cfg.MaxMessageBytes)
	cc := &wsClientConn{addr: addr, ws: ws, out: newWSFrameWriter(ws, cork, c.cfg.Timeout), pending: make(map[string]chan wsResult)}

	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = ws.CloseNow()
		return nil, ErrClosed
	}
	if other, ok := c.conns[addr]; ok {
		c.mu.Unlock()
		_ = ws.CloseNow()
		return other, nil
	}
	c.conns[addr] = cc
	c.wg.Add(1)
	cc.idle = c.cfg.IdleTimeout
	cc.lastUsed.Store(time.Now().UnixNano())
	cc.timer = time.AfterFunc(cc.idle, cc.checkIdle)
	c.mu.Unlock()
	go c.readLoop(cc)
	return cc, nil
}

// readLoop delivers replies to waiters by rid until the socket fails, then
// fails every pending call and forgets the socket. It reads only as far as
// the rid: the waiter checks the whole reply (parseReply), and a reply
// nobody waits for is dropped unread.
func (c *WSClient) readLoop(cc *wsClientConn) {
	defer c.wg.Done()
	var err error
	for {
		var msg *bytes.Buffer
		if msg, err = cc.readMessage(); err != nil {
			break
		}
		rid, ok := replyRID(msg.Bytes())
		if !ok {
			putBuf(msg)
			continue // not a reply triple: nobody waits for it
		}
		cc.mu.Lock()
		ch := cc.pending[string(rid)]
		if ch != nil {
			delete(cc.pending, string(rid))
		}
		cc.mu.Unlock()
		if ch == nil {
			putBuf(msg)
			continue
		}
		ch <- wsResult{reply: msg}
	}
	cc.timer.Stop()
	_ = cc.ws.CloseNow()
	c.mu.Lock()
	if c.conns[cc.addr] == cc {
		delete(c.conns, cc.addr)
	}
	c.mu.Unlock()
	cc.fail(fmt.Errorf("%w: socket to %s: %v", ErrClosed, cc.addr, err))
}

// readMessage reads one message into a pooled buffer. The read needs no
// context: closing the socket ends it, and a context would cost the
// library a timer per message.
func (cc *wsClientConn) readMessage() (*bytes.Buffer, error) {
	_, r, err := cc.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	msg := getBuf()
	if _, err := msg.ReadFrom(r); err != nil {
		putBuf(msg)
		return nil, err
	}
	return msg, nil
}

// replyRID returns the rid of a reply frame: the fast path reads the
// escape-free `["<rid>"` every Grenache server sends; anything else is
// parsed in full (and must then be a JSON array).
func replyRID(msg []byte) ([]byte, bool) {
	if len(msg) > 2 && msg[0] == '[' && msg[1] == '"' {
		for i := 2; i < len(msg); i++ {
			switch msg[i] {
			case '\\':
				i = len(msg) // escaped: the general path decodes it
			case '"':
				return msg[2:i], true
			}
		}
	}
	var el [1][]byte
	if !json.Valid(msg) {
		return nil, false
	}
	if _, err := splitArray(msg, el[:]); err != nil {
		return nil, false
	}
	rid, ok := jsonString(el[0])
	return []byte(rid), ok
}

// register adds the waiter of rid and returns how many calls are pending
// on the socket with it.
func (cc *wsClientConn) register(rid string, ch chan wsResult) (int, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.dead != nil {
		return 0, cc.dead
	}
	cc.pending[rid] = ch
	return len(cc.pending), nil
}

// checkIdle closes the socket when nothing is pending and no call started
// within the idle timeout; otherwise it re-arms for the remaining time. A
// call racing the close fails with ErrClosed like any closed socket.
func (cc *wsClientConn) checkIdle() {
	cc.mu.Lock()
	pending := len(cc.pending)
	dead := cc.dead != nil
	cc.mu.Unlock()
	if dead {
		return
	}
	since := time.Since(time.Unix(0, cc.lastUsed.Load()))
	if pending == 0 && since >= cc.idle {
		_ = cc.ws.CloseNow()
		return
	}
	cc.timer.Reset(max(cc.idle-since, cc.idle/10))
}

func (cc *wsClientConn) unregister(rid string) {
	cc.mu.Lock()
	delete(cc.pending, rid)
	cc.mu.Unlock()
}

func (cc *wsClientConn) fail(err error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.dead = err
	for rid, ch := range cc.pending {
		ch <- wsResult{err: err}
		delete(cc.pending, rid)
	}
}

// Close closes every socket, failing their pending calls, and waits for
// the read loops to exit.
func (c *WSClient) Close() error {
	c.mu.Lock()
	c.closed = true
	conns := make([]*wsClientConn, 0, len(c.conns))
	for _, cc := range c.conns {
		conns = append(conns, cc)
	}
	c.mu.Unlock()
	for _, cc := range conns {
		_ = cc.ws.CloseNow()
	}
	c.wg.Wait()
	return nil
}
