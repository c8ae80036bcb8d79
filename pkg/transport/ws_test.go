package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func startWSServer(t testing.TB, h Handler) (string, *WSServer) {
	t.Helper()
	return startWSServerWith(t, h, WSServerConfig{})
}

func startWSServerWith(t testing.TB, h Handler, cfg WSServerConfig) (string, *WSServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewWSServer(h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.Shutdown(ctx)
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), s
}

func newTestWSClient(t testing.TB, cfg WSClientConfig) *WSClient {
	c := NewWSClient(cfg)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestWSRoundTrip(t *testing.T) {
	addr, _ := startWSServer(t, testHandler)
	c := newTestWSClient(t, WSClientConfig{})
	res, err := c.Call(context.Background(), addr, "ws_rpc_test", "hello")
	if err != nil || string(res) != `"world"` {
		t.Fatalf("%s %v", res, err)
	}
	_, err = c.Call(context.Background(), addr, "ws_rpc_test", map[string]bool{"fail": true})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_SOMETHING_FAILED" {
		t.Fatalf("handler error: %v", err)
	}
}

func TestWSMultiplexesConcurrentCalls(t *testing.T) {
	addr, _ := startWSServer(t, testHandler)
	c := newTestWSClient(t, WSClientConfig{})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() {
			// Later calls finish first: replies arrive out of order and must
			// still reach the right caller.
			want := fmt.Sprintf(`{"i":%d,"sleep":%d}`, i, 1+(100-i)/10)
			res, err := c.Call(context.Background(), addr, "k", json.RawMessage(want))
			if err == nil && string(res) != want {
				err = fmt.Errorf("call %d got %s", i, res)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	c.mu.Lock()
	n := len(c.conns)
	c.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d sockets for one peer, want 1", n)
	}
}

// TestWSServerWireShape talks raw frames: any path, text replies, and
// unparseable frames ignored (the next good frame is still answered).
func TestWSServerWireShape(t *testing.T) {
	addr, _ := startWSServer(t, testHandler)
	for _, path := range []string{"/ws", "/", "/any/path"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ws, resp, err := websocket.Dial(ctx, "ws://"+addr+path, nil) // offers deflate by default
		if err != nil {
			cancel()
			t.Fatalf("%s: %v", path, err)
		}
		if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			t.Errorf("server accepted an extension: %q", ext)
		}
		_ = ws.Write(ctx, websocket.MessageText, []byte("garbage"))
		_ = ws.Write(ctx, websocket.MessageText, []byte(`{"not":"an array"}`))
		_ = ws.Write(ctx, websocket.MessageText, []byte(`["1b3eede0-753b-460e-8e42-81891878f924","ws_rpc_test","hello"]`))
		typ, msg, err := ws.Read(ctx)
		if err != nil || typ != websocket.MessageText || string(msg) != `["1b3eede0-753b-460e-8e42-81891878f924",null,"world"]` {
			t.Fatalf("%s: %v %s %v", path, typ, msg, err)
		}
		_ = ws.CloseNow()
		cancel()
	}
}

func TestWSTimeoutTyped(t *testing.T) {
	addr, _ := startWSServer(t, testHandler)
	c := newTestWSClient(t, WSClientConfig{Timeout: 50 * time.Millisecond})
	_, err := c.Call(context.Background(), addr, "k", map[string]int{"sleep": 2000})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want ErrTimeout", err)
	}
	// The socket survives a timed-out call.
	if res, err := c.Call(context.Background(), addr, "k", "hello"); err != nil || string(res) != `"world"` {
		t.Fatalf("after timeout: %s %v", res, err)
	}
}

func TestWSClosedSocketFailsPendingCalls(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// A raw peer that accepts the upgrade, reads one frame, then drops.
	got := make(chan struct{})
	srv := &httpServerForTest{}
	srv.start(t, ln, func(ws *websocket.Conn) {
		_, _, _ = ws.Read(context.Background())
		close(got)
		_ = ws.CloseNow()
	})
	c := newTestWSClient(t, WSClientConfig{Timeout: 10 * time.Second})
	start := time.Now()
	_, err = c.Call(context.Background(), ln.Addr().String(), "k", "hello")
	<-got
	if !errors.Is(err, ErrTransport) || !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrTransport+ErrClosed", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("pending call failed only after %v", d)
	}
}

func TestWSDeadPeer(t *testing.T) {
	c := newTestWSClient(t, WSClientConfig{})
	if _, err := c.Call(context.Background(), deadAddr(t), "k", "hello"); !errors.Is(err, ErrTransport) {
		t.Fatalf("err %v", err)
	}
}

func TestWSShutdownDrainsInFlight(t *testing.T) {
	started := make(chan struct{}, 1)
	addr, s := startWSServer(t, func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		started <- struct{}{}
		time.Sleep(150 * time.Millisecond)
		return "done", nil
	})
	c := newTestWSClient(t, WSClientConfig{})
	res := make(chan error, 1)
	go func() {
		r, err := c.Call(context.Background(), addr, "k", nil)
		if err == nil && string(r) != `"done"` {
			err = errors.New(string(r))
		}
		res <- err
	}()
	<-started
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatalf("in-flight call lost in Shutdown: %v", err)
	}
}

func TestWSTLS(t *testing.T) {
	pki := newTestPKI(t)
	addr, _ := startWSServerWith(t, testHandler, WSServerConfig{TLS: &tlsConfig{Certificates: []tlsCert{pki.server}}})
	c := newTestWSClient(t, WSClientConfig{TLS: &tlsConfig{RootCAs: pki.pool}})
	if res, err := c.Call(context.Background(), addr, "k", "hello"); err != nil || string(res) != `"world"` {
		t.Fatalf("wss: %s %v", res, err)
	}
}

func TestWSClientClosesIdleSockets(t *testing.T) {
	addr, _ := startWSServer(t, testHandler)
	c := newTestWSClient(t, WSClientConfig{IdleTimeout: 50 * time.Millisecond})
	if _, err := c.Call(context.Background(), addr, "k", "hello"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.conns)
		c.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle socket never closed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The next call dials again transparently.
	if res, err := c.Call(context.Background(), addr, "k", "hello"); err != nil || string(res) != `"world"` {
		t.Fatalf("after idle close: %s %v", res, err)
	}
}

// A reply whose rid matches but whose body is not JSON fails its call at
// once as a transport error, instead of at the call's timeout.
func TestWSGarbledReplyFailsItsCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &httpServerForTest{}
	srv.start(t, ln, func(ws *websocket.Conn) {
		defer ws.CloseNow()
		_, m, err := ws.Read(context.Background())
		if err != nil {
			return
		}
		rid, _ := replyRID(m)
		_ = ws.Write(context.Background(), websocket.MessageText, []byte(`["`+string(rid)+`",null,{"cut`))
		_, _, _ = ws.Read(context.Background()) // hold the socket open
	})
	c := newTestWSClient(t, WSClientConfig{Timeout: 10 * time.Second})
	start := time.Now()
	_, err = c.Call(context.Background(), ln.Addr().String(), "k", "hello")
	if !errors.Is(err, ErrTransport) || errors.Is(err, ErrTimeout) {
		t.Fatalf("err %v, want a transport error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("garbled reply failed its call only after %v", d)
	}
}

func TestReplyRID(t *testing.T) {
	for _, tc := range []struct {
		frame, rid string
		ok         bool
	}{
		{`["abc",null,1]`, "abc", true},
		{`["abc"`, "abc", true}, // the rest is the waiter's to check
		{` ["abc", null, 1]`, "abc", true},
		{`["a\"b",null,1]`, `a"b`, true},
		{`["a\u0062",null,1]`, "ab", true},
		{`[1,null,1]`, "", false},
		{`{"rid":"abc"}`, "", false},
		{`["abc`, "", false},
		{`garbage`, "", false},
	} {
		rid, ok := replyRID([]byte(tc.frame))
		if ok != tc.ok || ok && string(rid) != tc.rid {
			t.Errorf("replyRID(%s) = %q %v, want %q %v", tc.frame, rid, ok, tc.rid, tc.ok)
		}
	}
}
