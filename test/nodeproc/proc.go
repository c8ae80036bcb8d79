package nodeproc

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// StopGrace is how long Stop waits after SIGTERM before it sends SIGKILL.
const StopGrace = 2 * time.Second

// maxKeptLines bounds the captured output of one process; when it is
// exceeded the oldest half is dropped (a chatty DEBUG run must not eat the
// test's memory). waitKill bounds the wait for a SIGKILLed group to be reaped.
const (
	maxKeptLines = 20000
	dumpLines    = 400
	waitKill     = 5 * time.Second
)

// line is one captured output line and the stream it came from.
type line struct {
	stream string // "stdout" or "stderr"
	text   string
}

// Proc is one running Node process started by Start or StartGrape.
type Proc struct {
	t      testing.TB
	script string
	cmd    *exec.Cmd
	pid    int

	mu       sync.Mutex
	lines    []line        // captured lines; lines[0] has absolute index base
	base     int           // absolute index of lines[0]
	cursor   int           // absolute index where the next WaitLine search starts
	changed  chan struct{} // closed and replaced on every new line and on exit
	waited   bool          // the test observed the exit through Wait
	stopping bool          // Stop or Kill was called: exit is expected

	exited  chan struct{} // closed when the process has been reaped
	exitErr error         // cmd.Wait's result, valid after exited

	stopOnce  sync.Once
	linesOnce sync.Once
	linesCh   chan string
	done      chan struct{} // closed in cleanup: stops the Lines forwarder
	fwd       sync.WaitGroup

	// Set by StartGrape; zero for plain scripts.
	dhtPort, apiPort int
}

// Start runs `node <script> args...` with the working directory Dir() (so
// script is usually relative to test/interop/node, e.g.
// "node_modules/grenache-grape/bin/grape.js" or a fixture script). The
// process gets its own process group; its stdout and stderr are captured
// and printed when the test fails; t.Cleanup stops it. A process that dies
// by itself with a non-zero status, without the test having observed it via
// Wait, fails the test: a crashing Node reference is an interop finding.
func Start(t testing.TB, script string, args ...string) *Proc {
	t.Helper()
	return StartEnv(t, nil, script, args...)
}

// StartEnv is Start with extra environment variables ("KEY=value"), e.g.
// "DEBUG=grenache:grape,bittorrent-dht" to log every KRPC query.
func StartEnv(t testing.TB, env []string, script string, args ...string) *Proc {
	t.Helper()
	node := RequireNode(t)
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), env...)
	// Own process group: Stop signals the group, so anything node spawned
	// dies with it. Pdeathsig kills node if the test binary itself dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Do not let a grandchild holding our pipes block Wait forever.
	cmd.WaitDelay = time.Second
	p := &Proc{
		t:       t,
		script:  script,
		cmd:     cmd,
		changed: make(chan struct{}),
		exited:  make(chan struct{}),
		done:    make(chan struct{}),
	}
	stdout := &lineWriter{p: p, stream: "stdout"}
	stderr := &lineWriter{p: p, stream: "stderr"}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("nodeproc: start node %s: %v", script, err)
	}
	p.pid = cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		stdout.flush()
		stderr.flush()
		p.mu.Lock()
		p.exitErr = err
		close(p.exited)
		p.notifyLocked()
		p.mu.Unlock()
	}()
	t.Cleanup(p.cleanup)
	return p
}

// PID is the node process's id (also its process group id).
func (p *Proc) PID() int { return p.pid }

// Exited is closed once the process has ended and been reaped.
func (p *Proc) Exited() <-chan struct{} { return p.exited }

// Wait waits up to timeout for the process to end by itself and returns
// its exit code (-1 if it was killed by a signal). Calling Wait tells the
// cleanup that a non-zero exit was expected by the test.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	p.mu.Lock()
	p.waited = true
	p.mu.Unlock()
	select {
	case <-p.exited:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-time.After(timeout):
		return 0, fmt.Errorf("nodeproc: %s (pid %d) still running after %v", p.script, p.pid, timeout)
	}
}

// Stop ends the process: SIGTERM to its process group, then SIGKILL if it
// is still alive after StopGrace. It returns once the process is reaped and
// is safe to call more than once (t.Cleanup calls it too).
func (p *Proc) Stop() { p.signalStop(syscall.SIGTERM, StopGrace) }

// Kill ends the process group with SIGKILL right away, like a crash or a
// power cut: the process gets no chance to say goodbye to its peers.
func (p *Proc) Kill() { p.signalStop(syscall.SIGKILL, 0) }

func (p *Proc) signalStop(sig syscall.Signal, grace time.Duration) {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopping = true
		p.mu.Unlock()
		select {
		case <-p.exited:
		default:
			_ = syscall.Kill(-p.pid, sig)
			if grace > 0 {
				select {
				case <-p.exited:
				case <-time.After(grace):
				}
			}
			_ = syscall.Kill(-p.pid, syscall.SIGKILL)
			select {
			case <-p.exited:
			case <-time.After(waitKill):
				p.t.Errorf("nodeproc: %s (pid %d) not reaped %v after SIGKILL", p.script, p.pid, waitKill)
			}
		}
		// Leftover group members (if node spawned any) go too. ESRCH is fine.
		_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	})
}

// cleanup stops the process and its forwarder, and prints the output when
// the test failed (or when the process crashed on its own).
func (p *Proc) cleanup() {
	p.mu.Lock()
	select {
	case <-p.exited:
		if !p.stopping && !p.waited && p.exitErr != nil {
			p.t.Errorf("nodeproc: %s (pid %d) exited unexpectedly: %v", p.script, p.pid, p.exitErr)
		}
	default:
	}
	p.mu.Unlock()
	p.Stop()
	close(p.done)
	p.fwd.Wait()
	if p.t.Failed() {
		p.t.Logf("nodeproc: output of node %s (pid %d, exit: %v):\n%s", p.script, p.pid, p.exitErr, p.dump(dumpLines))
	}
}

// Output returns everything captured so far (both streams, in arrival
// order, each line prefixed with its stream), at most the last maxKeptLines.
func (p *Proc) Output() string { return p.dump(maxKeptLines) }

func (p *Proc) dump(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	ls := p.lines
	if p.base > 0 {
		fmt.Fprintf(&b, "[... %d earlier lines dropped]\n", p.base)
	}
	if len(ls) > n {
		fmt.Fprintf(&b, "[... %d lines not shown]\n", len(ls)-n)
		ls = ls[len(ls)-n:]
	}
	for _, l := range ls {
		b.WriteString(l.stream)
		b.WriteString("| ")
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// addLine appends one complete line and wakes waiters.
func (p *Proc) addLine(stream, text string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lines = append(p.lines, line{stream: stream, text: text})
	if len(p.lines) > maxKeptLines {
		drop := maxKeptLines / 2
		p.lines = append([]line(nil), p.lines[drop:]...)
		p.base += drop
	}
	p.notifyLocked()
}

func (p *Proc) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// WaitLine waits up to timeout for an output line (stdout or stderr)
// containing substr and returns it. Searches start after the line the
// previous WaitLine matched, so successive calls walk forward through the
// output (a line printed before the call still counts if no earlier
// WaitLine consumed it). It fails early if the process exits first.
func (p *Proc) WaitLine(substr string, timeout time.Duration) (string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		if p.cursor < p.base {
			p.cursor = p.base
		}
		for i := p.cursor - p.base; i < len(p.lines); i++ {
			if strings.Contains(p.lines[i].text, substr) {
				p.cursor = p.base + i + 1
				text := p.lines[i].text
				p.mu.Unlock()
				return text, nil
			}
		}
		p.cursor = p.base + len(p.lines)
		changed := p.changed
		var exited bool
		select {
		case <-p.exited:
			exited = true
		default:
		}
		exitErr := p.exitErr
		p.mu.Unlock()
		if exited {
			return "", fmt.Errorf("nodeproc: %s (pid %d) exited (%v) before printing %q", p.script, p.pid, exitErr, substr)
		}
		select {
		case <-changed:
		case <-deadline.C:
			return "", fmt.Errorf("nodeproc: %s (pid %d) printed no line containing %q within %v", p.script, p.pid, substr, timeout)
		}
	}
}

// Lines returns a channel carrying every output line (stdout and stderr,
// from the start of the process), closed after the process has exited and
// its last line was delivered, or when the test's cleanup runs. Lines is
// independent of WaitLine's position. Every call returns the same channel.
func (p *Proc) Lines() <-chan string {
	p.linesOnce.Do(func() {
		p.linesCh = make(chan string, 64)
		p.fwd.Add(1)
		go p.forward()
	})
	return p.linesCh
}

// forward copies captured lines to linesCh in order until the process is
// done or the test is cleaning up.
func (p *Proc) forward() {
	defer p.fwd.Done()
	defer close(p.linesCh)
	next := 0
	for {
		p.mu.Lock()
		if next < p.base {
			next = p.base
		}
		var pending []string
		for i := next - p.base; i < len(p.lines); i++ {
			pending = append(pending, p.lines[i].text)
		}
		next = p.base + len(p.lines)
		changed := p.changed
		exited := false
		select {
		case <-p.exited:
			exited = true
		default:
		}
		p.mu.Unlock()
		for _, s := range pending {
			select {
			case p.linesCh <- s:
			case <-p.done:
				return
			}
		}
		if exited && len(pending) == 0 {
			return
		}
		if len(pending) > 0 {
			continue // re-check: more may have arrived while we sent
		}
		select {
		case <-changed:
		case <-p.done:
			return
		}
	}
}

// lineWriter splits a stream into lines for the Proc. exec.Cmd calls Write
// from one goroutine per stream, so it needs no lock of its own.
type lineWriter struct {
	p      *Proc
	stream string
	buf    []byte
}

// maxLine bounds one unterminated line so a process writing without
// newlines cannot grow the buffer without limit.
const maxLine = 1 << 20

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.p.addLine(w.stream, strings.TrimRight(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.flush()
	}
	return len(b), nil
}

// flush emits a final line without a newline, if any.
func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.p.addLine(w.stream, string(w.buf))
		w.buf = nil
	}
}
