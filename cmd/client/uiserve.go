package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/grenache-go/grenache/client"
	clientui "github.com/grenache-go/grenache/client/ui"
)

// serveUI serves the live view on addr (--ui) until the returned stop is
// called; the code is -1 on success, else the exit code after telling
// stderr what went wrong.
func serveUI(addr string, c *client.Client, rec *clientui.Recorder, gr *gossipRun, stderr io.Writer) (stop func(), code int) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stderr, "client run: invalid value %q for --ui (CLIENT_UI_ADDR): %v: allowed a free host:port\n", addr, err)
		return nil, exitSettings
	}
	done := make(chan struct{})
	opts := clientui.Options{Recorder: rec, Done: done}
	if gr != nil {
		opts.Gossip = gr.g.Stats
	}
	srv := &http.Server{Handler: clientui.Handler(c, opts), ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "client run: live view: %v\n", err)
		}
	}()
	fmt.Fprintf(stderr, "client run: live view on http://%s/\n", ln.Addr())
	return func() {
		close(done) // the event streams never go idle: end them first
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	}, -1
}
