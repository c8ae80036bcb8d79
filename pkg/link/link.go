// Package link is the Go client of the grape HTTP API (/announce, /lookup,
// /put, /get), wire-compatible with grenache-nodejs-link: each call POSTs
// {"rid":<uuidv4>,"data":...} as application/json to <grape>/<endpoint>.
//
// Beyond Node's link it fails over between several grapes, never caches
// empty lookups by default, and turns the grape's status-200 error strings
// into *GrapeError instead of passing them off as results.
package link

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// maxReplyBytes bounds what we read from a grape: a lookup reply holds at
// most 100 addresses and a BEP44 value is under 1000 bytes, so 1 MiB is far
// beyond any honest reply and keeps a broken grape from exhausting memory.
const maxReplyBytes = 1 << 20

// Link talks to one or more grapes. It is safe for concurrent use. Close it
// to stop announcers and release connections.
type Link struct {
	cfg    Config
	client *http.Client
	cur    atomic.Int32 // index of the grape that answered last

	ctx    context.Context // lifetime of background work (announcers, shared lookups)
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	announcers map[string]*announcer // key "port:name", as Node keys its timers
	closed     bool

	lookups *lookupGroup
	cache   *lruCache // nil when LookupCacheTTL == 0
}

// New validates cfg and returns a Link. It does not contact any grape.
func New(cfg Config) (*Link, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Grapes = trimGrapes(cfg.Grapes) // a copy: the caller's slice is left alone
	tr := &http.Transport{
		Proxy:               nil, // grapes are local; never route them through an env proxy
		DialContext:         (&net.Dialer{Timeout: cfg.RequestTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		// Node grapes close idle keep-alive sockets after 5 s; dropping ours
		// first avoids reusing a socket the grape is closing, which would
		// fail a (non-retryable) POST.
		IdleConnTimeout:       4 * time.Second,
		ResponseHeaderTimeout: cfg.RequestTimeout,
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &Link{
		cfg:        cfg,
		client:     &http.Client{Transport: tr},
		ctx:        ctx,
		cancel:     cancel,
		announcers: make(map[string]*announcer),
		lookups:    newLookupGroup(),
	}
	if cfg.LookupCacheTTL > 0 {
		l.cache = newLRUCache(cfg.LookupCacheSize, cfg.LookupCacheBytes, cfg.LookupCacheTTL, time.Now)
	}
	return l, nil
}

// Close stops every announcer, waits for them to exit and drops idle
// connections. Calls made afterwards fail with ErrClosed.
func (l *Link) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for k, a := range l.announcers {
		a.cancel()
		delete(l.announcers, k)
	}
	l.mu.Unlock()
	l.cancel()
	l.wg.Wait()
	l.client.CloseIdleConnections()
	return nil
}

// spawn runs fn on a goroutine tracked by Close, unless the Link is closed
// (checked under the lock so Close's Wait never races a late Add).
func (l *Link) spawn(fn func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
	return true
}

// Grapes returns the configured grape URLs, the one in use first.
func (l *Link) Grapes() []string {
	n := len(l.cfg.Grapes)
	start := int(l.cur.Load())
	out := make([]string, 0, n)
	for i := range n {
		out = append(out, l.cfg.Grapes[(start+i)%n])
	}
	return out
}

// envelope is the request body. Field order matters only for readability of
// captures: Node links put rid first.
type envelope struct {
	RID  string `json:"rid"`
	Data any    `json:"data"`
}

// encodeEnvelope is the request body for data, with a fresh rid.
func encodeEnvelope(data any) ([]byte, error) {
	return json.Marshal(envelope{RID: uuid.NewString(), Data: data})
}

// post sends one API request and returns the reply body of a 2xx answer.
// It starts at the grape that answered last and moves to the next one on a
// transport failure or per-attempt timeout; an HTTP answer of any status
// ends the search because the grape is alive and failing over would not
// change its verdict on the request, except 503: a Go grape whose body
// budget is spent says so (ERR_GRAPE_BUSY), and another grape may have room.
func (l *Link) post(ctx context.Context, endpoint string, data any) ([]byte, error) {
	if l.ctx.Err() != nil {
		return nil, ErrClosed
	}
	body, err := encodeEnvelope(data)
	if err != nil {
		return nil, fmt.Errorf("link: encode %s request: %w", endpoint, err)
	}
	n := len(l.cfg.Grapes)
	start := int(l.cur.Load())
	var errs []error
	for i := range n {
		idx := (start + i) % n
		grape := l.cfg.Grapes[idx]
		status, reply, err := l.attempt(ctx, grape+"/"+endpoint, body)
		if err == nil && status == http.StatusServiceUnavailable && i < n-1 {
			errs = append(errs, fmt.Errorf("%s: %w", grape, &StatusError{Grape: grape, Status: status, Body: string(reply)}))
			continue
		}
		if err == nil {
			if i > 0 {
				l.cur.Store(int32(idx))
			}
			if status < 200 || status > 299 {
				return nil, &StatusError{Grape: grape, Status: status, Body: string(reply)}
			}
			return reply, nil
		}
		if ctx.Err() != nil {
			// The caller gave up; trying more grapes cannot help.
			return nil, fmt.Errorf("link: %s via %s: %w", endpoint, grape, ctx.Err())
		}
		errs = append(errs, fmt.Errorf("%s: %w", grape, err))
	}
	return nil, &UnreachableError{Errs: errs}
}

// attempt performs one HTTP exchange bounded by RequestTimeout.
func (l *Link) attempt(ctx context.Context, url string, body []byte) (int, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, l.cfg.RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return 0, nil, err
	}
	if len(reply) > maxReplyBytes {
		return 0, nil, errors.New("reply larger than 1 MiB")
	}
	return resp.StatusCode, reply, nil
}

// decodeTyped decodes a 2xx reply into out. A JSON string where out is not
// a string is the grape's way of reporting an error (status 200 with
// "ERR_..." or a DHT message), so it becomes *GrapeError.
func decodeTyped(reply []byte, out any) error {
	trimmed := bytes.TrimSpace(reply)
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var token string
		if err := json.Unmarshal(trimmed, &token); err == nil {
			return &GrapeError{Token: token}
		}
	}
	if err := json.Unmarshal(trimmed, out); err != nil {
		return fmt.Errorf("link: unexpected grape reply %.200q: %w", trimmed, err)
	}
	return nil
}
