// Package ui is the adaptive client's live view: an http.Handler serving
// one self-contained page (no external URL, works offline) and a stream of
// Server-Sent Events with, per service and peer, the score, latency, in
// flight, error and timeout rates, breaker state with its transitions,
// share of traffic, and the gossip hints received and applied.
//
// Mount it anywhere (http.StripPrefix for a sub-path): "/" is the page,
// "/events" the stream.
package ui

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/client/gossip"
)

//go:embed ui.html
var page []byte

const (
	interval = 500 * time.Millisecond
	// Service names and peer addresses are remote input: the stream shows
	// at most maxServices services of at most maxPeers peers each.
	maxServices = 50
	maxPeers    = 100
	maxStreams  = 8
)

// Options configures Handler. All fields are optional.
type Options struct {
	// Recorder supplies breaker timelines and shares of traffic; without
	// it the page shows neither.
	Recorder *Recorder
	// Gossip reports the gossip book's counters; nil when not gossiping.
	Gossip func() gossip.Stats
	// Done ends every open stream when closed (a server shutting down:
	// http.Server.Shutdown waits for streams that never go idle).
	Done <-chan struct{}
}

type handler struct {
	c       *client.Client
	opts    Options
	streams atomic.Int32
}

// Handler returns the live view of c.
func Handler(c *client.Client, opts Options) http.Handler {
	return &handler{c: c, opts: opts}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "", "/":
		hd := w.Header()
		hd.Set("Content-Type", "text/html; charset=utf-8")
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		hd.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(page)
	case "/events":
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Type", "text/event-stream")
			return // a HEAD would otherwise hold a stream nobody reads
		}
		h.serveEvents(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	if h.streams.Add(1) > maxStreams {
		h.streams.Add(-1)
		http.Error(w, "too many live views open (at most 8)", http.StatusServiceUnavailable)
		return
	}
	defer h.streams.Add(-1)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		b, err := json.Marshal(Snap(h.c, h.opts))
		if err != nil {
			return
		}
		if _, err := w.Write(append(append([]byte("data: "), b...), '\n', '\n')); err != nil {
			return
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-h.opts.Done:
			return
		case <-tick.C:
		}
	}
}
