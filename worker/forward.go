package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/grenache-go/grenache/pkg/budget"
)

// Error tokens a Forwarder answers with. Each message goes on to name the status or cause.
const (
	// ErrMsgForwardStatus: the backend answered with a status other than 2xx.
	ErrMsgForwardStatus = "ERR_FORWARD_STATUS"
	// ErrMsgForwardReply: the backend answered 2xx with a body that is not JSON, or too large.
	ErrMsgForwardReply = "ERR_FORWARD_REPLY"
	// ErrMsgForwardTimeout: the backend did not answer within ForwardConfig.Timeout.
	ErrMsgForwardTimeout = "ERR_FORWARD_TIMEOUT"
	// ErrMsgForwardUnreachable: the backend could not be reached (refused, reset, DNS).
	ErrMsgForwardUnreachable = "ERR_FORWARD_UNREACHABLE"
	// ErrMsgForwardBusy: the reply budget stayed spent (too many large replies at once).
	ErrMsgForwardBusy = "ERR_FORWARD_BUSY"
)

// ForwardConfig configures a Forwarder. Start from DefaultForwardConfig.
type ForwardConfig struct {
	// URL is the backend every request is POSTed to, e.g. http://127.0.0.1:8080/rpc.
	URL string
	// ActionPath appends the payload's "action" to URL's path ({"action":"getUser"} is
	// POSTed to /rpc/getUser); a payload without a string action is refused.
	ActionPath bool
	// HealthURL, when not empty, is fetched with GET by Health; any 2xx means healthy.
	HealthURL string
	// Timeout bounds one backend call (the caller giving up ends it sooner).
	Timeout time.Duration
	// MaxReplyBytes bounds one backend reply.
	MaxReplyBytes int64
	// ReplyBudget bounds the reply bytes being read from the backend at once, over all
	// requests (see pkg/budget); at least MaxReplyBytes+1.
	ReplyBudget int64
}

// Forwarder defaults.
const (
	DefaultForwardTimeout = 30 * time.Second
	DefaultMaxReplyBytes  = MaxBodyBytes
	DefaultReplyBudget    = 8 * MaxBodyBytes
)

// DefaultForwardConfig returns the defaults: 30 s timeout, 8 MiB replies, 64 MiB read at once.
func DefaultForwardConfig() ForwardConfig {
	return ForwardConfig{Timeout: DefaultForwardTimeout, MaxReplyBytes: DefaultMaxReplyBytes, ReplyBudget: DefaultReplyBudget}
}

// Validate reports every invalid field, joined.
func (c ForwardConfig) Validate() error {
	var errs []error
	if err := httpURL(c.URL); err != nil {
		errs = append(errs, fmt.Errorf("forward URL: %w", err))
	}
	if c.HealthURL != "" {
		if err := httpURL(c.HealthURL); err != nil {
			errs = append(errs, fmt.Errorf("forward health URL: %w", err))
		}
	}
	if c.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("forward timeout %v must be > 0", c.Timeout))
	}
	if c.MaxReplyBytes < 1 {
		errs = append(errs, fmt.Errorf("forward max reply bytes %d must be ≥ 1", c.MaxReplyBytes))
	}
	if c.ReplyBudget <= c.MaxReplyBytes {
		errs = append(errs, fmt.Errorf("forward reply budget %d must exceed the max reply bytes %d", c.ReplyBudget, c.MaxReplyBytes))
	}
	return errors.Join(errs...)
}

func httpURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q invalid: want http(s)://host[:port][/path]", s)
	}
	return nil
}

// Forwarder is a Handler that turns each Grenache request into a POST of its payload to an
// HTTP backend, making the host a sidecar that puts any HTTP service on the network. A 2xx
// JSON reply is the result; anything else is an error reply naming the status or cause.
type Forwarder struct {
	cfg    ForwardConfig
	target *url.URL
	hc     *http.Client
	budget *budget.Budget
}

// NewForward validates cfg and returns its Forwarder.
func NewForward(cfg ForwardConfig) (*Forwarder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	target, _ := url.Parse(cfg.URL)
	b, err := budget.New(cfg.ReplyBudget, budget.DefaultWait)
	if err != nil {
		return nil, fmt.Errorf("worker: %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64 // one backend: keep enough warm connections for concurrency
	return &Forwarder{cfg: cfg, target: target, hc: &http.Client{Transport: tr}, budget: b}, nil
}

// Close releases the backend connections.
func (f *Forwarder) Close() { f.hc.CloseIdleConnections() }

// ServeGrenache implements Handler.
func (f *Forwarder) ServeGrenache(ctx context.Context, req *Request) (any, error) {
	target := f.cfg.URL
	if f.cfg.ActionPath {
		p, err := actionPath(f.target, req.Payload)
		if err != nil {
			return nil, err
		}
		target = p
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(req.Payload))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", ErrMsgForwardUnreachable, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("X-Grenache-Service", req.Service)
	resp, err := f.hc.Do(hr)
	if err != nil {
		return nil, f.callError(ctx, err)
	}
	defer resp.Body.Close()
	lease := f.budget.NewLease()
	defer lease.Release()
	body, err := budget.ReadAll(ctx, &lease, nil, resp.Body, f.cfg.MaxReplyBytes)
	switch {
	case errors.Is(err, budget.ErrBusy), errors.Is(err, budget.ErrTooLarge):
		return nil, fmt.Errorf("%s: reply budget spent; retry", ErrMsgForwardBusy)
	case err != nil:
		return nil, f.callError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, fmt.Errorf("%s: backend answered %d %s: %s", ErrMsgForwardStatus, resp.StatusCode,
			http.StatusText(resp.StatusCode), snippet(body))
	}
	if int64(len(body)) > f.cfg.MaxReplyBytes {
		return nil, fmt.Errorf("%s: backend answered %d with a body over %d bytes", ErrMsgForwardReply, resp.StatusCode, f.cfg.MaxReplyBytes)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("%s: backend answered %d with a body that is not JSON (Content-Type %q): %s",
			ErrMsgForwardReply, resp.StatusCode, resp.Header.Get("Content-Type"), snippet(body))
	}
	// Copied: the reply outlives the lease (the host encodes it after we return).
	return json.RawMessage(bytes.Clone(body)), nil
}

// callError names a failed backend call: a timeout (ours) or the cause.
func (f *Forwarder) callError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: backend did not answer within %v", ErrMsgForwardTimeout, f.cfg.Timeout)
	}
	return fmt.Errorf("%s: %v", ErrMsgForwardUnreachable, err)
}

// Health GETs HealthURL and reports an error unless it answers 2xx in time; without a
// HealthURL it always succeeds. Use it as Config.HealthCheck to gate announcing.
func (f *Forwarder) Health(ctx context.Context) error {
	if f.cfg.HealthURL == "" {
		return nil
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, f.cfg.HealthURL, nil)
	if err != nil {
		return err
	}
	resp, err := f.hc.Do(hr)
	if err != nil {
		return fmt.Errorf("backend health: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("backend health %s answered %d", f.cfg.HealthURL, resp.StatusCode)
	}
	return nil
}

// actionPath appends the payload's action to base's path, one escaped segment.
func actionPath(base *url.URL, payload json.RawMessage) (string, error) {
	var p struct {
		Action json.RawMessage `json:"action"`
	}
	var action string
	if json.Unmarshal(payload, &p) != nil || len(p.Action) == 0 || json.Unmarshal(p.Action, &action) != nil || action == "" {
		return "", fmt.Errorf(`%w: forwarding by action needs a payload {"action":"name",...}`, ErrBadRequest)
	}
	if action == "." || action == ".." {
		return "", fmt.Errorf("%w: action %q is not a path segment", ErrBadRequest, action)
	}
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + "/" + action
	u.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + "/" + url.PathEscape(action)
	return u.String(), nil
}

// snippet keeps a backend body short and printable in an error message.
func snippet(b []byte) string {
	const max = 200
	s := strings.ToValidUTF8(string(b[:min(len(b), max)]), "?")
	if len(b) > max {
		s += "…"
	}
	return s
}
