// Package examples holds runnable example programs; this test runs them together so a
// change that breaks them fails `make test`, not a reader.
package examples

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
)

func build(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// echo-service announces through one Go grape; call-service, asking the other, reaches it through the adaptive
// client; SIGTERM drains echo-service and it exits 0.
func TestEchoServiceAndCaller(t *testing.T) {
	dir := t.TempDir()
	svcBin := build(t, dir, "./echo-service")
	callBin := build(t, dir, "./call-service")
	gs := grapetest.Cluster(t, 2) // a lone grape has no node to store announcements on
	svc := exec.Command(svcBin, "-grape", gs[0].APIURL())
	var svcErr bytes.Buffer
	svc.Stderr = &svcErr
	if err := svc.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- svc.Wait() }()
	t.Cleanup(func() {
		_ = svc.Process.Kill()
		<-exited
	})

	var out []byte
	var err error
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err = exec.Command(callBin, "-grape", gs[1].APIURL(), "-text", "grenache").CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || strings.TrimSpace(string(out)) != `"GRENACHE"` {
		t.Fatalf("call-service: %v: %s", err, out)
	}

	if err := svc.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("echo-service exit after SIGTERM: %v\n%s", err, svcErr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("echo-service did not exit after SIGTERM")
	}
}
