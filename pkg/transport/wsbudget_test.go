package transport

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/grenache-go/grenache/pkg/budget"
)

// wsClaim opens a raw WebSocket connection to addr and sends the start of
// one masked text frame whose header claims claim bytes, followed by the
// first send bytes of it; the connection stays open until cleanup.
func wsClaim(t *testing.T, addr string, claim uint64, send int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	fmt.Fprintf(c, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	_ = c.SetReadDeadline(time.Time{})
	hdr := []byte{0x81, 0x80 | 127}
	hdr = binary.BigEndian.AppendUint64(hdr, claim)
	hdr = append(hdr, 0, 0, 0, 0) // zero mask key: payload bytes go as they are
	if _, err := c.Write(append(hdr, strings.Repeat(" ", send)...)); err != nil {
		t.Fatal(err)
	}
	return c
}

// Frames that claim 8 MiB and carry one byte: the server holds what
// arrived, and another client's calls still answer.
func TestWSServerMessageMemoryFollowsBytesReceived(t *testing.T) {
	const conns = 300
	b, _ := budget.New(DefaultBodyBudget, budget.DefaultWait)
	addr, _ := startWSServerWith(t, testHandler, WSServerConfig{BodyBudget: b})
	for range conns {
		wsClaim(t, addr, 8<<20, 1)
	}
	waitFor(t, "every message to lease its first chunk", func() bool { return b.InUse() == conns*budget.MinChunk })
	c := newTestWSClient(t, WSClientConfig{})
	lat := make([]time.Duration, 0, 21)
	for range 21 {
		start := time.Now()
		if res, err := c.Call(t.Context(), addr, "k", "hello"); err != nil || string(res) != `"world"` {
			t.Fatalf("call beside claimed frames: %s %v", res, err)
		}
		lat = append(lat, time.Since(start))
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if med := lat[len(lat)/2]; med > 500*time.Millisecond {
		t.Fatalf("median call %v beside %d claimed frames: %v", med, conns, lat)
	}
}

// A message that gets no budget within the wait: its connection answers
// what is in flight and closes with 1013 ERR_SERVER_BUSY; the budget is
// whole again and other connections are served.
func TestWSServerOverBudgetClosesTryAgainLater(t *testing.T) {
	b, _ := budget.New(5000, 50*time.Millisecond)
	addr, _ := startWSServerWith(t, testHandler, WSServerConfig{BodyBudget: b, MaxMessageBytes: 4000})
	wsClaim(t, addr, 3999, 3000) // leases 4001 bytes and waits for the rest
	waitFor(t, "the first message to lease its buffer", func() bool { return b.InUse() == 4001 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	big := `[1,"k","` + strings.Repeat("x", 2000) + `"]` // needs 2 KiB more than is left
	if err := ws.Write(ctx, websocket.MessageText, []byte(big)); err != nil {
		t.Fatal(err)
	}
	_, _, err = ws.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.StatusTryAgainLater || ce.Reason != TokenServerBusy {
		t.Fatalf("got %v, want close 1013 %s", err, TokenServerBusy)
	}
	waitFor(t, "the refused message to release its lease", func() bool { return b.InUse() == 4001 })
	c := newTestWSClient(t, WSClientConfig{})
	if res, err := c.Call(ctx, addr, "k", "hello"); err != nil || string(res) != `"world"` {
		t.Fatalf("small call after the refusal: %s %v", res, err)
	}
}
