package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/grenache-go/grenache/internal/version"
)

// --version prints one line and exits 0 without the required --dp/--aph,
// even when a variable is invalid.
func TestVersionExits0(t *testing.T) {
	t.Chdir(t.TempDir())
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--version"}, envOf(map[string]string{"GRAPE_MAX_TABLES": "-1"}), &out, &errb)
	if want := version.Line("grape") + "\n"; code != 0 || out.String() != want || errb.Len() != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 0 and %q", code, out.String(), errb.String(), want)
	}
}
