package lab

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/pkg/link"
)

// Grapes is a small in-process grape cluster on 127.0.0.1 (for programs;
// tests use grape/grapetest, which ties the cluster to testing.TB).
type Grapes struct {
	gs     []*grape.Grape
	cancel context.CancelFunc
	done   chan error
}

// StartGrapes starts n Go grapes on free loopback ports, each bootstrapped
// to the previous one, and waits (up to wait) until an announcement made on
// the first is visible on the last.
func StartGrapes(n int, wait time.Duration) (*Grapes, error) {
	if n < 1 {
		return nil, errors.New("lab: need at least one grape")
	}
	g := &Grapes{done: make(chan error, n)}
	for i := range n {
		cfg := grape.DefaultConfig()
		cfg.DHTHost = "127.0.0.1"
		cfg.DHTPort = 0
		cfg.APIPort = 0
		cfg.QueryTimeout = 500 * time.Millisecond
		cfg.ShutdownTimeout = 2 * time.Second
		if i > 0 {
			cfg.Bootstrap = []string{g.gs[i-1].DHTAddr().String()}
		}
		gr, err := grape.New(cfg)
		if err != nil {
			for _, prev := range g.gs {
				_ = prev.Close()
			}
			return nil, fmt.Errorf("lab: grape %d: %w", i, err)
		}
		g.gs = append(g.gs, gr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	for _, gr := range g.gs {
		go func() { g.done <- gr.Run(ctx) }()
	}
	if err := g.waitConnected(wait); err != nil {
		_ = g.Close()
		return nil, err
	}
	return g, nil
}

// URLs returns the grapes' HTTP API URLs.
func (g *Grapes) URLs() []string {
	out := make([]string, len(g.gs))
	for i, gr := range g.gs {
		out[i] = gr.APIURL()
	}
	return out
}

// Close stops every grape and waits for them.
func (g *Grapes) Close() error {
	g.cancel()
	var errs []error
	for range g.gs {
		if err := <-g.done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// waitConnected announces a probe name on the first grape until the last
// one returns it: only then can workers and clients use different grapes.
func (g *Grapes) waitConnected(wait time.Duration) error {
	first, last := g.gs[0], g.gs[len(g.gs)-1]
	mk := func(u string) (*link.Link, error) {
		c := link.DefaultConfig()
		c.Grapes = []string{u}
		c.LookupCacheTTL = 0
		c.RequestTimeout = time.Second
		return link.New(c)
	}
	a, err := mk(first.APIURL())
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := mk(last.APIURL())
	if err != nil {
		return err
	}
	defer b.Close()
	name := fmt.Sprintf("lab:probe:%d", time.Now().UnixNano())
	deadline := time.Now().Add(wait)
	lastErr := errors.New("timeout")
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := a.Announce(ctx, name, 1); err != nil {
			lastErr = err
		}
		addrs, err := b.Lookup(ctx, name)
		cancel()
		if err == nil && len(addrs) > 0 {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("lab: grapes not connected after %v: %w", wait, lastErr)
}
