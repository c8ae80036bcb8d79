package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/grenache-go/grenache/internal/version"
)

// --version prints one line and exits 0, whatever the other settings say.
func TestVersionExits0(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	env := func(k string) string {
		if k == "WORKER_PORT" {
			return "not-a-port"
		}
		return ""
	}
	code := run(context.Background(), []string{"--version"}, env, &out, &errb)
	if want := version.Line("worker") + "\n"; code != 0 || out.String() != want || errb.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out.String(), errb.String(), want)
	}
}
