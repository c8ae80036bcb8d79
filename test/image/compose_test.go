package image

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// service is one compose.yaml service: its command and the service whose
// network namespace it shares ("" for its own).
type service struct {
	name      string
	command   []string
	netns     string
	dependsOn []string
}

var (
	serviceLine = regexp.MustCompile(`^  ([A-Za-z0-9_.-]+):\s*$`)
	commandLine = regexp.MustCompile(`^    command:\s*(\[.*\])\s*$`)
	netnsLine   = regexp.MustCompile(`^    network_mode:\s*"service:([A-Za-z0-9_.-]+)"\s*$`)
	dependsLine = regexp.MustCompile(`^    depends_on:\s*\[(.*)\]\s*$`)
)

// readCompose reads the services of compose.yaml. The file keeps each
// command as a one-line flow list (its header says so), which is JSON.
func readCompose(t *testing.T) []service {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var svcs []service
	inServices := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "services:":
			inServices = true
		case inServices && len(line) > 0 && line[0] != ' ' && line[0] != '#':
			inServices = false
		case !inServices:
		case serviceLine.MatchString(line):
			svcs = append(svcs, service{name: serviceLine.FindStringSubmatch(line)[1]})
		case len(svcs) > 0 && commandLine.MatchString(line):
			if err := json.Unmarshal([]byte(commandLine.FindStringSubmatch(line)[1]), &svcs[len(svcs)-1].command); err != nil {
				t.Fatalf("compose.yaml: %s: command is not a one-line flow list: %v", svcs[len(svcs)-1].name, err)
			}
		case len(svcs) > 0 && netnsLine.MatchString(line):
			svcs[len(svcs)-1].netns = netnsLine.FindStringSubmatch(line)[1]
		case len(svcs) > 0 && dependsLine.MatchString(line):
			for _, d := range strings.Split(dependsLine.FindStringSubmatch(line)[1], ",") {
				svcs[len(svcs)-1].dependsOn = append(svcs[len(svcs)-1].dependsOn, strings.TrimSpace(d))
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs {
		if len(s.command) == 0 {
			t.Fatalf("compose.yaml: service %s has no one-line command", s.name)
		}
	}
	return svcs
}

// flagValue is the last value of a flag in a command, as Go's flag package
// keeps it.
func flagValue(cmd []string, name string) string {
	v := ""
	for i := 0; i+1 < len(cmd); i++ {
		if cmd[i] == name {
			v = cmd[i+1]
		}
	}
	return v
}

func byBinary(svcs []service, bin string) []service {
	var out []service
	for _, s := range svcs {
		if s.command[0] == bin {
			out = append(out, s)
		}
	}
	return out
}

// The topology the issue asks for; grapes that join one DHT and never
// name a grape that has not started (its name would not resolve yet, and
// the grape would exit 2); and the address rule of Grenache: a grape stores
// an announcement under its own IP, so a worker must announce only to the
// grape whose network namespace it shares.
func TestComposeTopology(t *testing.T) {
	svcs := readCompose(t)
	grapes, workers, clients := byBinary(svcs, "grape"), byBinary(svcs, "worker"), byBinary(svcs, "client")
	if len(grapes) != 3 || len(workers) != 4 || len(clients) != 1 || clients[0].command[1] != "run" {
		t.Fatalf("compose.yaml has %d grapes, %d workers, %d clients (%v): want 3, 4 and one `client run`", len(grapes), len(workers), len(clients), clients)
	}
	apiPort := map[string]string{}
	joined := map[string]string{} // union-find over "bootstraps at"
	var root func(string) string
	root = func(n string) string {
		if p, ok := joined[n]; ok && p != n {
			return root(p)
		}
		return n
	}
	for _, g := range grapes {
		apiPort[g.name] = flagValue(g.command, "--aph")
		joined[g.name] = g.name
	}
	for _, g := range grapes {
		bn := flagValue(g.command, "--bn")
		if bn == "" {
			continue
		}
		for _, hp := range strings.Split(bn, ",") {
			h, _, _ := net.SplitHostPort(hp)
			if apiPort[h] == "" {
				t.Errorf("%s bootstraps at %q: not a grape of compose.yaml", g.name, hp)
				continue
			}
			if !slices.Contains(g.dependsOn, h) {
				t.Errorf("%s bootstraps at %s without depends_on it: the name may not resolve yet", g.name, h)
			}
			joined[root(g.name)] = root(h)
		}
	}
	for _, g := range grapes {
		if root(g.name) != root(grapes[0].name) {
			t.Errorf("%s is not joined to %s through any bootstrap: two DHTs", g.name, grapes[0].name)
		}
	}
	ports := map[string]string{}
	for _, w := range workers {
		if apiPort[w.netns] == "" {
			t.Errorf("%s shares the network of %q: want one of the grapes", w.name, w.netns)
			continue
		}
		if want := "http://127.0.0.1:" + apiPort[w.netns]; flagValue(w.command, "--grape") != want {
			t.Errorf("%s announces to %q: want only its own grape, %s", w.name, flagValue(w.command, "--grape"), want)
		}
		p := flagValue(w.command, "--port")
		if other, dup := ports[w.netns+":"+p]; dup {
			t.Errorf("%s and %s both listen on port %s in %s's network", w.name, other, p, w.netns)
		}
		ports[w.netns+":"+p] = w.name
	}
}

// portMap gives each port number of compose.yaml a free loopback port, so
// the topology runs beside anything else on this host.
type portMap map[string]string

func (m portMap) get(t *testing.T, p string) string {
	t.Helper()
	if _, err := strconv.ParseUint(p, 10, 16); err != nil {
		t.Fatalf("compose.yaml: %q is not a port", p)
	}
	if m[p] == "" {
		m[p] = strconv.Itoa(freePort(t))
	}
	return m[p]
}

// freePort is a port free for TCP on 127.0.0.1 and UDP on all interfaces
// (a grape's DHT binds 0.0.0.0).
func freePort(t *testing.T) int {
	t.Helper()
	for range 100 {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp4", fmt.Sprintf(":%d", port))
		_ = ln.Close()
		if err == nil {
			_ = pc.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// localize rewrites a compose command for one host: service names become
// 127.0.0.1 and every port a free one, consistently across services.
func localize(t *testing.T, cmd []string, names map[string]bool, ports portMap) []string {
	t.Helper()
	host := func(h string) string {
		if names[h] || h == "127.0.0.1" {
			return "127.0.0.1"
		}
		t.Fatalf("compose.yaml: host %q is neither a service nor 127.0.0.1", h)
		return ""
	}
	out := append([]string{}, cmd...)
	for i := 1; i+1 < len(out); i++ {
		v := out[i+1]
		switch out[i] {
		case "--dp", "--aph", "--port", "--admin-port":
			out[i+1] = ports.get(t, v)
		case "--bn":
			var list []string
			for _, hp := range strings.Split(v, ",") {
				h, p, err := net.SplitHostPort(hp)
				if err != nil {
					t.Fatalf("compose.yaml: --bn %q: %v", v, err)
				}
				list = append(list, net.JoinHostPort(host(h), ports.get(t, p)))
			}
			out[i+1] = strings.Join(list, ",")
		case "--grape":
			var list []string
			for _, raw := range strings.Split(v, ",") {
				u, err := url.Parse(raw)
				if err != nil || u.Port() == "" {
					t.Fatalf("compose.yaml: --grape %q: want http://host:port URLs", v)
				}
				u.Host = net.JoinHostPort(host(u.Hostname()), ports.get(t, u.Port()))
				list = append(list, u.String())
			}
			out[i+1] = strings.Join(list, ",")
		}
	}
	return out
}

// lockedBuffer collects a process's output for the failure message.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// proc is one long-running service of the miniature.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  lockedBuffer
	done chan error
}

func (img *image) start(t *testing.T, name string, args []string) *proc {
	t.Helper()
	p := &proc{name: name, done: make(chan error, 1)}
	p.cmd = img.command(context.Background(), args[0], args[1:]...)
	p.cmd.Env = append(p.cmd.Env, "GRAPE_LOG_LEVEL=warn", "WORKER_LOG_LEVEL=warn")
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// lookup asks a grape's API for the service's addresses.
func lookup(api, name string) ([]string, error) {
	body := strings.NewReader(fmt.Sprintf(`{"data":%q,"rid":"image-test"}`, name))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, api+"/lookup", body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var addrs []string
	if err := json.NewDecoder(resp.Body).Decode(&addrs); err != nil {
		return nil, err
	}
	sort.Strings(addrs)
	return addrs, nil
}

// compose.yaml in miniature: its commands, localized, run from the
// replayed image as its user; every grape finds the 4 workers, then the
// `client run` (shortened to 3 s) loads all of them without a failure.
// The client is retried on exit 1 as compose's restart: on-failure would.
func TestComposeInMiniature(t *testing.T) {
	img := buildImage(t)
	svcs := readCompose(t)
	names := map[string]bool{}
	for _, s := range svcs {
		names[s.name] = true
	}
	ports := portMap{}
	var procs []*proc
	var apis, workerAddrs []string
	for _, bin := range []string{"grape", "worker"} {
		for _, s := range byBinary(svcs, bin) {
			args := localize(t, s.command, names, ports)
			procs = append(procs, img.start(t, s.name, args))
			if bin == "grape" {
				apis = append(apis, "http://127.0.0.1:"+flagValue(args, "--aph"))
			} else {
				workerAddrs = append(workerAddrs, "127.0.0.1:"+flagValue(args, "--port"))
			}
		}
	}
	sort.Strings(workerAddrs)
	alive := func() {
		t.Helper()
		for _, p := range procs {
			select {
			case err := <-p.done:
				p.done <- err
				t.Fatalf("%s exited: %v\n%s", p.name, err, p.out.String())
			default:
			}
		}
	}

	// Every grape returns every worker (10 s: announcements go out at
	// start and grapes retry their bootstrap within a second).
	deadline := time.Now().Add(10 * time.Second)
	for _, api := range apis {
		for {
			addrs, err := lookup(api, "job_service")
			if err == nil && strings.Join(addrs, " ") == strings.Join(workerAddrs, " ") {
				break
			}
			alive()
			if time.Now().After(deadline) {
				t.Fatalf("%s /lookup job_service: %v %v, want %v", api, addrs, err, workerAddrs)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	c := byBinary(svcs, "client")[0]
	args := append(localize(t, c.command, names, ports), "--duration", "3s", "--json", "report.json")
	var out []byte
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err = img.command(ctx, args[0], args[1:]...).CombinedOutput()
		cancel()
		var exit *exec.ExitError
		if err == nil || !errors.As(err, &exit) || exit.ExitCode() != 1 || attempt == 5 {
			break
		}
		time.Sleep(time.Second)
	}
	alive()
	if err != nil {
		t.Fatalf("client run: %v\n%s", err, out)
	}
	// The report is written in the image's WORKDIR, as the image's user.
	raw, err := os.ReadFile(filepath.Join(img.rootfs, img.workdir, "report.json"))
	if err != nil {
		t.Fatalf("client run wrote no report in the WORKDIR: %v\n%s", err, out)
	}
	_ = os.Remove(filepath.Join(img.rootfs, img.workdir, "report.json"))
	var rep struct {
		Requests, Failed int64
		Peers            []struct {
			Addr     string
			Requests int64
		}
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Peers {
		if p.Requests > 0 {
			got = append(got, p.Addr)
		}
	}
	sort.Strings(got)
	// Each idle peer is probed once a second (CLIENT_PROBE_INTERVAL), so in
	// 3 s every worker gets requests whatever the scores say.
	if rep.Requests == 0 || rep.Failed != 0 || strings.Join(got, " ") != strings.Join(workerAddrs, " ") {
		t.Fatalf("client run: %d requests, %d failed, peers with requests %v, want >0, 0 and %v\n%s", rep.Requests, rep.Failed, got, workerAddrs, out)
	}
	t.Logf("client run: %d requests over %v", rep.Requests, got)
}
