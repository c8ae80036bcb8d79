// Command bareserver is the ceiling of scripts/bench-rpc.sh: a bare net/http handler that
// reads a JSON body and writes it back with a Content-Length, nothing else. Whatever a
// Grenache server does beyond this (parse the triple, dispatch, encode the reply) is overhead
// measured against it.
package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/grenache-go/grenache/pkg/transport"
	"github.com/grenache-go/grenache/worker"
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func echo(w http.ResponseWriter, r *http.Request) {
	b := bufPool.Get().(*bytes.Buffer)
	b.Reset()
	defer bufPool.Put(b)
	if _, err := io.Copy(b, io.LimitReader(r.Body, 8<<20)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(b.Len())}
	_, _ = w.Write(b.Bytes())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	grenache := flag.Bool("transport", false, "serve pkg/transport's HTTPServer with an echo handler instead (isolates the transport's cost from the worker's)")
	tlsDir := flag.String("tls", "", "serve HTTPS requiring a client certificate (mutual TLS), with ca.pem, server.pem and server-key.pem from this directory")
	ws := flag.Bool("ws", false, "serve WebSocket: every frame is echoed back (the ceiling of the WS rows)")
	cpuProf := flag.String("cpuprofile", "", "write a CPU profile of everything served until SIGINT/SIGTERM to this file")
	flag.Parse()
	if *cpuProf != "" {
		f, err := os.Create(*cpuProf)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bareserver:", err)
			os.Exit(1)
		}
		defer func() { pprof.StopCPUProfile(); _ = f.Close() }()
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String()) // the script reads the address from the first line
	var h http.Handler = http.HandlerFunc(echo)
	if *grenache {
		srv, err := transport.NewHTTPServer(func(_ context.Context, _ string, p json.RawMessage) (any, error) { return p, nil }, transport.HTTPServerConfig{})
		if err != nil {
			fmt.Fprintln(os.Stderr, "bareserver:", err)
			os.Exit(1)
		}
		h = srv
	}
	if *ws {
		h = http.HandlerFunc(wsEcho)
	}
	if *tlsDir != "" {
		tc, err := worker.LoadTLS(filepath.Join(*tlsDir, "server.pem"), filepath.Join(*tlsDir, "server-key.pem"), filepath.Join(*tlsDir, "ca.pem"), true)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bareserver:", err)
			os.Exit(1)
		}
		tc.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, tc)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "bareserver:", err)
		os.Exit(1)
	}
}

// wsEcho upgrades and writes every frame back until the socket closes.
func wsEcho(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer c.CloseNow()
	for {
		typ, msg, err := c.Read(r.Context())
		if err != nil {
			return
		}
		if err := c.Write(r.Context(), typ, msg); err != nil {
			return
		}
	}
}
