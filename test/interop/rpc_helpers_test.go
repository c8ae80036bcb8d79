package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/grenache-go/grenache/test/nodeproc"
	"github.com/grenache-go/grenache/worker"
)

// Helpers for the RPC interop tests (rpc_*_test.go). They are prefixed "rpc" so they never
// collide with the grape interop helpers in the same package.

// rpcNodeGrape starts one self-bootstrapped Node grape and returns its API URL.
func rpcNodeGrape(t *testing.T) string {
	t.Helper()
	p := nodeproc.StartGrape(t, nodeproc.FreeUDPPort(t), nodeproc.FreeTCPPort(t), nil)
	return p.APIURL()
}

// rpcLookup asks a grape's HTTP API for name; errors and non-arrays count as empty.
func rpcLookup(grapeURL, name string) []string {
	body, _ := json.Marshal(map[string]any{"rid": "rpc-interop", "data": name})
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Post(grapeURL+"/lookup", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var peers []string
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &peers)
	return peers
}

// rpcWaitVisible polls the grape until a lookup of name returns every address in want.
// Node clients must start only after this: a Node link caches an empty lookup for 10 s.
func rpcWaitVisible(t *testing.T, grapeURL, name string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := rpcLookup(grapeURL, name)
		missing := false
		for _, w := range want {
			if !slices.Contains(got, w) {
				missing = true
			}
		}
		if !missing && len(got) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("lookup %q on %s = %v, want %v", name, grapeURL, got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rpcStartWorker runs a Go worker announcing service to grapeURL on a free loopback port until
// the test ends.
func rpcStartWorker(t *testing.T, grapeURL, service string, mod func(*worker.Config)) *worker.Worker {
	t.Helper()
	cfg := worker.DefaultConfig()
	cfg.Service = service
	cfg.Bind = "127.0.0.1"
	cfg.Port = 0
	cfg.Grapes = []string{grapeURL}
	cfg.AnnounceInterval = 500 * time.Millisecond
	cfg.ShutdownGrace = 2 * time.Second
	cfg.Logger = zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel).With().Str("worker", service).Logger()
	if mod != nil {
		mod(&cfg)
	}
	w, err := worker.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return runWorker(t, w, "worker "+service)
}

// runWorker runs w until the test ends, then stops it and checks that Run
// returned cleanly within 10 s; label names it in failures.
func runWorker(t *testing.T, w *worker.Worker, label string) *worker.Worker {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: Run: %v", label, err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%s: Run did not return", label)
		}
	})
	return w
}

// rpcOp is one operation for node/rpc/client.js.
type rpcOp struct {
	Op       string `json:"op"` // "request" or "map"
	Payload  any    `json:"payload"`
	Compress bool   `json:"compress,omitempty"`
	Timeout  int    `json:"timeout"` // ms; always set: Node 1.x clients never time out without one
	Repeat   int    `json:"repeat,omitempty"`
}

// rpcResult is one line printed by node/rpc/client.js.
type rpcResult struct {
	I   int             `json:"i"`
	Op  string          `json:"op"`
	Ms  int             `json:"ms"`
	Err *string         `json:"err"`
	Res json.RawMessage `json:"res"`
}

// rpcRunNodeClient runs node/rpc/client.js (transport kind "http" or "ws") with ops against
// service through grapeURL and returns one result per op, in order. extra goes to the
// script after the ops (the secure JSON of a mutual-TLS client).
func rpcRunNodeClient(t *testing.T, grapeURL, service, kind string, ops []rpcOp, extra ...string) []rpcResult {
	t.Helper()
	for i := range ops {
		if ops[i].Timeout == 0 {
			ops[i].Timeout = 5000
		}
	}
	js, _ := json.Marshal(ops)
	p := nodeproc.Start(t, "rpc/client.js", append([]string{grapeURL, service, kind, string(js)}, extra...)...)
	out := make([]rpcResult, 0, len(ops))
	for range ops {
		line, err := p.WaitLine(`{"i":`, 25*time.Second)
		if err != nil {
			t.Fatalf("rpc/client.js: %v (results so far: %d)", err, len(out))
		}
		var r rpcResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("rpc/client.js printed %q: %v", line, err)
		}
		out = append(out, r)
	}
	if code, err := p.Wait(10 * time.Second); err != nil || code != 0 {
		t.Fatalf("rpc/client.js exit %d, %v", code, err)
	}
	return out
}

// rpcStartNodeServer starts node/rpc/server.js (kind "http" or "ws") announcing service
// through grapeURL and returns its address "127.0.0.1:port" once the grape lists it. extra
// goes to the script after the kind (the secure JSON of a mutual-TLS server).
func rpcStartNodeServer(t *testing.T, grapeURL, service, kind string, extra ...string) (*nodeproc.Proc, string) {
	t.Helper()
	port := nodeproc.FreeTCPPort(t)
	p := nodeproc.Start(t, "rpc/server.js", append([]string{grapeURL, service, strconv.Itoa(port), kind}, extra...)...)
	if _, err := p.WaitLine(`"ready":true`, 15*time.Second); err != nil {
		t.Fatalf("rpc/server.js: %v", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	rpcWaitVisible(t, grapeURL, service, addr)
	return p, addr
}

// rpcErr returns the error string of a Node result, or "" for none.
func (r rpcResult) rpcErr() string {
	if r.Err == nil {
		return ""
	}
	return *r.Err
}

// rpcExpectOK fails the test unless r has no error and its result equals want (JSON).
func rpcExpectOK(t *testing.T, what string, r rpcResult, want string) {
	t.Helper()
	if r.Err != nil {
		t.Errorf("%s: error %q", what, *r.Err)
		return
	}
	if !rpcJSONEqual(r.Res, []byte(want)) {
		t.Errorf("%s: result %s, want %s", what, r.Res, want)
	}
}

// rpcJSONEqual compares two JSON texts by value.
func rpcJSONEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// rpcRawPost sends one hand-built HTTP request to addr and returns status and body, with a
// client timeout so a server that never answers fails the test instead of hanging it.
func rpcRawPost(t *testing.T, addr string, body []byte, hdr map[string]string) (int, []byte, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", bytes.NewReader(body))
	for k, v := range hdr {
		req.Header[k] = []string{v} // keep "_gr" as written: Node reads lower-case headers
	}
	hc := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
