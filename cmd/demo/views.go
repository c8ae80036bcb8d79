package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	clientui "github.com/grenache-go/grenache/client/ui"
	"github.com/grenache-go/grenache/internal/lab"
)

// serveViews serves each runner's live view under /<strategy>/ on addr
// and prints their URLs; stop ends the streams and the server.
func serveViews(addr string, runners []*lab.Runner, recs map[string]*clientui.Recorder, out io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("invalid --ui %q: %w (allowed a free host:port, '' = off)", addr, err)
	}
	done := make(chan struct{})
	mux := http.NewServeMux()
	for _, r := range runners {
		prefix := "/" + r.Strategy
		h := clientui.Handler(r.Client, clientui.Options{Recorder: recs[r.Strategy], Done: done})
		mux.Handle(prefix+"/", http.StripPrefix(prefix, h))
		fmt.Fprintf(out, "live view of the %s client: http://%s%s/\n", r.Strategy, ln.Addr(), prefix)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(out, "live view: %v\n", err)
		}
	}()
	return func() {
		close(done) // the event streams never go idle: end them first
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
	}, nil
}
