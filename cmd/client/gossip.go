package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/gossip"
	"github.com/grenache-go/grenache/client/report"
	"github.com/grenache-go/grenache/pkg/link"
)

// gossipRun wires gossip hints (client/gossip) into `client run`: the
// client's hooks feed the gossiper's recorder, and the gossiper advises the
// adaptive strategy. The gossiper needs the link that newClient creates
// together with the client, so it is attached after the client exists;
// until then (and without --gossip) the advice is neutral.
type gossipRun struct {
	service string
	g       atomic.Pointer[gossip.Gossiper]
	stop    func()
}

// setupGossip installs the hint source and chains the hooks into cfg when
// --gossip (CLIENT_GOSSIP) is on; it returns nil otherwise.
func setupGossip(s *settings, cfg *client.Config) *gossipRun {
	if !s.Gossip {
		return nil
	}
	gr := &gossipRun{service: s.Service}
	prev := cfg.Hooks
	cfg.Hooks.OnAttempt = func(e client.AttemptEvent) {
		if prev.OnAttempt != nil {
			prev.OnAttempt(e)
		}
		if g := gr.g.Load(); g != nil && e.Service == gr.service && e.Outcome != client.Canceled {
			g.Record(e.Addr, e.Outcome != client.Success, e.At)
		}
	}
	cfg.Hooks.OnBreaker = func(e client.BreakerEvent) {
		if prev.OnBreaker != nil {
			prev.OnBreaker(e)
		}
		if g := gr.g.Load(); g != nil && e.Service == gr.service {
			g.SetBroken(e.Addr, e.To != client.Closed, e.At)
		}
	}
	cfg.Hints = gr
	return gr
}

// Advise implements client.HintSource.
func (gr *gossipRun) Advise(service, addr string, now time.Time) client.HintAdvice {
	g := gr.g.Load()
	if g == nil || service != gr.service {
		return client.HintAdvice{Factor: 1}
	}
	a := g.AdviseAt(addr, now)
	return client.HintAdvice{Factor: a.Factor, DeferProbe: a.DeferProbe}
}

// start reads the GOSSIP_* settings (gossipSettings), starts the gossiper
// on l and attaches it. code is -1 on success.
func (gr *gossipRun) start(l *link.Link, getenv func(string) string, logger zerolog.Logger, stderr io.Writer) int {
	gcfg, err := loadGossip(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return exitSettings
	}
	g, err := gossip.New(gcfg, gr.service, l, l, gossip.WithLogger(logger))
	if err != nil {
		fmt.Fprintf(stderr, "client run: %v\n", err)
		return exitSettings
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = g.Run(ctx) }()
	gr.g.Store(g)
	gr.stop = func() { cancel(); _ = g.Close(); wg.Wait() }
	return -1
}

// close stops the gossiper.
func (gr *gossipRun) close() {
	if gr != nil && gr.stop != nil {
		gr.stop()
	}
}

// report returns the report's gossip block (nil without gossip).
func (gr *gossipRun) report() *report.Gossip {
	if gr == nil {
		return nil
	}
	g := gr.g.Load()
	if g == nil {
		return nil
	}
	c := g.Counters()
	return &report.Gossip{Published: c.Published, Received: c.Received, Applied: c.Applied, Rejected: c.Rejected}
}
