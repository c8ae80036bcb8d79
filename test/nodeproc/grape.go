package nodeproc

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// GrapeScript is the grenache-grape 1.0.0 CLI, relative to Dir().
const GrapeScript = "node_modules/grenache-grape/bin/grape.js"

// GrapeReadyTimeout bounds StartGrape's wait for the HTTP API. A probe
// lookup on a grape whose bootstrap nodes are not up yet waits out one KRPC
// timeout (2 s) before answering [], so this must stay well above that.
var GrapeReadyTimeout = 30 * time.Second

// Defaults StartGrape passes unless extraArgs override them: without them
// the 1.0.0 CLI never expires announcements and has no body limit
// (grenache-protocol.md §2.8).
var grapeDefaults = [][2]string{
	{"--dpa", "--dht_peer_maxAge"},
	{"--check_maxPayloadSize", ""},
}

var grapeDefaultValues = map[string]string{
	"--dpa":                  "120000",
	"--check_maxPayloadSize": "8192",
}

// StartGrape starts a Node grape (grenache-grape 1.0.0 CLI) with its DHT on
// UDP dhtPort (always bound on 0.0.0.0) and its HTTP API on apiPort, joined
// through bootstrap ("host:port" of DHT sockets). An empty bootstrap points
// the grape at itself, the only way one Node grape works alone (§3.8). It
// passes --dpa 120000 --check_maxPayloadSize 8192 unless extraArgs set them
// (either alias, "--flag value" or "--flag=value"), and returns once
// POST /lookup {"data":"__probe__"} answers [].
func StartGrape(t testing.TB, dhtPort, apiPort int, bootstrap []string, extraArgs ...string) *Proc {
	t.Helper()
	return StartGrapeEnv(t, nil, dhtPort, apiPort, bootstrap, extraArgs...)
}

// StartGrapeEnv is StartGrape with extra environment variables, e.g.
// "DEBUG=bittorrent-dht" so the grape logs every KRPC query it receives
// ("received get_peers query from 127.0.0.1:20002"), which tells who was
// in its routing table when a lookup stalls.
func StartGrapeEnv(t testing.TB, env []string, dhtPort, apiPort int, bootstrap []string, extraArgs ...string) *Proc {
	t.Helper()
	RequireNode(t)
	if _, err := os.Stat(filepath.Join(Dir(), GrapeScript)); err != nil {
		t.Fatalf("nodeproc: grape CLI missing: %v; %s", err, depsHint)
	}
	if len(bootstrap) == 0 {
		bootstrap = []string{"127.0.0.1:" + strconv.Itoa(dhtPort)}
	}
	args := []string{
		"--dp", strconv.Itoa(dhtPort),
		"--aph", strconv.Itoa(apiPort),
		"--bn", strings.Join(bootstrap, ","),
	}
	for _, flag := range grapeDefaults {
		if !hasFlag(extraArgs, flag[0], flag[1]) {
			args = append(args, flag[0], grapeDefaultValues[flag[0]])
		}
	}
	args = append(args, extraArgs...)
	p := StartEnv(t, env, GrapeScript, args...)
	p.dhtPort, p.apiPort = dhtPort, apiPort
	if err := p.waitGrapeReady(GrapeReadyTimeout); err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

// hasFlag reports whether args set the flag under either name.
func hasFlag(args []string, names ...string) bool {
	for _, a := range args {
		for _, n := range names {
			if n != "" && (a == n || strings.HasPrefix(a, n+"=")) {
				return true
			}
		}
	}
	return false
}

// APIURL is the grape's HTTP API base URL ("http://127.0.0.1:<port>"), or
// "" for a process not started by StartGrape.
func (p *Proc) APIURL() string {
	if p.apiPort == 0 {
		return ""
	}
	return "http://127.0.0.1:" + strconv.Itoa(p.apiPort)
}

// DHTAddr is the grape's DHT address as a bootstrap entry
// ("127.0.0.1:<udp port>"), or "" for a process not started by StartGrape.
func (p *Proc) DHTAddr() string {
	if p.dhtPort == 0 {
		return ""
	}
	return "127.0.0.1:" + strconv.Itoa(p.dhtPort)
}

// waitGrapeReady polls /lookup until it answers [] (the documented
// readiness signal), the process dies, or timeout passes.
func (p *Proc) waitGrapeReady(timeout time.Duration) error {
	// No keep-alive: no idle connection goroutines outlive the probe
	// (goleak checks every test package).
	client := &http.Client{
		Timeout:   3 * time.Second,
		Transport: &http.Transport{DisableKeepAlives: true},
	}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("nodeproc: grape (dht %d, api %d) exited before it was ready: %v", p.dhtPort, p.apiPort, p.exitErr)
		default:
		}
		resp, err := client.Post(p.APIURL()+"/lookup", "application/json", strings.NewReader(`{"data":"__probe__"}`))
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == "[]" {
				return nil
			}
			last = fmt.Sprintf("status %d body %q", resp.StatusCode, body)
		} else {
			last = err.Error()
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("nodeproc: grape (dht %d, api %d) not ready within %v; last probe: %s", p.dhtPort, p.apiPort, timeout, last)
}
