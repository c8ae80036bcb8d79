package main

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/gossip"
	"github.com/grenache-go/grenache/client/report"
	"github.com/grenache-go/grenache/pkg/link"
)

// gossipRun is `client run --gossip`: a gossiper for the run's service,
// attached to the run's client by the library (gossip.Attach), running
// until close.
type gossipRun struct {
	g    *gossip.Gossiper
	stop func()
}

// newRunClient builds `client run`'s client on l: with --gossip
// (CLIENT_GOSSIP) through a gossiper attached to it and started, whose
// GOSSIP_* settings come from gossipSettings; gr is nil
// without --gossip. code is -1 on success.
func newRunClient(s *settings, l *link.Link, cfg client.Config, getenv func(string) string, stderr io.Writer) (c *client.Client, gr *gossipRun, code int) {
	if !s.Gossip {
		c, err := client.New(l, cfg)
		if err != nil {
			fmt.Fprintf(stderr, "client run: %v\n", err)
			return nil, nil, exitSettings
		}
		return c, nil, -1
	}
	gcfg, err := loadGossip(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return nil, nil, exitSettings
	}
	g, err := gossip.New(gcfg, s.Service, l, l, gossip.WithLogger(cfg.Logger))
	if err != nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return nil, nil, exitSettings
	}
	c, err = gossip.Attach(g, l, cfg)
	if err != nil {
		_ = g.Close()
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return nil, nil, exitSettings
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = g.Run(ctx) }()
	var once sync.Once
	return c, &gossipRun{g: g, stop: func() { once.Do(func() { cancel(); _ = g.Close(); wg.Wait() }) }}, -1
}

// close stops the gossiper; safe to call more than once, and on nil.
func (gr *gossipRun) close() {
	if gr != nil {
		gr.stop()
	}
}

// report returns the report's gossip block (nil without gossip).
func (gr *gossipRun) report() *report.Gossip {
	if gr == nil {
		return nil
	}
	c := gr.g.Counters()
	return &report.Gossip{Published: c.Published, Received: c.Received, Applied: c.Applied, Rejected: c.Rejected}
}
