package interop

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/link"
	"github.com/grenache-go/grenache/test/nodeproc"
	"github.com/grenache-go/grenache/worker"
)

// nodeStreamReply is what node/rpc/stream_client.js prints.
type nodeStreamReply struct {
	Reply  string `json:"reply"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

func runNodeStreamClient(t *testing.T, grapeURL, service string, args ...string) nodeStreamReply {
	t.Helper()
	p := nodeproc.Start(t, "rpc/stream_client.js", append([]string{grapeURL, service}, args...)...)
	line, err := p.WaitLine(`{"reply":`, 25*time.Second)
	if err != nil {
		t.Fatalf("rpc/stream_client.js: %v", err)
	}
	var r nodeStreamReply
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("rpc/stream_client.js printed %q: %v", line, err)
	}
	if code, err := p.Wait(10 * time.Second); err != nil || code != 0 {
		t.Fatalf("rpc/stream_client.js exit %d, %v", code, err)
	}
	return r
}

// TestRPCNodeStreamClientToGoWorker: grenache-nodejs-http's rpc_client_stream
// example, as a fixture, streams to a Go worker: its sha256 job hashes
// exactly the bytes Node sent, and a Go stream handler answering before
// the upload ends (as the example's server does) reaches the example
// client, which never ends its upload.
func TestRPCNodeStreamClientToGoWorker(t *testing.T) {
	g := rpcNodeGrape(t)
	w := rpcStartWorker(t, g, "rpc_stream_jobs", nil)
	rpcWaitVisible(t, g, "rpc_stream_jobs", w.Addr())
	const n = 4<<20 + 123
	r := runNodeStreamClient(t, g, "rpc_stream_jobs", "sha256", strconv.Itoa(n))
	var triple []json.RawMessage
	if err := json.Unmarshal([]byte(r.Reply), &triple); err != nil || len(triple) != 3 || string(triple[1]) != "null" {
		t.Fatalf("Go worker replied %q to the Node stream", r.Reply)
	}
	want := `{"sha256":"` + r.SHA256 + `","bytes":` + strconv.Itoa(n) + `}`
	if string(triple[2]) != want {
		t.Fatalf("Go worker hashed the Node stream to %s, Node sent %s", triple[2], want)
	}

	type meta struct {
		Action, Key, CT, Body string
		Args                  json.RawMessage
	}
	seen := make(chan meta, 1)
	w2 := rpcStartWorker(t, g, "rpc_stream", func(c *worker.Config) {
		c.Stream = func(ctx context.Context, req *worker.StreamRequest, out io.Writer) error {
			buf := make([]byte, 5)
			_, err := io.ReadFull(req.Body, buf)
			seen <- meta{req.Action, req.Key, req.Header.Get("Content-Type"), string(buf), req.Args}
			if err != nil {
				return err
			}
			return req.Reply(out, "world", nil) // before the upload ends: it never does
		}
	})
	rpcWaitVisible(t, g, "rpc_stream", w2.Addr())
	r = runNodeStreamClient(t, g, "rpc_stream", "example")
	if !strings.HasSuffix(r.Reply, `,null,"world"]`) {
		t.Fatalf("example client got %q", r.Reply)
	}
	m := <-seen
	if m.Action != "uploadNewPublicStream" || m.Key != "rpc_stream" || m.CT != "application/pdf" ||
		m.Body != "hello" || string(m.Args) != `{"foo":"bar"}` {
		t.Fatalf("Go handler saw %+v", m)
	}
}

// TestRPCGoStreamToNodeDisableBuffered: client.Client.Stream, through the
// adaptive engine, streams to a Node PeerRPCServer with disableBuffered:
// the Node stream handler sees the _gr rid and key, _a, _ar and the body,
// and its handler.reply comes back as the stream.
func TestRPCGoStreamToNodeDisableBuffered(t *testing.T) {
	g := rpcNodeGrape(t)
	port := nodeproc.FreeTCPPort(t)
	p := nodeproc.Start(t, "rpc/stream_server.js", g, "rpc_node_stream", strconv.Itoa(port))
	if _, err := p.WaitLine(`"ready":true`, 15*time.Second); err != nil {
		t.Fatalf("rpc/stream_server.js: %v", err)
	}
	rpcWaitVisible(t, g, "rpc_node_stream", "127.0.0.1:"+strconv.Itoa(port))

	lcfg := link.DefaultConfig()
	lcfg.Grapes = []string{g}
	lk, err := link.New(lcfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lk.Close() })
	var attempts []client.AttemptEvent
	cfg := client.DefaultConfig()
	cfg.Hooks.OnAttempt = func(e client.AttemptEvent) { attempts = append(attempts, e) }
	c, err := client.New(lk, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })

	const n = 3<<20 + 7
	body := io.LimitReader(strings.NewReader(strings.Repeat("grenache streams ", n/17+1)), n)
	sent := sha256.New()
	rep, err := c.Stream(context.Background(), "rpc_node_stream", client.StreamOptions{
		Action: "sha256", Args: map[string]string{"foo": "bar"},
		Headers: map[string]string{"content-type": "application/pdf"}, Body: io.TeeReader(body, sent)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(rep)
	_ = rep.Close()
	if err != nil {
		t.Fatal(err)
	}
	var triple []json.RawMessage
	var got struct {
		SHA256      string          `json:"sha256"`
		Bytes       int64           `json:"bytes"`
		Action      string          `json:"action"`
		Args        json.RawMessage `json:"args"`
		IsStream    bool            `json:"isStream"`
		Key         string          `json:"key"`
		ContentType string          `json:"contentType"`
	}
	if json.Unmarshal(b, &triple) != nil || len(triple) != 3 || string(triple[1]) != "null" || json.Unmarshal(triple[2], &got) != nil {
		t.Fatalf("Node replied %q", b)
	}
	if got.SHA256 != hex.EncodeToString(sent.Sum(nil)) || got.Bytes != n || got.Action != "sha256" ||
		string(got.Args) != `{"foo":"bar"}` || !got.IsStream || got.Key != "rpc_node_stream" || got.ContentType != "application/pdf" {
		t.Fatalf("Node stream handler saw %s", triple[2])
	}
	if len(attempts) != 1 || attempts[0].Outcome != client.Success {
		t.Fatalf("engine recorded %+v, want one success", attempts)
	}
}
