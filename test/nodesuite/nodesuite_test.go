package nodesuite

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/grenache-go/grenache/test/nodeproc"
)

// tierTimeout bounds the whole run; the tier takes about 45 s here (see
// docs/benchmarks.md), and a run past this is a hang.
const tierTimeout = 5 * time.Minute

// summary is what run-suites.js prints.
type summary struct {
	OK     bool `json:"ok"`
	Suites []struct {
		Suite string `json:"suite"`
		Node  tally  `json:"node"`
		Go    tally  `json:"go"`
		// Regressions passed with Node grapes and not with Go grapes.
		Regressions []failure `json:"regressions"`
		Excepted    []struct {
			Test, Reason, Err string
		} `json:"excepted"`
		StaleExceptions   []string  `json:"staleExceptions"`
		UnknownExceptions []string  `json:"unknownExceptions"`
		NodeFailures      []failure `json:"nodeFailures"`
		GoFailures        []failure `json:"goFailures"`
	} `json:"suites"`
	UnknownSuites []string `json:"unknownSuites"`
}

type tally struct {
	Passed, Tests int
	Ms            int64
}

type failure struct{ Test, Err string }

func TestNodeSuitesAgainstGoGrapes(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skipf("node not on PATH (%v): the Node-suite tier needs Node.js 20 and `make deps`", err)
	}
	node := nodeproc.RequireNode(t)
	dir := nodeproc.Dir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "mocha", "bin", "mocha.js")); err != nil {
		t.Fatalf("mocha is not installed in %s (%v): run `make deps`", dir, err)
	}
	root := filepath.Join(dir, "..", "..", "..")
	bin := filepath.Join(t.TempDir(), "grape")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/grape")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/grape: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), tierTimeout)
	defer cancel()
	runner := []string{node, filepath.Join(dir, "gograpeshim", "run-suites.js"), filepath.Join(root, "docs", "protocol.md")}
	args, how := isolated(t, runner)
	t.Logf("runner: %s", how)
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "GO_GRAPE_BIN="+bin)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	took := time.Since(start)
	var s summary
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatalf("runner (%v after %v) printed no summary: %v\nstdout: %s\nstderr: %s", runErr, took, err, stdout.String(), stderr.String())
	}
	t.Logf("tier took %v (budget 3 min)", took.Round(100*time.Millisecond))
	for _, su := range s.Suites {
		t.Logf("%-22s Node grapes %d/%d (%.1f s)   Go grapes %d/%d (%.1f s)", su.Suite,
			su.Node.Passed, su.Node.Tests, float64(su.Node.Ms)/1000, su.Go.Passed, su.Go.Tests, float64(su.Go.Ms)/1000)
		for _, r := range su.Regressions {
			t.Errorf("%s: %q passes with Node grapes, fails with Go grapes: %s", su.Suite, r.Test, r.Err)
		}
		for _, e := range su.Excepted {
			t.Logf("%s: %q fails with Go grapes, listed in docs/protocol.md: %s", su.Suite, e.Test, e.Reason)
		}
		for _, e := range su.StaleExceptions {
			t.Logf("%s: %q is listed as an exception but passed with Go grapes this run", su.Suite, e)
		}
		for _, e := range su.UnknownExceptions {
			t.Errorf("%s: docs/protocol.md lists %q, which is no test of the suite", su.Suite, e)
		}
		for _, f := range su.NodeFailures {
			t.Logf("%s: Node grapes failed %q (not compared): %s", su.Suite, f.Test, f.Err)
		}
		for _, f := range su.GoFailures {
			t.Logf("%s: Go grapes failed %q: %s", su.Suite, f.Test, f.Err)
		}
	}
	for _, u := range s.UnknownSuites {
		t.Errorf("docs/protocol.md lists an exception for %q, which is no suite of the tier", u)
	}
	if len(s.Suites) != 3 {
		t.Errorf("%d suites ran, want 3", len(s.Suites))
	}
	if !s.OK || runErr != nil {
		t.Errorf("runner: ok=%v, %v\nstderr: %s", s.OK, runErr, stderr.String())
	}
}

// isolated wraps the runner in a network namespace of its own with
// loopback up (unshare -n, as root, or -rn in a user namespace), so the
// suites' fixed ports cannot meet other tests' processes. Where namespaces
// cannot be made it runs on the host's loopback and says so.
func isolated(t *testing.T, runner []string) ([]string, string) {
	if runtime.GOOS != "linux" {
		return runner, "host loopback (network namespaces are Linux only)"
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		return runner, "host loopback (no unshare: " + err.Error() + ")"
	}
	ip := ""
	for _, p := range []string{"ip", "/usr/sbin/ip", "/sbin/ip"} {
		if ip, err = exec.LookPath(p); err == nil {
			break
		}
	}
	if err != nil {
		return runner, "host loopback (no ip command to bring a namespace's loopback up)"
	}
	flags := []string{"-n"}
	if os.Geteuid() != 0 {
		flags = []string{"-r", "-n"}
	}
	wrap := append([]string{unshare}, flags...)
	wrap = append(wrap, "sh", "-c", `"$0" link set lo up && exec "$@"`, ip)
	probe := exec.Command(wrap[0], append(wrap[1:], "true")...)
	if out, err := probe.CombinedOutput(); err != nil {
		return runner, "host loopback (unshare " + flags[len(flags)-1] + " failed: " + err.Error() + ": " + string(bytes.TrimSpace(out)) + ")"
	}
	return append(wrap, runner...), "own network namespace (" + unshare + " " + flags[0] + ")"
}
