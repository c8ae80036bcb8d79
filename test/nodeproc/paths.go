package nodeproc

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// depsHint is appended to every "not installed" failure so the fix is obvious.
const depsHint = "run `make deps` (npm ci in test/interop/node) first"

// Dir returns the absolute path of test/interop/node, the Node project that
// pins the reference packages. It is found from this source file's location
// so it works whatever the test's working directory is.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("test", "interop", "node")
	}
	// file is <repo>/test/nodeproc/paths.go.
	return filepath.Join(filepath.Dir(file), "..", "interop", "node")
}

// RequireNode fails the test (it does not skip) unless the node binary is on
// PATH and the pinned packages are installed. It returns the node binary path.
func RequireNode(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("nodeproc: node binary not found on PATH (%v); install Node.js 20 and %s", err, depsHint)
	}
	for _, pkg := range []string{"grenache-grape", "grenache-nodejs-link", "grenache-nodejs-http", "grenache-nodejs-ws"} {
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("nodeproc: Node package %s is not installed in %s: %v; %s", pkg, Dir(), err, depsHint)
		}
	}
	return bin
}
