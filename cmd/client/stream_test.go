package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCallStream(t *testing.T) {
	url := cluster(t, 1)
	transportWorker(t, url, "streamsvc", nil) // the built-in jobs include the sha256 stream job
	data := bytes.Repeat([]byte("stream me "), 100_000)
	file := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := `{"sha256":"` + hex.EncodeToString(sum[:]) + `","bytes":1000000}]`
	code, out, errs := runClient(t, nil, "call", "--grape", url, "--stream", file, "--action", "sha256", "streamsvc")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), want) {
		t.Fatalf("call --stream FILE: code %d out %q err %q", code, out, errs)
	}

	var o, e bytes.Buffer
	code = runIO(context.Background(), []string{"call", "--grape", url, "--stream", "-", "--action", "sha256", "streamsvc"},
		env(nil), strings.NewReader("hello"), &o, &e)
	sum = sha256.Sum256([]byte("hello"))
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(o.String()), `{"sha256":"`+hex.EncodeToString(sum[:])+`","bytes":5}]`) {
		t.Fatalf("call --stream -: code %d out %q err %q", code, o.String(), e.String())
	}

	code, _, errs = runClient(t, nil, "call", "--grape", url, "--stream", filepath.Join(t.TempDir(), "missing"), "streamsvc")
	if code != 2 || !strings.Contains(errs, "--stream") || !strings.Contains(errs, "CLIENT_STREAM") {
		t.Fatalf("missing file: code %d err %q", code, errs)
	}
	code, _, errs = runClient(t, nil, "call", "--grape", url, "--stream", file, "--args", "{nope", "streamsvc")
	if code != 2 || !strings.Contains(errs, "--args") || !strings.Contains(errs, "CLIENT_STREAM_ARGS") {
		t.Fatalf("bad args: code %d err %q", code, errs)
	}
}
