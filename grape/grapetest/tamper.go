package grapetest

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// TamperingProxy serves on a free 127.0.0.1 port and forwards every request
// to the grape API at upstream, passing the grape's reply through
// alter(endpoint, reply) before answering. It plays a grape (or a DHT node
// behind it) that changes what it returns, for the tests that must catch
// that. It stops in t.Cleanup.
func TamperingProxy(t testing.TB, upstream string, alter func(endpoint string, reply []byte) []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("grapetest: proxy: %v", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, upstream+r.URL.Path, bytes.NewReader(body))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			_ = resp.Body.Close()
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = w.Write(alter(r.URL.Path[1:], reply))
		}),
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-done
		client.CloseIdleConnections()
	})
	return "http://" + ln.Addr().String()
}
