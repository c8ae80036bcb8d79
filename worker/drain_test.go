package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// eventLog is an ordered record of what a test saw, from several goroutines.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func (l *eventLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ev)
}

func (l *eventLog) has(e string) bool { return slices.Contains(l.snapshot(), e) }

// newEventGrape is a grape HTTP API that logs "announce name" and "unannounce name" (the body
// of both is {"data":[name, port]}) and acknowledges each with 1, as a Go grape does.
func newEventGrape(t *testing.T, log *eventLog) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&body); err != nil || len(body.Data) != 2 {
			http.Error(w, `"ERR_GRAPE_PAYLOAD"`, http.StatusBadRequest)
			return
		}
		var name string
		_ = json.Unmarshal(body.Data[0], &name)
		switch r.URL.Path {
		case "/announce", "/unannounce":
			log.add(strings.TrimPrefix(r.URL.Path, "/") + " " + name)
			_, _ = io.WriteString(w, "1")
		default:
			_, _ = io.WriteString(w, "[]")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// The drain runs its steps in order, over real sockets: announcing stops and every name is
// unannounced; requests during the grace are answered; after it they are refused with 503
// ERR_SERVER_DRAINING, which the client classes as a transport failure (retried elsewhere);
// a request in flight throughout still gets its answer; then Run returns.
func TestDrainOrder(t *testing.T) {
	log := &eventLog{}
	release := make(chan struct{})
	h := HandlerFunc(func(ctx context.Context, req *Request) (any, error) {
		if string(req.Payload) == `"slow"` {
			select {
			case <-release:
				return "slow done", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		return "ok", nil
	})
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.Services = []string{"svc_b"}
	cfg.Service = "svc_a"
	cfg.Grapes = []string{newEventGrape(t, log)}
	cfg.AnnounceInterval = 20 * time.Millisecond
	cfg.DrainGrace = 600 * time.Millisecond
	cfg.ShutdownGrace = 5 * time.Second
	w, err := NewService(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	waitFor(t, 5*time.Second, "both names announced", func() bool { return log.has("announce svc_a") && log.has("announce svc_b") })

	c := newClient(t)
	slowDone := make(chan error, 1)
	go func() {
		res, err := c.Call(context.Background(), w.Addr(), "svc_a", "slow", transport.CallOptions{})
		if err == nil && string(res) != `"slow done"` {
			err = fmt.Errorf("slow answered %s", res)
		}
		log.add("in-flight answered")
		slowDone <- err
	}()
	waitFor(t, 5*time.Second, "slow request in flight", func() bool { return value(w.h.m.inFlight) == 1 })

	cancel()
	waitFor(t, 5*time.Second, "both names unannounced", func() bool {
		return log.has("unannounce svc_a") && log.has("unannounce svc_b")
	})
	// In the grace: answered normally.
	if res, err := c.Call(context.Background(), w.Addr(), "svc_b", "x", transport.CallOptions{}); err != nil || string(res) != `"ok"` {
		t.Fatalf("request during drain grace: %s %v", res, err)
	}
	log.add("answered in grace")
	// After the grace: refused, retryably.
	var refused error
	waitFor(t, 5*time.Second, "refusal after the grace", func() bool {
		_, refused = c.Call(context.Background(), w.Addr(), "svc_b", "x", transport.CallOptions{})
		return refused != nil
	})
	var se *transport.StatusError
	if !errors.Is(refused, transport.ErrTransport) || !errors.As(refused, &se) || se.Status != http.StatusServiceUnavailable ||
		!strings.Contains(se.Body, transport.TokenServerDraining) {
		t.Fatalf("after grace: %v, want a 503 %s transport error", refused, transport.TokenServerDraining)
	}
	log.add("refused")
	select {
	case err := <-runDone:
		t.Fatalf("Run returned (%v) with a request in flight", err)
	default:
	}
	close(release)
	if err := <-slowDone; err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	select {
	case err := <-runDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the in-flight request finished")
	}
	log.add("closed")

	ev := log.snapshot()
	idx := func(e string) int { return slices.Index(ev, e) }
	lastAnnounce := -1
	for i, e := range ev {
		if strings.HasPrefix(e, "announce ") {
			lastAnnounce = i
		}
	}
	order := []int{lastAnnounce, idx("unannounce svc_a"), idx("answered in grace"), idx("refused"), idx("in-flight answered"), idx("closed")}
	if !slices.IsSorted(order) || slices.Contains(order, -1) || idx("unannounce svc_b") < lastAnnounce {
		t.Fatalf("drain steps out of order: %q", ev)
	}
}

// Health gating: while the check fails the host does not announce and unannounces; it
// resumes when the check passes again.
func TestHealthCheckGatesAnnouncing(t *testing.T) {
	log := &eventLog{}
	var mu sync.Mutex
	healthy := false
	cfg := DefaultConfig()
	cfg.Bind, cfg.Port = "127.0.0.1", 0
	cfg.Grapes = []string{newEventGrape(t, log)}
	cfg.AnnounceInterval = 20 * time.Millisecond
	cfg.DrainGrace = 0
	cfg.HealthInterval = 20 * time.Millisecond
	cfg.HealthCheck = func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if !healthy {
			return errors.New("backend down")
		}
		return nil
	}
	set := func(v bool) { mu.Lock(); healthy = v; mu.Unlock() }
	w, err := NewService(cfg, HandlerFunc(func(context.Context, *Request) (any, error) { return 1, nil }))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- w.Run(ctx) }()
	defer func() { cancel(); <-runDone }()

	time.Sleep(150 * time.Millisecond) // several failed checks
	if log.has("announce " + cfg.Service) {
		t.Fatal("announced while unhealthy")
	}
	set(true)
	waitFor(t, 5*time.Second, "announce once healthy", func() bool { return log.has("announce " + cfg.Service) })
	set(false)
	waitFor(t, 5*time.Second, "unannounce once unhealthy", func() bool { return log.has("unannounce " + cfg.Service) })
	n := len(log.snapshot())
	time.Sleep(150 * time.Millisecond)
	if ev := log.snapshot(); len(ev) != n {
		t.Fatalf("announced while unhealthy again: %q", ev[n:])
	}
	set(true)
	waitFor(t, 5*time.Second, "announce resumes", func() bool {
		ev := log.snapshot()
		return len(ev) > n && ev[len(ev)-1] == "announce "+cfg.Service
	})
}
