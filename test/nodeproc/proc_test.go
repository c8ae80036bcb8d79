package nodeproc

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// idle keeps a node -e script alive until it is signalled.
const idle = "setInterval(() => {}, 1000);"

func TestDirHoldsPinnedPackages(t *testing.T) {
	t.Parallel()
	if !filepath.IsAbs(Dir()) {
		t.Fatalf("Dir() = %q, want an absolute path", Dir())
	}
	if _, err := os.Stat(filepath.Join(Dir(), "package-lock.json")); err != nil {
		t.Fatalf("package-lock.json not in Dir(): %v", err)
	}
	RequireNode(t)
}

func TestFreePortsAreDistinctAndBindable(t *testing.T) {
	t.Parallel()
	seen := map[int]bool{}
	for range 20 {
		for _, p := range []int{FreeTCPPort(t), FreeUDPPort(t)} {
			if p <= 0 || p > 65535 || seen[p] {
				t.Fatalf("bad or repeated port %d", p)
			}
			seen[p] = true
		}
	}
	udp := FreeUDPPort(t)
	c, err := listenUDP(udp)
	if err != nil {
		t.Fatalf("FreeUDPPort %d not bindable: %v", udp, err)
	}
	_ = c.Close()
}

func TestWaitLineWalksForwardAndLinesSeesAll(t *testing.T) {
	t.Parallel()
	// stdout and stderr are separate pipes, so only the order within one
	// stream is defined.
	p := Start(t, "-e", `console.log("a 1"); console.error("b 2"); console.log("a 3"); `+idle)
	for _, want := range []string{"a 1", "a 3"} {
		got, err := p.WaitLine("a ", 5*time.Second)
		if err != nil || got != want {
			t.Fatalf("WaitLine(a) = %q, %v; want %q", got, err, want)
		}
	}
	// "a 1" came before the last match, so WaitLine does not find it again...
	if got, err := p.WaitLine("a 1", 300*time.Millisecond); err == nil {
		t.Fatalf("WaitLine found consumed line %q", got)
	}
	// ...but Lines replays everything from the start, stderr included.
	var got []string
	for s := range p.Lines() {
		got = append(got, s)
		if len(got) == 3 {
			break
		}
	}
	stdout := slices.DeleteFunc(slices.Clone(got), func(s string) bool { return s == "b 2" })
	if len(got) != 3 || !slices.Contains(got, "b 2") || strings.Join(stdout, ",") != "a 1,a 3" {
		t.Fatalf("Lines = %q, want a 1, a 3 in order and b 2 somewhere", got)
	}
	if p.Lines() != p.Lines() {
		t.Fatal("Lines must return the same channel every call")
	}
}

func TestWaitLineFailsWhenProcessExits(t *testing.T) {
	t.Parallel()
	p := Start(t, "-e", `console.log("bye")`)
	// A generous timeout: WaitLine must end because the process exited,
	// not because the timeout passed (node may start slowly on a busy box).
	_, err := p.WaitLine("never printed", 60*time.Second)
	if err == nil || !strings.Contains(err.Error(), "exited") {
		t.Fatalf("err = %v, want an 'exited' error", err)
	}
	if code, err := p.Wait(time.Second); err != nil || code != 0 {
		t.Fatalf("Wait = %d, %v", code, err)
	}
	// Lines closes after the last line of an exited process.
	var n int
	for range p.Lines() {
		n++
	}
	if n != 1 {
		t.Fatalf("Lines delivered %d lines, want 1", n)
	}
}

func TestStopKillsTheWholeProcessGroup(t *testing.T) {
	t.Parallel()
	p := Start(t, "-e", `const c = require("child_process").spawn("sleep", ["60"]); console.log("child " + c.pid); `+idle)
	s, err := p.WaitLine("child ", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	child, err := strconv.Atoi(strings.TrimPrefix(s, "child "))
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	p.Stop()
	select {
	case <-p.Exited():
	default:
		t.Fatal("Stop returned before the process was reaped")
	}
	waitGone(t, child)
	waitGone(t, p.PID())
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	t.Parallel()
	p := Start(t, "-e", `process.on("SIGTERM", () => console.log("ignored")); console.log("up"); `+idle)
	if _, err := p.WaitLine("up", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	p.Stop()
	if d := time.Since(start); d < StopGrace-100*time.Millisecond || d > StopGrace+3*time.Second {
		t.Fatalf("Stop took %v, want about %v (SIGTERM ignored, then SIGKILL)", d, StopGrace)
	}
	if ws := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signal() != syscall.SIGKILL {
		t.Fatalf("process ended by %v, want SIGKILL", ws)
	}
	p.Stop() // idempotent
}

// waitGone polls until pid no longer exists (or is a zombie awaiting its
// new parent).
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 200 {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("pid %d still alive after Stop", pid)
}

// fakeTB records failures instead of failing the real test, so the
// failure paths of nodeproc can be asserted.
type fakeTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errs) > 0
}
func (f *fakeTB) Logf(string, ...any) {}
func (f *fakeTB) Cleanup(fn func())   { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

// run calls fn like a test body (Fatalf ends it) and then the cleanups.
func (f *fakeTB) run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	f.runCleanups()
}

func TestMissingNodeFailsInsteadOfSkipping(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	f := &fakeTB{TB: t}
	f.run(func() { Start(f, "-e", "1") })
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], "make deps") {
		t.Fatalf("errors = %q, want one failure mentioning make deps", f.errs)
	}
}

func TestUnexpectedCrashFailsTheTest(t *testing.T) {
	t.Parallel()
	f := &fakeTB{TB: t}
	f.run(func() {
		p := Start(f, "-e", `console.log("boom"); process.exit(3)`)
		<-p.Exited()
	})
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], "exited unexpectedly") {
		t.Fatalf("errors = %q, want one 'exited unexpectedly'", f.errs)
	}
}

func TestStartGrapePairAnswersLookups(t *testing.T) {
	t.Parallel()
	d1, d2 := FreeUDPPort(t), FreeUDPPort(t)
	g1 := StartGrape(t, d1, FreeTCPPort(t), []string{"127.0.0.1:" + strconv.Itoa(d2)})
	g2 := StartGrape(t, d2, FreeTCPPort(t), []string{g1.DHTAddr()})
	if got := post(t, g1.APIURL()+"/announce", `{"data":["nodeproc_svc",4321]}`); got != "1" {
		t.Fatalf("announce on g1 = %s, want 1", got)
	}
	if got := post(t, g2.APIURL()+"/lookup", `{"data":"nodeproc_svc"}`); got != `["127.0.0.1:4321"]` {
		t.Fatalf("lookup on g2 = %s", got)
	}
	// The default body limit was passed: a 9000-byte body is refused.
	big := `{"data":"` + strings.Repeat("x", 9000) + `"}`
	if got := post(t, g2.APIURL()+"/lookup", big); got != "ERR_GRAPE_PAYLOAD_SIZE" {
		t.Fatalf("oversized lookup = %q, want ERR_GRAPE_PAYLOAD_SIZE", got)
	}
}

func TestStartGrapeAloneBootstrapsAtItself(t *testing.T) {
	t.Parallel()
	g := StartGrape(t, FreeUDPPort(t), FreeTCPPort(t), nil, "--dpa", "60000")
	if got := post(t, g.APIURL()+"/announce", `{"data":["solo_svc",1111]}`); got != "1" {
		t.Fatalf("announce on a lone grape = %s, want 1", got)
	}
	if !strings.Contains(strings.Join(g.cmd.Args, " "), "--dpa 60000") || strings.Contains(strings.Join(g.cmd.Args, " "), "120000") {
		t.Fatalf("--dpa override not honoured: %q", g.cmd.Args)
	}
}
