package client

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// The plain preset is Node's behaviour on the one engine: a peer failing
// every call keeps its uniform share (no breaker opens) and, with one
// attempt, its requests fail.
func TestPlainConfigIsNodesBehaviour(t *testing.T) {
	addrs, faults := startServers(t, 3)
	faults[0].failEvery.Store(1)
	c := newTestClient(t, addrs, func(c *Config) { *c = PlainConfig(); c.RequestTimeout = 2 * time.Second })
	const n = 300
	failed := 0
	for range n {
		if _, err := c.Request(context.Background(), "svc", 1); err != nil {
			failed++
		}
	}
	// Uniform over 3 peers: the bad one gets Binomial(300, 1/3), mean 100,
	// sd 8.2; ±4 sd (67..133) fails a correct client with p < 1e-4.
	if got := faults[0].calls.Load(); got < 67 || got > 133 {
		t.Errorf("failing peer got %d of %d calls, want 67..133 (uniform, no breaker)", got, n)
	}
	if int64(failed) != faults[0].calls.Load() {
		t.Errorf("%d requests failed, want one per call to the failing peer (%d): one attempt each", failed, faults[0].calls.Load())
	}
	for _, st := range c.Stats("svc") {
		if st.State != Closed || st.BreakerOpens != 0 {
			t.Errorf("%s: breaker %v after %d opens, want it never to open", st.Addr, st.State, st.BreakerOpens)
		}
	}
}

// Without a budget every request may use all its retries, even with no
// token ever deposited (TestNoBudgetNoRetry is the budgeted counterpart).
func TestRetryBudgetOffRetriesEveryRequest(t *testing.T) {
	addrs, faults := startServers(t, 2)
	faults[0].failEvery.Store(1)
	c := newTestClient(t, addrs, func(c *Config) {
		*c = PlainConfig()
		c.MaxRetries, c.RetryDelay = 1, 0
		c.RetryBudgetRatio, c.RetryBudgetMinPerSec = 0, 0
	})
	for i := range 50 {
		if _, err := c.Request(context.Background(), "svc", i); err != nil {
			t.Fatalf("request %d: %v (a retry on the healthy peer should have saved it)", i, err)
		}
	}
}

// countingCaller is a Caller that counts calls and records whether it was
// closed, around a real wire.
type countingCaller struct {
	transport.Caller
	calls atomic.Int64
}

func (c *countingCaller) CallRaw(ctx context.Context, addr, svc string, pl json.RawMessage, o transport.CallOptions) (json.RawMessage, error) {
	c.calls.Add(1)
	return c.Caller.CallRaw(ctx, addr, svc, pl, o)
}

// Request and Map go through Config.Caller, and Close leaves it open.
func TestConfigCallerCarriesEveryCall(t *testing.T) {
	addrs, _ := startServers(t, 2)
	hc := transport.NewHTTPClient(transport.HTTPClientConfig{})
	defer hc.Close()
	cc := &countingCaller{Caller: hc}
	c := newTestClient(t, addrs, func(c *Config) { c.Caller = cc })
	if _, err := c.Request(context.Background(), "svc", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Map(context.Background(), "svc", 1); err != nil {
		t.Fatal(err)
	}
	if got := cc.calls.Load(); got != 3 {
		t.Fatalf("caller saw %d calls, want 3 (1 request + a map over 2 peers)", got)
	}
	_ = c.Close()
	if _, err := hc.Call(context.Background(), addrs[0], "svc", 1, transport.CallOptions{}); err != nil {
		t.Fatalf("the Caller is the caller's: it must still work after Client.Close: %v", err)
	}
}

// The same engine over WebSocket: a WSClient is a Caller.
func TestEngineOverWebSocket(t *testing.T) {
	var addrs []string
	for range 2 {
		var wg sync.WaitGroup // per server: cleanups run one server at a time
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv, err := transport.NewWSServer(func(_ context.Context, _ string, p json.RawMessage) (any, error) { return p, nil }, transport.WSServerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = srv.Serve(ln) }()
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			wg.Wait()
		})
		addrs = append(addrs, ln.Addr().String())
	}
	ws := transport.NewWSClient(transport.WSClientConfig{})
	t.Cleanup(func() { _ = ws.Close() })
	c := newTestClient(t, addrs, func(c *Config) { c.Caller = ws })
	for i := range 20 {
		res, err := c.Request(context.Background(), "svc", i)
		if err != nil || string(res) != strings.TrimSpace(string(mustJSON(i))) {
			t.Fatalf("request %d over ws: %s %v", i, res, err)
		}
	}
	all, err := c.Map(context.Background(), "svc", "x")
	if err != nil || len(all) != 2 {
		t.Fatalf("map over ws: %v %v", all, err)
	}
	for _, st := range c.Stats("svc") {
		if st.Successes == 0 {
			t.Errorf("%s: no success recorded over ws", st.Addr)
		}
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

// One empty-lookup rule for Request and Map: ErrNoPeers.
func TestEmptyLookupIsErrNoPeers(t *testing.T) {
	c := newTestClient(t, nil, nil)
	if _, err := c.Request(context.Background(), "svc", 1); !errors.Is(err, transport.ErrNoPeers) {
		t.Errorf("request: %v, want ErrNoPeers", err)
	}
	if _, err := c.Map(context.Background(), "svc", 1); !errors.Is(err, transport.ErrNoPeers) {
		t.Errorf("map: %v, want ErrNoPeers", err)
	}
}

// The one classifier: handler errors are the peer's answer, deadlines count
// against it, the caller's own cancellation does not.
func TestClassify(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	bg := context.Background()
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want Outcome
	}{
		{bg, nil, Success},
		{bg, &transport.RemoteError{Msg: "ERR_X"}, RemoteError},
		{bg, &transport.CallError{Kind: transport.ErrTimeout, Err: context.DeadlineExceeded}, Timeout},
		{bg, &transport.CallError{Kind: transport.ErrTransport, Err: errors.New("refused")}, TransportError},
		{canceled, &transport.CallError{Kind: transport.ErrTransport, Err: context.Canceled}, Canceled},
		{canceled, &transport.RemoteError{Msg: "ERR_X"}, RemoteError},
	} {
		if got := classify(c.ctx, c.err); got != c.want {
			t.Errorf("classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
