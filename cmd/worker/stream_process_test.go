package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/transport"
)

// pattern is an endless, non-constant byte source, cheap even under
// -race: it copies from a block of 65521 bytes (a prime, so chunks do not
// line up with it).
type pattern struct{ off int }

var patternBlock = func() []byte {
	b := make([]byte, 65521)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}()

func (p *pattern) Read(b []byte) (int, error) {
	n := copy(b, patternBlock[p.off:])
	p.off = (p.off + n) % len(patternBlock)
	return n, nil
}

// TestProcessStream1GiBKeepsRSSFlat streams 1 GiB through the worker
// binary's sha256 streaming job: the reply must hash exactly what was
// sent, and the worker's peak RSS stay under 50 MB (a buffered body would
// need 1 GiB).
func TestProcessStream1GiBKeepsRSSFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	const n = 1 << 30
	proc, addr := startWorkerProcess(t)
	c := transport.NewHTTPClient(transport.HTTPClientConfig{Timeout: 30 * time.Second})
	defer c.Close()
	sent := sha256.New()
	start := time.Now()
	rep, _, err := c.Stream(context.Background(), addr, "hostile_svc", transport.StreamCallOptions{
		Action: "sha256", Body: io.TeeReader(io.LimitReader(&pattern{}, n), sent)})
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	b, err := io.ReadAll(rep)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	var triple []json.RawMessage
	var res struct {
		SHA256 string `json:"sha256"`
		Bytes  int64  `json:"bytes"`
	}
	if json.Unmarshal(b, &triple) != nil || len(triple) != 3 || string(triple[1]) != "null" || json.Unmarshal(triple[2], &res) != nil {
		t.Fatalf("reply %q", b)
	}
	if want := hex.EncodeToString(sent.Sum(nil)); res.SHA256 != want || res.Bytes != n {
		t.Fatalf("worker hashed %d bytes to %s, sent %d bytes hashing to %s", res.Bytes, res.SHA256, n, want)
	}
	hwm := procKB(t, proc, "VmHWM")
	t.Logf("1 GiB streamed in %v (%.0f MiB/s), worker peak RSS %d kB", took, float64(n>>20)/took.Seconds(), hwm)
	if hwm > 50_000 {
		t.Errorf("worker peak RSS %d kB while streaming 1 GiB, want < 50 MB", hwm)
	}
}
