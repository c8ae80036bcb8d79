package link

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGrape is a loopback HTTP server that answers like a grape, with
// canned bodies per endpoint. It exists to test the client's handling of
// wire answers (errors, failover) that a healthy real grape never gives.
type fakeGrape struct {
	URL   string
	srv   *http.Server
	mu    sync.Mutex
	reqs  []recordedReq
	hits  atomic.Int64
	reply func(endpoint string, data json.RawMessage) (int, string)
	delay time.Duration
	gate  chan struct{} // when non-nil, handlers wait for it to close
}

type recordedReq struct {
	Method, Path, ContentType string
	Body                      []byte
}

func newFakeGrape(t *testing.T, reply func(endpoint string, data json.RawMessage) (int, string)) *fakeGrape {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGrape{URL: "http://" + ln.Addr().String(), reply: reply}
	g.srv = &http.Server{Handler: http.HandlerFunc(g.serve)}
	go func() { _ = g.srv.Serve(ln) }()
	t.Cleanup(func() { _ = g.srv.Close() })
	return g
}

func (g *fakeGrape) serve(w http.ResponseWriter, r *http.Request) {
	g.hits.Add(1)
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.reqs = append(g.reqs, recordedReq{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	if g.delay > 0 {
		select {
		case <-time.After(g.delay):
		case <-r.Context().Done():
			return
		}
	}
	var env struct {
		RID  string          `json:"rid"`
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(body, &env)
	status, out := g.reply(r.URL.Path[1:], env.Data)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, out)
}

func (g *fakeGrape) requests() []recordedReq {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]recordedReq(nil), g.reqs...)
}

// deadURL returns a loopback URL whose port refuses connections.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return "http://" + addr
}

func newTestLink(t *testing.T, grapes ...string) *Link {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Grapes = grapes
	cfg.RequestTimeout = 500 * time.Millisecond
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
