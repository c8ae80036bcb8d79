package transport

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/hostile"
	"github.com/grenache-go/grenache/pkg/budget"
)

// echoLatencies times n sequential echo calls over one keep-alive client.
func echoLatencies(t *testing.T, addr string, n int) []time.Duration {
	t.Helper()
	c := newTestClient(t, HTTPClientConfig{Timeout: 5 * time.Second})
	out := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		res, err := c.Call(t.Context(), addr, "echo", json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), CallOptions{})
		if err != nil {
			t.Fatalf("echo %d: %v", i, err)
		}
		if string(res) != fmt.Sprintf(`{"i":%d}`, i) {
			t.Fatalf("echo %d: got %s", i, res)
		}
		out = append(out, time.Since(start))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Many connections claiming 8 MiB and sending one byte: the server holds
// what arrived, not what was claimed, and other clients are served.
func TestHTTPServerBodyMemoryFollowsBytesReceived(t *testing.T) {
	const conns = 500
	b, _ := budget.New(DefaultBodyBudget, budget.DefaultWait)
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{BodyBudget: b})
	before := hostile.LiveHeap()
	hostile.HoldConns(t, addr, conns, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n[")
	waitFor(t, "every connection to lease its first chunk", func() bool { return b.InUse() == conns*budget.MinChunk })
	// 500 requests that claimed 4 GiB between them hold 250 KiB of budget;
	// the heap grows by the connections' own state (~10 KiB each), far
	// below the 4 GiB reserving the claims would take.
	if grown := int64(hostile.LiveHeap()) - int64(before); grown > 64<<20 {
		t.Fatalf("heap grew %d MiB for %d one-byte bodies", grown>>20, conns)
	}
	lat := echoLatencies(t, addr, 21)
	// Generous bound (the loaded 2-core box): an echo that had to wait for
	// budget would take the 1 s budget wait or get 503.
	if med := lat[len(lat)/2]; med > 500*time.Millisecond {
		t.Fatalf("echo median %v with %d stalled bodies (all: %v)", med, conns, lat)
	}
	t.Logf("echo with %d stalled 8 MiB claims: median %v max %v", conns, lat[len(lat)/2], lat[len(lat)-1])
}

// stall sends a request claiming claim bytes, sends part of them and leaves
// the connection open; the reader reads its reply, if one comes.
func stall(t *testing.T, addr string, claim, send int) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", claim)
	if _, err := c.Write(bytes.Repeat([]byte{' '}, send)); err != nil {
		t.Fatal(err)
	}
	return c, bufio.NewReader(c)
}

// A body that cannot get budget within the wait is answered 503
// ERR_SERVER_BUSY (never a hang), and releases what it held.
func TestHTTPServerOverBudgetGets503(t *testing.T) {
	b, _ := budget.New(100_000, 50*time.Millisecond)
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{BodyBudget: b, MaxBodyBytes: 64 << 10})
	stall(t, addr, 64000, 60000) // grows to a 64 KiB buffer and waits for the rest
	waitFor(t, "the first body to lease 64 KiB", func() bool { return b.InUse() == 64<<10 })
	c2, r2 := stall(t, addr, 64000, 60000) // needs 64 KiB more than is left
	_ = c2.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(r2, nil)
	if err != nil {
		t.Fatalf("second body: no reply: %v", err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || body.String() != `[null,"ERR_SERVER_BUSY",null]` {
		t.Fatalf("got %d %q, want 503 [null,\"ERR_SERVER_BUSY\",null]", resp.StatusCode, body.String())
	}
	waitFor(t, "the refused body to release its lease", func() bool { return b.InUse() == 64<<10 })
	if lat := echoLatencies(t, addr, 3); lat[2] > 2*time.Second {
		t.Fatalf("echo beside a stalled body: %v", lat)
	}
}

// Concurrent gzip bombs: each stops at the body limit with 413 (or waits
// and gets 503); their output together never exceeds the budget, and the
// budget is whole again afterwards.
func TestHTTPServerGzipBombsShareTheBudget(t *testing.T) {
	b, _ := budget.New(MinBodyBudget(8<<20)*2, 2*time.Second)
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{BodyBudget: b})
	bomb := hostile.GzipBomb(256)
	var peak int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak = max(peak, b.InUse())
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	statuses := hostile.SendBombs(t, http.DefaultClient, "http://"+addr+"/", bomb, 8)
	close(stop)
	<-sampled
	for i, s := range statuses {
		if s != http.StatusRequestEntityTooLarge && s != http.StatusServiceUnavailable {
			t.Errorf("bomb %d: status %d, want 413 or 503", i, s)
		}
	}
	if peak > b.Total() {
		t.Fatalf("peak lease %d over budget %d", peak, b.Total())
	}
	waitFor(t, "every bomb to release its lease", func() bool { return b.InUse() == 0 })
	http.DefaultClient.CloseIdleConnections()
	t.Logf("8 bombs of 256 MiB: statuses %v, peak lease %d MiB", statuses, peak>>20)
}

func TestMinBodyBudgetCoversTheLargestRequest(t *testing.T) {
	b, _ := budget.New(MinBodyBudget(1000), 10*time.Millisecond)
	addr, _ := startHTTPServerWith(t, testHandler, HTTPServerConfig{BodyBudget: b, MaxBodyBytes: 1000})
	payload := `"` + strings.Repeat("a", 1000-len(`[1,"k",""]`)) + `"`
	body := []byte(`[1,"k",` + payload + `]`)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	_, _ = zw.Write(body)
	_ = zw.Close()
	for _, tc := range []struct {
		name string
		body []byte
		hdr  map[string]string
	}{{"plain", body, nil}, {"gzip", zb.Bytes(), map[string]string{"grc-compress": "gzip"}}} {
		status, _, _ := rawPost(t, "POST", "http://"+addr+"/", tc.body, tc.hdr)
		if status != http.StatusOK {
			t.Errorf("%s: a body of exactly the limit got %d under MinBodyBudget", tc.name, status)
		}
	}
}
