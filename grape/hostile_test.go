package grape

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grenache-go/grenache/internal/hostile"
	"github.com/grenache-go/grenache/pkg/budget"
	"github.com/grenache-go/grenache/pkg/connlimit"
)

// apiAddr is the grape's API as host:port.
func apiAddr(g *Grape) string { return strings.TrimPrefix(g.APIURL(), "http://") }

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// lookupTimes times n sequential lookups of a name announced beforehand.
func lookupTimes(t *testing.T, g *Grape, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		got, err := callAPI(g, "lookup", `"hostile_svc"`)
		if err != nil || !strings.Contains(got, "1337") {
			t.Fatalf("lookup beside hostile clients: %q %v", got, err)
		}
		out = append(out, time.Since(start))
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Connections that claim a big body and send one byte hold what arrived
// (512 bytes each), and lookups from another client still answer.
func TestAPIClaimedBodiesLeaseWhatArrives(t *testing.T) {
	const conns = 500
	g, _ := startFake(t, func(c *Config) { c.MaxPayloadSize = 1 << 20; c.BodyBudget = 64 << 20 })
	if _, err := callAPI(g, "announce", `["hostile_svc",1337]`); err != nil {
		t.Fatal(err)
	}
	hostile.HoldConns(t, apiAddr(g), conns, "POST /lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n{")
	eventually(t, "every body to lease its first chunk", func() bool { return g.bodies.InUse() == conns*budget.MinChunk })
	lat := lookupTimes(t, g, 21)
	// Generous (loaded 2-core box): a lookup starved of budget would take
	// the 1 s budget wait and get 503.
	if med := lat[len(lat)/2]; med > 500*time.Millisecond {
		t.Fatalf("lookup median %v beside %d stalled bodies: %v", med, conns, lat)
	}
}

// A body that cannot get budget within the wait gets Node-style 503
// ERR_GRAPE_BUSY and the connection is closed; the budget is whole again.
func TestAPIOverBudgetGets503(t *testing.T) {
	g, _ := startFake(t, func(c *Config) { c.MaxPayloadSize = 16384; c.BodyBudget = 20000 })
	head := "POST /lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 16384\r\n\r\n"
	hostile.HoldConns(t, apiAddr(g), 1, head+strings.Repeat(" ", 16000))
	eventually(t, "the first body to lease 16 KiB", func() bool { return g.bodies.InUse() == 16384 })
	c := hostile.HoldConns(t, apiAddr(g), 1, head+strings.Repeat(" ", 3000))[0]
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no reply to the body over budget: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || string(b) != "ERR_GRAPE_BUSY" || !resp.Close {
		t.Fatalf("got %d %q close=%v, want 503 ERR_GRAPE_BUSY and Connection: close", resp.StatusCode, b, resp.Close)
	}
	eventually(t, "the refused body to release its lease", func() bool { return g.bodies.InUse() == 16384 })
}

// Slowloris: connections that never finish their headers are dropped by
// the header timeout, at most MaxConns are open at once, and a real client
// is served once a slot frees.
func TestAPISlowlorisIsDroppedAndTheCapHolds(t *testing.T) {
	const capN, loris = 20, 60
	g, _ := startFake(t, func(c *Config) { c.MaxConns = capN; c.HeaderTimeout = 200 * time.Millisecond })
	if _, err := callAPI(g, "announce", `["hostile_svc",1337]`); err != nil {
		t.Fatal(err)
	}
	http.DefaultClient.CloseIdleConnections() // the announce's keep-alive socket holds a slot
	lim := g.capped.(*connlimit.Listener)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			peak.Store(max(peak.Load(), int64(lim.Open())))
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	start := time.Now()
	conns := hostile.HoldConns(t, apiAddr(g), loris, "POST /lookup HTTP/1.1\r\nHost: x\r\n")
	dropped := make(chan time.Duration, loris)
	for _, c := range conns {
		go func() {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err := io.Copy(io.Discard, c) // returns when the grape closes it
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				dropped <- -1
				return
			}
			dropped <- time.Since(start)
		}()
	}
	// A real client queues behind the flood and is served as slots free.
	lat := lookupTimes(t, g, 1)
	var last time.Duration
	for range loris {
		d := <-dropped
		if d < 0 {
			t.Fatal("a connection that never sent its headers was kept 10 s")
		}
		last = max(last, d)
	}
	close(stop)
	<-sampled
	if p := peak.Load(); p > capN {
		t.Fatalf("%d connections open at once, cap %d", p, capN)
	}
	// 60 connections through 20 slots at 200 ms each: three rounds.
	if last < 3*200*time.Millisecond {
		t.Fatalf("all %d dropped after %v: faster than %d rounds of the header timeout, so the cap did not hold", loris, last, loris/capN)
	}
	t.Logf("peak open %d (cap %d); last slowloris dropped after %v; lookup in the flood took %v", peak.Load(), capN, last, lat[0])
}
