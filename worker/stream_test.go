package worker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/pkg/transport"
)

func streamTo(t *testing.T, addr, action string, body io.Reader) (errMsg any, res json.RawMessage) {
	t.Helper()
	rep, _, err := newClient(t).Stream(context.Background(), addr, "job_service", transport.StreamCallOptions{Action: action, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	b, err := io.ReadAll(rep)
	if err != nil {
		t.Fatal(err)
	}
	var el []json.RawMessage
	if err := json.Unmarshal(b, &el); err != nil || len(el) != 3 {
		t.Fatalf("reply %q: %v", b, err)
	}
	_ = json.Unmarshal(el[1], &errMsg)
	return errMsg, el[2]
}

func TestWorkerStreamSHA256Job(t *testing.T) {
	w, _ := startWorker(t, nil)
	data := bytes.Repeat([]byte("grenache"), 300_000) // 2.4 MB
	sum := sha256.Sum256(data)
	e, res := streamTo(t, w.Addr(), StreamJobSHA256, bytes.NewReader(data))
	want := `{"sha256":"` + hex.EncodeToString(sum[:]) + `","bytes":2400000}`
	if e != nil || string(res) != want {
		t.Fatalf("sha256 job: err %v, result %s, want %s", e, res, want)
	}
	e, _ = streamTo(t, w.Addr(), "nope", strings.NewReader("x"))
	if s, _ := e.(string); !strings.Contains(s, "ERR_UNKNOWN_ACTION") || !strings.Contains(s, "sha256") {
		t.Fatalf("unknown action: %v", e)
	}
}

// A stream far over the 8 MiB buffered body limit goes through: stream
// bodies are not buffered.
func TestWorkerStreamOverBodyLimit(t *testing.T) {
	w, _ := startWorker(t, nil)
	n := int64(3 * MaxBodyBytes)
	e, res := streamTo(t, w.Addr(), StreamJobSHA256, io.LimitReader(zeros{}, n))
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(zeros{}, n))
	want := `{"sha256":"` + hex.EncodeToString(h.Sum(nil)) + `","bytes":25165824}`
	if e != nil || string(res) != want {
		t.Fatalf("got %v %s", e, res)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestWorkerCustomStreamHandler(t *testing.T) {
	w, _ := startWorker(t, func(c *Config) {
		c.Stream = func(ctx context.Context, req *StreamRequest, out io.Writer) error {
			b, _ := io.ReadAll(req.Body)
			return req.Reply(out, strings.ToUpper(string(b))+" "+string(req.Args), nil)
		}
	})
	rep, _, err := newClient(t).Stream(context.Background(), w.Addr(), "s", transport.StreamCallOptions{Args: []int{1}, Body: strings.NewReader("hello")})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	b, _ := io.ReadAll(rep)
	if !strings.HasSuffix(string(b), `,null,"HELLO [1]"]`) {
		t.Fatalf("reply %s", b)
	}
}
