package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// StreamCallOptions describe one streamed request, as PeerRPCClient.stream
// takes them.
type StreamCallOptions struct {
	// Action is sent as the _a header when not empty.
	Action string
	// Args is JSON-encoded into the _ar header when not nil
	// (json.RawMessage is sent as is).
	Args any
	// Headers are sent as they are (content-type, custom headers); they
	// cannot replace _gr or transfer-encoding.
	Headers map[string]string
	// Body is streamed as the request body, chunked, until it returns
	// io.EOF. It is never closed: the caller owns it. nil sends an empty
	// stream.
	Body io.Reader
	// IdleTimeout fails the stream when no byte moved either way for this
	// long (default: the client's Timeout). A stream has no overall
	// deadline other than ctx's: it lasts as long as it keeps moving.
	IdleTimeout time.Duration
}

// StreamReply is the reply of a streamed request: the raw bytes the
// server writes (usually the [rid, err, result] triple). Read it to EOF
// and Close it.
type StreamReply struct {
	// RID is the rid sent in _gr, to match a triple in the reply.
	RID string
	// Header holds the reply's headers.
	Header http.Header

	body    io.ReadCloser
	stop    func()
	idle    *idleTimer
	addr    string
	ctx     context.Context
	closing atomic.Bool
}

// Read reads the reply. A failure is a *CallError (ErrTimeout after the
// idle timeout, ErrTransport for a broken connection or truncated reply).
func (r *StreamReply) Read(p []byte) (int, error) {
	r.idle.touch()
	n, err := r.body.Read(p)
	if n > 0 {
		r.idle.touch()
	}
	if err != nil && !errors.Is(err, io.EOF) && !r.closing.Load() {
		err = streamErr(r.ctx, r.idle, r.addr, err)
	}
	return n, err
}

// Close ends the exchange, aborting the upload if it is still running.
func (r *StreamReply) Close() error {
	r.closing.Store(true)
	err := r.body.Close()
	r.stop()
	return err
}

// BodyError reports that the caller's Body failed: the peer is not to
// blame for it.
type BodyError struct{ Err error }

// Error implements error.
func (e *BodyError) Error() string { return "stream body: " + e.Err.Error() }

// Unwrap returns the body's error.
func (e *BodyError) Unwrap() error { return e.Err }

// Stream sends a streamed request to addr the way grenache-nodejs-http's
// PeerRPCClient.stream does: POST / with _gr: [rid, key], the _a and _ar
// headers, connection: close and transfer-encoding: chunked, then opts.Body
// as it is read. It returns once the reply's headers arrived (for servers
// that read the whole body first, that is after the upload); the reply is
// read from the StreamReply as the server writes it. A non-200 reply is a
// *CallError wrapping *StatusError. Memory stays flat however long the
// stream: bytes go through in fixed-size chunks.
//
// started reports, after a failure, whether any of Body was read: a
// caller may retry elsewhere only when it was not.
func (c *HTTPClient) Stream(ctx context.Context, addr, key string, opts StreamCallOptions) (reply *StreamReply, started bool, err error) {
	var ar []byte
	if opts.Args != nil {
		if ar, err = encodePayload(opts.Args); err != nil {
			return nil, false, &CallError{Addr: addr, Kind: ErrTransport, Err: fmt.Errorf("encode _ar: %w", err)}
		}
	}
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = c.cfg.Timeout
	}
	ctx, cancel := context.WithCancelCause(ctx)
	it := newIdleTimer(idle, cancel)
	stop := func() { it.stop(); cancel(context.Canceled) }

	rid := newRID()
	gr := appendJSONString(append(append([]byte(`["`), rid...), `",`...), key)
	gr = append(gr, ']')
	body := newStreamBody(ctx, opts.Body, it)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.scheme+addr+"/", body)
	if err != nil {
		stop()
		return nil, false, &CallError{Addr: addr, Kind: ErrTransport, Err: err}
	}
	req.ContentLength = -1
	req.TransferEncoding = []string{"chunked"}
	req.Close = true // as Node: a stream's connection is never reused
	for k, v := range opts.Headers {
		req.Header.Set(k, v)
	}
	req.Header[headerGR] = []string{string(gr)}
	req.Header[headerCompress] = compressNone
	if opts.Action != "" {
		req.Header[headerAction] = []string{opts.Action}
	}
	if ar != nil {
		req.Header[headerArgs] = []string{string(ar)}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		stop()
		if berr := body.failure(); berr != nil {
			return nil, true, &BodyError{Err: berr}
		}
		return nil, body.started.Load(), streamErr(ctx, it, addr, err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_ = resp.Body.Close()
		stop()
		return nil, body.started.Load(), &CallError{Addr: addr, Kind: ErrTransport, Err: &StatusError{Status: resp.StatusCode, Body: string(b)}}
	}
	return &StreamReply{RID: rid, Header: resp.Header, body: resp.Body, stop: stop, idle: it, addr: addr, ctx: ctx}, true, nil
}

// errIdle is the cause of a stream cancelled by its idle timer.
var errIdle = errors.New("stream idle timeout")

// streamErr classifies a stream failure like callErr, counting the idle
// timer's cancellation as a timeout.
func streamErr(ctx context.Context, it *idleTimer, addr string, err error) error {
	if errors.Is(context.Cause(ctx), errIdle) {
		return &CallError{Addr: addr, Kind: ErrTimeout, Err: fmt.Errorf("%w after %v: %w", errIdle, it.d, err)}
	}
	return callErr(ctx, addr, err)
}

// streamBody hands the caller's Body to net/http. It hides the Body's
// Close (the caller owns it) and its type (so a *bytes.Reader is still
// chunked), remembers whether it was read and whether it failed, and reads
// it on a goroutine of its own: net/http waits for a body Read to return
// before it gives up on a cancelled request, and a caller's pipe may
// block forever. That goroutine ends with the stream, or, when it is stuck
// in the caller's Read then, as soon as that Read returns.
type streamBody struct {
	ctx     context.Context
	r       io.Reader
	idle    *idleTimer
	once    sync.Once
	res     chan readResult
	next    chan struct{}
	pending []byte
	rerr    error
	hold    bool // the pump's buffer is lent to pending
	started atomic.Bool
	mu      sync.Mutex
	err     error
}

type readResult struct {
	b   []byte
	err error
}

// streamChunk is the most bytes of a stream in memory at a time on the
// client, besides net/http's own buffers.
const streamChunk = 32 << 10

func newStreamBody(ctx context.Context, r io.Reader, it *idleTimer) *streamBody {
	return &streamBody{ctx: ctx, r: r, idle: it, res: make(chan readResult), next: make(chan struct{})}
}

func (b *streamBody) pump() {
	buf := make([]byte, streamChunk)
	for {
		n, err := b.r.Read(buf)
		if err != nil && !errors.Is(err, io.EOF) {
			b.mu.Lock()
			b.err = err
			b.mu.Unlock()
		}
		select {
		case b.res <- readResult{buf[:n], err}:
		case <-b.ctx.Done():
			return
		}
		if err != nil {
			return
		}
		select {
		case <-b.next:
		case <-b.ctx.Done():
			return
		}
	}
}

func (b *streamBody) Read(p []byte) (int, error) {
	if b.r == nil {
		return 0, io.EOF
	}
	b.started.Store(true)
	b.once.Do(func() { go b.pump() })
	if len(b.pending) == 0 && b.rerr == nil {
		if b.hold {
			select {
			case b.next <- struct{}{}:
			case <-b.ctx.Done():
				return 0, b.ctx.Err()
			}
			b.hold = false
		}
		select {
		case r := <-b.res:
			b.pending, b.rerr, b.hold = r.b, r.err, true
		case <-b.ctx.Done():
			return 0, b.ctx.Err()
		}
	}
	n := copy(p, b.pending)
	b.pending = b.pending[n:]
	if n > 0 {
		b.idle.touch()
	}
	if len(b.pending) == 0 && b.rerr != nil {
		return n, b.rerr
	}
	return n, nil
}

func (b *streamBody) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}

// idleTimer cancels a stream when it is not touched for d.
type idleTimer struct {
	d       time.Duration
	t       *time.Timer
	mu      sync.Mutex
	stopped bool
}

func newIdleTimer(d time.Duration, cancel context.CancelCauseFunc) *idleTimer {
	return &idleTimer{d: d, t: time.AfterFunc(d, func() { cancel(errIdle) })}
}

// touch pushes the deadline back (net/http's upload goroutine may still
// touch it after stop; the flag keeps a stopped timer stopped).
func (it *idleTimer) touch() {
	it.mu.Lock()
	if !it.stopped {
		it.t.Reset(it.d)
	}
	it.mu.Unlock()
}

func (it *idleTimer) stop() {
	it.mu.Lock()
	it.stopped = true
	it.t.Stop()
	it.mu.Unlock()
}
