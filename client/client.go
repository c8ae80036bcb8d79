package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/pkg/transport"
)

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("client: closed")

// Client is the adaptive Grenache RPC client. It is safe for concurrent use.
// Create it with New and stop its background refresh with Close.
type Client struct {
	cfg    Config
	bal    *balancer
	budget *retryBudget
	hedge  hedgeRule
	wire   transport.Caller
	own    func() // closes the Caller New built; nil when cfg.Caller was given
	res    transport.Resolver

	mu       sync.RWMutex
	services map[string]*service

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// detached are hedge losers still running after their request returned.
	detached detachedCalls
}

// New validates cfg and returns a client that looks services up through r
// (a *link.Link is one) and calls peers through cfg.Caller, or when it is
// nil over the wire cfg.Transport names (HTTP by default), with
// cfg.Callers overriding both per service. A goroutine refreshes the peer sets of the
// services in use until Close.
func New(r transport.Resolver, cfg Config) (*Client, error) {
	if r == nil {
		return nil, errors.New("client: nil resolver")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		cfg:      cfg,
		bal:      newBalancer(cfg),
		budget:   newRetryBudget(cfg.RetryBudgetRatio, cfg.RetryBudgetMinPerSec, cfg.RetryBudgetOff),
		hedge:    newHedgeRule(cfg),
		wire:     cfg.Caller,
		res:      r,
		services: map[string]*service{},
		ctx:      ctx,
		cancel:   cancel,
	}
	if c.wire == nil {
		c.wire, c.own = newCaller(cfg)
	}
	c.wg.Add(1)
	go c.refreshLoop()
	return c, nil
}

// Close stops the background refresh and closes the connections of the
// Caller New built; a Config.Caller or Callers entry stays open (its owner
// closes it).
// Calls in flight finish on their own deadlines.
func (c *Client) Close() error {
	c.cancel()
	c.wg.Wait()
	c.detached.close()
	if c.own != nil {
		c.own()
	}
	return nil
}

// Config returns the configuration the client runs with.
func (c *Client) Config() Config { return c.cfg }

func (c *Client) service(name string) *service {
	c.mu.RLock()
	s := c.services[name]
	c.mu.RUnlock()
	if s != nil {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.services[name]; s == nil {
		s = newService(name)
		c.services[name] = s
	}
	return s
}

// peersOf returns the service with a non-empty peer set, looking it up
// synchronously when nothing is known yet. It is the engine's one rule for
// an empty lookup, for Request and Map alike: an error wrapping
// transport.ErrNoPeers (after link.ErrLookupEmpty drained the known peers).
func (c *Client) peersOf(ctx context.Context, name string) (*service, error) {
	if c.ctx.Err() != nil {
		return nil, ErrClosed
	}
	s := c.service(name)
	if len(s.snapshot()) > 0 {
		return s, nil
	}
	if err := c.lookup(ctx, s); err != nil {
		return nil, err
	}
	if len(s.snapshot()) == 0 {
		return nil, fmt.Errorf("client: %s: %w", name, transport.ErrNoPeers)
	}
	return s, nil
}

// lookup refreshes one service's peer set. An empty answer drains every
// peer; a failed lookup keeps the last known set (the grape may be the one
// in trouble, not the service).
func (c *Client) lookup(ctx context.Context, s *service) error {
	addrs, err := c.res.Lookup(ctx, s.name)
	if err != nil && !errors.Is(err, link.ErrLookupEmpty) {
		return fmt.Errorf("client: lookup %s: %w", s.name, err)
	}
	added, removed := s.update(addrs, c.cfg.MaxPeers, c.bal.now())
	if added+removed > 0 {
		c.cfg.Logger.Debug().Str("service", s.name).Int("added", added).Int("removed", removed).Msg("peer set changed")
	}
	if err != nil {
		return fmt.Errorf("client: lookup %s: %w", s.name, err)
	}
	return nil
}

func (c *Client) refreshLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		}
		c.mu.RLock()
		list := make([]*service, 0, len(c.services))
		for _, s := range c.services {
			list = append(list, s)
		}
		c.mu.RUnlock()
		for _, s := range list {
			ctx, cancel := context.WithTimeout(c.ctx, c.cfg.RefreshInterval)
			if err := c.lookup(ctx, s); err != nil && c.ctx.Err() == nil {
				c.cfg.Logger.Debug().Err(err).Msg("background lookup failed")
			}
			cancel()
		}
	}
}

// Refresh looks the service up now instead of waiting for the background refresh.
func (c *Client) Refresh(ctx context.Context, service string) error {
	return c.lookup(ctx, c.service(service))
}

// encode turns the payload into JSON once, so retries do not re-marshal it.
func encode(payload any) (json.RawMessage, error) {
	switch p := payload.(type) {
	case json.RawMessage:
		if p == nil {
			return json.RawMessage("null"), nil
		}
		return p, nil
	default:
		b, err := json.Marshal(payload)
		if err != nil {
			return nil, fmt.Errorf("client: encode payload: %w", err)
		}
		return b, nil
	}
}

// classify is the engine's one outcome classifier: it maps a call error to
// an outcome. A handler error means the peer is alive; a deadline that
// passed counts against the peer; a caller's cancellation does not.
func classify(ctx context.Context, err error) Outcome {
	switch {
	case err == nil:
		return Success // the common case: no error inspection
	case isRemote(err):
		return RemoteError
	case errors.Is(ctx.Err(), context.Canceled):
		return Canceled
	case errors.Is(err, transport.ErrTimeout):
		return Timeout
	default:
		return TransportError
	}
}

func isRemote(err error) bool {
	_, ok := errors.AsType[*transport.RemoteError](err)
	return ok
}
