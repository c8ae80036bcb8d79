package transport

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// hashStream answers a stream with the sha256 and length of its body, and
// echoes the request's metadata so tests can check the headers arrived.
func hashStream(ctx context.Context, req *StreamRequest, w io.Writer) error {
	switch req.Action {
	case "fail":
		return errors.New("ERR_STREAM_FAILED")
	case "early":
		// Answer first, then read: the full-duplex path Node's example uses.
		if err := req.Reply(w, "world", nil); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, req.Body)
		return err
	case "partial":
		_, _ = w.Write([]byte(`["`))
		return errors.New("broken")
	}
	h := sha256.New()
	n, err := io.Copy(h, req.Body)
	if err != nil {
		return err
	}
	return req.Reply(w, map[string]any{"sha256": hex.EncodeToString(h.Sum(nil)), "bytes": n,
		"key": req.Key, "args": req.Args, "ct": req.Header.Get("Content-Type")}, nil)
}

// startStreamServer serves testHandler and hashStream with cfg's other
// fields.
func startStreamServer(t *testing.T, cfg HTTPServerConfig) string {
	t.Helper()
	cfg.StreamHandler = hashStream
	addr, _ := startHTTPServerWith(t, testHandler, cfg)
	return addr
}

func readTriple(t *testing.T, r io.Reader) (rid string, errMsg any, res json.RawMessage) {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read reply: %v", err)
	}
	var el []json.RawMessage
	if err := json.Unmarshal(b, &el); err != nil || len(el) != 3 {
		t.Fatalf("reply %q is not a triple: %v", b, err)
	}
	_ = json.Unmarshal(el[0], &rid)
	_ = json.Unmarshal(el[1], &errMsg)
	return rid, errMsg, el[2]
}

func TestStreamRoundTrip(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{})
	c := newTestClient(t, HTTPClientConfig{})
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	want := sha256.Sum256(data)
	rep, _, err := c.Stream(context.Background(), addr, "rpc_stream", StreamCallOptions{
		Action: "sha256", Args: map[string]string{"foo": "bar"},
		Headers: map[string]string{"content-type": "application/pdf"}, Body: bytes.NewReader(data)})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	rid, e, res := readTriple(t, rep)
	if rid != rep.RID || e != nil {
		t.Fatalf("rid %q (want %q), err %v", rid, rep.RID, e)
	}
	var got struct {
		SHA   string          `json:"sha256"`
		Bytes int             `json:"bytes"`
		Key   string          `json:"key"`
		Args  json.RawMessage `json:"args"`
		CT    string          `json:"ct"`
	}
	if err := json.Unmarshal(res, &got); err != nil {
		t.Fatal(err)
	}
	if got.SHA != hex.EncodeToString(want[:]) || got.Bytes != len(data) || got.Key != "rpc_stream" ||
		string(got.Args) != `{"foo":"bar"}` || got.CT != "application/pdf" {
		t.Fatalf("reply %s", res)
	}
}

// TestStreamWireAsNode checks the exact bytes PeerRPCClient.stream sends
// reach the stream handler, and that the buffered wire still works beside it.
func TestStreamWireAsNode(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(conn, "POST / HTTP/1.1\r\nHost: x\r\n_gr: [\"r1\",\"rpc_stream\"]\r\nconnection: close\r\n"+
		"transfer-encoding: chunked\r\n_a: sha256\r\n_ar: not json\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
	resp, err := io.ReadAll(conn)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("hello"))
	if !bytes.Contains(resp, []byte(`["r1",null,{"args":{},"bytes":5,"ct":"","key":"rpc_stream","sha256":"`+hex.EncodeToString(sum[:])+`"}]`)) {
		t.Fatalf("reply %q", resp)
	}

	// The buffered handler still serves ordinary requests on the same server.
	c := newTestClient(t, HTTPClientConfig{})
	res, err := c.Call(context.Background(), addr, "rpc_test", "hello", CallOptions{})
	if err != nil || string(res) != `"world"` {
		t.Fatalf("buffered call: %s, %v", res, err)
	}
}

// TestStreamBufferedWithoutHandler: with no stream handler, a chunked
// request with _gr is parsed as a buffered triple, as a Node server
// without disableBuffered does.
func TestStreamBufferedWithoutHandler(t *testing.T) {
	addr, _ := startHTTPServer(t, testHandler)
	c := newTestClient(t, HTTPClientConfig{})
	rep, _, err := c.Stream(context.Background(), addr, "rpc_test", StreamCallOptions{
		Body: strings.NewReader(`["ignored","ignored","hello"]`)})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	rid, e, res := readTriple(t, rep)
	if rid != rep.RID || e != nil || string(res) != `"world"` {
		t.Fatalf("got %q %v %s", rid, e, res)
	}
}

func TestStreamHandlerErrors(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{})
	c := newTestClient(t, HTTPClientConfig{})
	rep, _, err := c.Stream(context.Background(), addr, "k", StreamCallOptions{Action: "fail", Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	_, e, _ := readTriple(t, rep)
	rep.Close()
	if e != "ERR_STREAM_FAILED" {
		t.Fatalf("error slot %v", e)
	}

	// A handler failing after a partial reply aborts the connection: the
	// caller sees a truncated stream, never a reply that looks complete.
	rep, _, err = c.Stream(context.Background(), addr, "k", StreamCallOptions{Action: "partial", Body: strings.NewReader("x")})
	if err == nil {
		_, err = io.ReadAll(rep)
		rep.Close()
	}
	if !errors.Is(err, ErrTransport) {
		t.Fatalf("truncated reply read: %v, want ErrTransport", err)
	}
}

// TestStreamEarlyReply: the server may answer before the upload ends and
// keep reading it (full duplex), as Node's example server does.
func TestStreamEarlyReply(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{})
	c := newTestClient(t, HTTPClientConfig{})
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() { _, _ = pw.Write([]byte("hello")) }()
	rep, _, err := c.Stream(context.Background(), addr, "k", StreamCallOptions{Action: "early", Body: pr})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	line, err := bufio.NewReader(rep).ReadString(']')
	if err != nil || !strings.HasSuffix(line, `,null,"world"]`) {
		t.Fatalf("early reply %q, %v", line, err)
	}
}

// TestStreamIdleTimeout: a stream with nothing moving fails with
// ErrTimeout after the idle timeout, not before and not never.
func TestStreamIdleTimeout(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{})
	c := newTestClient(t, HTTPClientConfig{})
	pr, pw := io.Pipe()
	defer pw.Close()
	start := time.Now()
	_, started, err := c.Stream(context.Background(), addr, "k", StreamCallOptions{Body: pr, IdleTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || !started {
		t.Fatalf("stalled stream: %v (started %v), want ErrTimeout", err, started)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("gave up after %v, before the 200ms idle timeout", d)
	}
}

func TestStreamDeadPeerNotStarted(t *testing.T) {
	c := newTestClient(t, HTTPClientConfig{})
	_, started, err := c.Stream(context.Background(), deadAddr(t), "k", StreamCallOptions{Body: strings.NewReader("x")})
	if !errors.Is(err, ErrTransport) || started {
		t.Fatalf("dead peer: %v (started %v), want ErrTransport, not started", err, started)
	}
}

func TestStreamRefusedWhileDraining(t *testing.T) {
	addr := startStreamServer(t, HTTPServerConfig{Refuse: func() bool { return true }})
	c := newTestClient(t, HTTPClientConfig{})
	_, _, err := c.Stream(context.Background(), addr, "k", StreamCallOptions{Body: strings.NewReader("x")})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != 503 || !strings.Contains(se.Body, TokenServerDraining) {
		t.Fatalf("draining: %v", err)
	}
}
