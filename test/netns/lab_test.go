package netns

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/test/nodeproc"
)

const (
	ipCmd   = "/usr/sbin/ip"
	subnet  = "10.213.0."
	dhtPort = 20001
	apiPort = 30001
)

// lab is one bridge namespace and a namespace per host, each host with
// one veth into the bridge and the address subnet+(i+1).
type lab struct {
	t      *testing.T
	prefix string
	hosts  []string // namespace names
	apiIP  []string // where host i's grape API listens for l.call ("" = 127.0.0.1)
	procs  []*exec.Cmd
	logs   []*syncBuffer // output of procs[i], printed when the test failed
}

// requireLab skips unless namespaces can be made here.
func requireLab(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("network namespaces are Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("creating network namespaces needs root")
	}
	for _, bin := range []string{ipCmd, "curl", "node"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not found: %v", bin, err)
		}
	}
	if _, err := os.Stat(filepath.Join(nodeproc.Dir(), nodeproc.GrapeScript)); err != nil {
		t.Skipf("Node grape not installed (make deps): %v", err)
	}
}

// newLab creates the namespaces; they are deleted when the test ends.
func newLab(t *testing.T, n int) *lab {
	t.Helper()
	l := &lab{t: t, prefix: "hb" + strconv.Itoa(os.Getpid()%100000)}
	bridge := l.prefix + "br"
	t.Cleanup(l.close)
	l.ip("netns", "add", bridge)
	l.ip("-n", bridge, "link", "set", "lo", "up")
	l.ip("-n", bridge, "link", "add", "br0", "type", "bridge")
	l.ip("-n", bridge, "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		ns := l.prefix + "h" + strconv.Itoa(i)
		l.hosts = append(l.hosts, ns)
		l.apiIP = append(l.apiIP, "")
		veth := "vb" + strconv.Itoa(i)
		l.ip("netns", "add", ns)
		l.ip("-n", ns, "link", "set", "lo", "up")
		l.ip("-n", bridge, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
		l.ip("-n", bridge, "link", "set", veth, "master", "br0", "up")
		l.ip("-n", ns, "addr", "add", l.addr(i)+"/24", "dev", "eth0")
		l.ip("-n", ns, "link", "set", "eth0", "up")
	}
	return l
}

func (l *lab) addr(i int) string { return subnet + strconv.Itoa(i+1) }

func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command(ipCmd, args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// close kills the processes and deletes every namespace (and so the veths).
func (l *lab) close() {
	for i, p := range l.procs {
		if p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
		if l.t.Failed() {
			l.t.Logf("output of %s:\n%s", strings.Join(p.Args, " "), l.logs[i].String())
		}
	}
	for _, ns := range append(l.hosts, l.prefix+"br") {
		_ = exec.Command(ipCmd, "netns", "del", ns).Run()
	}
}

// peers is the bootstrap list of host i: every other host.
func (l *lab) peers(i int) string {
	var out []string
	for j := range l.hosts {
		if j != i {
			out = append(out, l.addr(j)+":"+strconv.Itoa(dhtPort))
		}
	}
	return strings.Join(out, ",")
}

// start runs a grape on host i: Go (the binary at goBin) or Node, with
// extra flags after the lab's own. A Node grape gets --dpa 120000 unless
// extra sets it; a grape given -b is called by l.call on that address.
func (l *lab) start(i int, goBin string, extra ...string) *exec.Cmd {
	l.t.Helper()
	var args []string
	if goBin != "" {
		args = append(args, goBin, "--log-level", "warn")
	} else {
		args = append(args, "node", filepath.Join(nodeproc.Dir(), nodeproc.GrapeScript))
		if !slices.Contains(extra, "--dpa") {
			args = append(args, "--dpa", "120000")
		}
	}
	args = append(args, "--dp", strconv.Itoa(dhtPort), "--aph", strconv.Itoa(apiPort), "--bn", l.peers(i))
	if k := slices.Index(extra, "-b"); k >= 0 && k+1 < len(extra) {
		l.apiIP[i] = extra[k+1]
	}
	return l.run(i, append(args, extra...)...)
}

// run starts argv in host i's namespace; close kills it.
func (l *lab) run(i int, argv ...string) *exec.Cmd {
	l.t.Helper()
	cmd := exec.Command(ipCmd, append([]string{"netns", "exec", l.hosts[i]}, argv...)...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		l.t.Fatal(err)
	}
	l.procs = append(l.procs, cmd)
	l.logs = append(l.logs, logs)
	return cmd
}

// apiURL is host i's grape API as seen from inside host i.
func (l *lab) apiURL(i int) string {
	ip := l.apiIP[i]
	if ip == "" {
		ip = "127.0.0.1"
	}
	return fmt.Sprintf("http://%s:%d", ip, apiPort)
}

// call POSTs {"data": data} to host i's grape API from inside its namespace.
func (l *lab) call(i int, endpoint string, data any) (string, error) {
	return l.callURL(i, l.apiURL(i)+"/"+endpoint, data)
}

// callURL POSTs {"data": data} to url from inside host i's namespace.
func (l *lab) callURL(i int, url string, data any) (string, error) {
	body, _ := json.Marshal(map[string]any{"data": data, "rid": "netns"})
	out, err := exec.Command(ipCmd, "netns", "exec", l.hosts[i], "curl", "-sS", "-m", "20", "-X", "POST",
		"-H", "Content-Type: application/json", "--data-binary", string(body), url).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// waitConnected announces a probe on every host until every other host's
// lookup finds it.
func (l *lab) waitConnected() {
	l.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := range l.hosts {
		probe := "__probe_" + strconv.Itoa(i)
		want := fmt.Sprintf(`"%s:%d"`, l.addr(i), 40000+i)
		for {
			_, _ = l.call(i, "announce", []any{probe, 40000 + i})
			ok := true
			for j := range l.hosts {
				if j != i {
					if got, _ := l.call(j, "lookup", probe); !strings.Contains(got, want) {
						ok = false
					}
				}
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				l.t.Fatalf("hosts not connected after 30 s (probe of host %d)", i)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// timeLookup times one lookup of a name nobody announced on host i.
func (l *lab) timeLookup(i int, name string) time.Duration {
	l.t.Helper()
	start := time.Now()
	got, err := l.call(i, "lookup", name)
	d := time.Since(start)
	if err != nil || got != "[]" {
		l.t.Fatalf("lookup on host %d: %q %v", i, got, err)
	}
	return d
}

func buildGrape(t *testing.T) string {
	t.Helper()
	return buildBins(t, "grape")[0]
}

// buildBins builds the named commands (cmd/<name>) into a temporary
// directory, in one go build, and returns their paths.
func buildBins(t *testing.T, names ...string) []string {
	t.Helper()
	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	var bins []string
	for _, n := range names {
		args = append(args, "github.com/grenache-go/grenache/cmd/"+n)
		bins = append(bins, filepath.Join(dir, n))
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return bins
}

// syncBuffer is a bytes.Buffer a process may write while a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
