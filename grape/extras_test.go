package grape

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/dht"
)

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHealthzStatusMetrics(t *testing.T) {
	g, _ := startFake(t, nil)
	if _, err := callAPI(g, "announce", `["svc",1]`); err != nil {
		t.Fatal(err)
	}
	if _, err := callAPI(g, "lookup", `"svc"`); err != nil {
		t.Fatal(err)
	}
	if _, err := callAPI(g, "lookup", `5`); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(t, g.APIURL()+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("healthz %d %q", code, body)
	}
	code, body, _ := get(t, g.APIURL()+"/status")
	var st map[string]any
	if err := json.Unmarshal([]byte(body), &st); code != 200 || err != nil {
		t.Fatalf("status %d %q %v", code, body, err)
	}
	for _, k := range []string{"id", "dht_addr", "api_addr", "bootstrap", "ready", "routing_nodes", "peer_keys", "peers", "values", "seen_peers", "uptime_seconds"} {
		if _, ok := st[k]; !ok {
			t.Errorf("status lacks %q: %s", k, body)
		}
	}
	if st["id"] != "abcd000000000000000000000000000000000000" || st["routing_nodes"] != 3.0 || st["seen_peers"] != 1.0 {
		t.Errorf("status values: %s", body)
	}
	_, body, _ = get(t, g.APIURL()+"/metrics")
	for _, want := range []string{
		`grape_http_requests_total{endpoint="Lookup",outcome="ok"} 1`,
		`grape_http_requests_total{endpoint="Lookup",outcome="app_error"} 1`,
		`grape_http_requests_total{endpoint="Announce",outcome="ok"} 1`,
		`grape_krpc_queries_sent_total{query="get_peers"} 4`,
		`grape_krpc_queries_received_total{query="ping"} 2`,
		`grape_krpc_query_timeouts_total 1`,
		`grape_krpc_queries_unreachable_total 2`,
		`grape_dht_routing_table_nodes 3`,
		`grape_dht_stored_peers 7`,
		`grape_dht_stored_values 0`,
		`grape_seen_peers 1`,
		`grape_http_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// Port 0 announces the grape's own DHT port; -b stores the announcement
// locally under the bind IP before the DHT round.
func TestAnnouncePortZeroAndSelfStore(t *testing.T) {
	g, node := startFake(t, nil) // Bind 127.0.0.1
	if body, _ := callAPI(g, "announce", `["zero_port_svc",0]`); body != "1" {
		t.Fatalf("announce answered %q", body)
	}
	if len(node.announced) != 1 || node.announced[0] != 20002 {
		t.Errorf("announced ports %v, want [20002] (the DHT port)", node.announced)
	}
	if got := node.local["zero_port_svc"]; len(got) != 1 || got[0].String() != "127.0.0.1:20002" {
		t.Errorf("self-store %v", got)
	}

	g2, node2 := startFake(t, func(c *Config) { c.Bind = "" })
	if body, _ := callAPI(g2, "announce", `["svc",1]`); body != "1" {
		t.Fatalf("announce answered %q", body)
	}
	if len(node2.local) != 0 {
		t.Errorf("no -b, yet self-stored: %v", node2.local)
	}
}

func TestKRPCErrorCodeIsStatus(t *testing.T) {
	g, node := startFake(t, nil)
	node.putErr = &dht.Error{Code: 302, Msg: "sequence number less than current"}
	resp, err := http.Post(g.APIURL()+"/put", "", strings.NewReader(`{"data":{"v":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 302 || string(b) != `"sequence number less than current"` {
		t.Errorf("got %d %q", resp.StatusCode, b)
	}
	node.annErr = dht.ErrNoNodes
	if body, _ := callAPI(g, "announce", `["svc",1]`); body != `"No nodes to query"` {
		t.Errorf("announce with no nodes: %q", body)
	}
}

// Concurrent lookups of one name share one DHT walk, like Node's cbq.
//
// The requests that reach the grape while the walk is held share it (the
// defect caught: each would walk, 5 lookups). One that a loaded host
// delays past the 50 ms below arrives after the walk and is answered by the
// lookup cache, whose TTL is set long enough here (the default 500 ms,
// counted from the walk's start, could lapse on a stalled -race host and
// let a straggler walk again, a second lookup from a correct grape).
func TestLookupsMerge(t *testing.T) {
	g, node := startFake(t, func(c *Config) { c.LookupCacheTTL = time.Minute })
	gate := make(chan struct{})
	node.mu.Lock()
	node.lookupGate = gate
	node.mu.Unlock()
	var wg sync.WaitGroup
	bodies := make([]string, 5)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i], _ = callAPI(g, "lookup", `"same"`)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		node.mu.Lock()
		n := node.lookups
		node.mu.Unlock()
		if n >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no lookup reached the DHT in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let the others join the flight (late ones hit the cache)
	close(gate)
	wg.Wait()
	node.mu.Lock()
	defer node.mu.Unlock()
	if node.lookups != 1 {
		t.Errorf("%d DHT lookups for 5 concurrent requests", node.lookups)
	}
	for _, b := range bodies {
		if b != "[]" {
			t.Errorf("merged lookup answered %q", b)
		}
	}
}

// Run's shutdown waits for an in-flight request before closing the DHT.
func TestShutdownDrains(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Bind = "127.0.0.1"
	cfg.APIPort = 0
	node := newFakeNode()
	gate := make(chan struct{})
	node.lookupGate = gate
	g, err := newGrape(cfg, node)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	reply := make(chan string, 1)
	go func() {
		b, err := callAPI(g, "lookup", `"x"`)
		if err != nil {
			b = err.Error()
		}
		reply <- b
	}()
	for {
		node.mu.Lock()
		n := node.lookups
		node.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned with a request in flight")
	case <-time.After(100 * time.Millisecond):
	}
	close(gate)
	if b := <-reply; b != "[]" {
		t.Errorf("in-flight request got %q", b)
	}
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	if err := g.Close(); err != nil {
		t.Errorf("Close after Run: %v", err)
	}
}

func TestAPIURLFollowsBind(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err == nil { // hosts without IPv6 loopback check IPv4 only
		ln.Close()
		g, _ := startFake(t, func(c *Config) { c.Bind = "::1" })
		if !strings.HasPrefix(g.APIURL(), "http://[::1]:") {
			t.Fatalf("APIURL %s", g.APIURL())
		}
		if code, _, _ := get(t, g.APIURL()+"/healthz"); code != 200 {
			t.Errorf("healthz over IPv6 bind: %d", code)
		}
	}
	g2, _ := startFake(t, func(c *Config) { c.Bind = "0.0.0.0" })
	if !strings.HasPrefix(g2.APIURL(), "http://127.0.0.1:") {
		t.Errorf("APIURL %s", g2.APIURL())
	}
}

// One keep-alive connection carries chi routes and Grenache requests in
// turn: the connection's reused route context must route each request on
// its own (a stale method or path from the one before would send a POST
// to /healthz's route or a GET /status to the Grenache handler). A raw
// socket makes sure every request really uses the same connection.
func TestOneConnectionMixesRoutesAndGrenacheRequests(t *testing.T) {
	g, _ := startFake(t, nil)
	if _, err := callAPI(g, "announce", `["svc",1]`); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", g.APIAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	do := func(method, target, body string) (int, string) {
		t.Helper()
		fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", method, target, len(body), body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%s %s: %v", method, target, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Fatalf("%s %s: the server closed the connection", method, target)
		}
		return resp.StatusCode, string(b)
	}
	for range 3 {
		if code, body := do("GET", "/healthz", ""); code != 200 || body != "ok\n" {
			t.Fatalf("GET /healthz: %d %q", code, body)
		}
		if code, body := do("POST", "/lookup", `{"data":"svc"}`); code != 200 || body != `["127.0.0.1:1"]` {
			t.Fatalf("POST /lookup: %d %q", code, body)
		}
		if code, body := do("POST", "/healthz", `{"data":"svc"}`); code != 200 || body != `"ERR_REQ_NOTFOUND"` {
			t.Fatalf("POST /healthz goes to the Grenache handler like any unknown path: %d %q", code, body)
		}
		if code, body := do("GET", "/status", ""); code != 200 || !strings.Contains(body, `"routing_nodes"`) {
			t.Fatalf("GET /status: %d %q", code, body)
		}
		if code, body := do("GET", "/lookup", `{"data":"svc"}`); code != 200 || body != `["127.0.0.1:1"]` {
			t.Fatalf("GET /lookup (any method works, as in Node): %d %q", code, body)
		}
	}
}
