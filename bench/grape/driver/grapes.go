package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// impl says how to start one grape implementation.
type impl struct {
	name  string // "node" or "go"
	start func(dhtPort, apiPort int, bootstrap []string) (*proc, error)
}

// runningGrape is one started grape.
type runningGrape struct {
	p       *proc
	dhtPort int
	api     string // base URL
}

// httpc is the driver's own API client (not the load generator). Its idle
// connections close before the grapes' 5 s keep-alive (Node's too) ends
// them: a POST sent on a connection the server is closing fails with EOF
// and is not retried (a 256-grape cluster, where each grape's connection
// idles longer, hit that).
var httpc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 3 * time.Second}}

// grapeFlags are passed to both implementations: the documented defaults,
// which the Node 1.0.0 CLI only applies when given explicitly.
func grapeFlags(dhtPort, apiPort int, bootstrap []string) []string {
	return []string{"--dp", strconv.Itoa(dhtPort), "--aph", strconv.Itoa(apiPort),
		"--bn", strings.Join(bootstrap, ","), "--dpa", "120000", "--check_maxPayloadSize", "8192"}
}

func nodeImpl(nodeDir, cpu string) impl {
	return impl{name: "node", start: func(d, a int, bn []string) (*proc, error) {
		script := filepath.Join("node_modules", "grenache-grape", "bin", "grape.js")
		return startProc(fmt.Sprintf("node-grape-%d", a), cpu, nodeDir, nil, "node", append([]string{script}, grapeFlags(d, a, bn)...)...)
	}}
}

func goImpl(bin, cpu string) impl {
	return impl{name: "go", start: func(d, a int, bn []string) (*proc, error) {
		args := append(grapeFlags(d, a, bn), "--log-level", "warn")
		return startProc(fmt.Sprintf("go-grape-%d", a), cpu, "", []string{"GOMAXPROCS=1"}, bin, args...)
	}}
}

// startCluster starts n grapes, each bootstrapped at all the others, and
// waits until each answers /lookup and an announce on the first is
// visible on every other.
func startCluster(im impl, n int) ([]*runningGrape, error) {
	gs := make([]*runningGrape, n)
	for i := range gs {
		d, err := freePort("udp4")
		if err != nil {
			return nil, err
		}
		a, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		gs[i] = &runningGrape{dhtPort: d, api: "http://127.0.0.1:" + strconv.Itoa(a)}
	}
	for i, g := range gs {
		var bn []string
		for j, o := range gs {
			if j != i {
				bn = append(bn, "127.0.0.1:"+strconv.Itoa(o.dhtPort))
			}
		}
		apiPort, _ := strconv.Atoi(g.api[strings.LastIndexByte(g.api, ':')+1:])
		p, err := im.start(g.dhtPort, apiPort, bn)
		if err != nil {
			return nil, err
		}
		g.p = p
	}
	for _, g := range gs {
		if err := waitReady(g); err != nil {
			return nil, err
		}
	}
	if err := waitVisible(gs, "bench-connected", 1, 20*time.Second); err != nil {
		return nil, fmt.Errorf("%s cluster not connected: %w", im.name, err)
	}
	return gs, nil
}

func stopCluster(gs []*runningGrape) {
	var wg sync.WaitGroup
	for _, g := range gs {
		if g != nil && g.p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); g.p.stop() }()
		}
	}
	wg.Wait()
	httpc.CloseIdleConnections()
}

// waitReady polls /lookup until it answers [].
func waitReady(g *runningGrape) error {
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-g.p.done:
			return fmt.Errorf("%s exited: %s", g.p.name, g.p.out.tail(2000))
		default:
		}
		if body, err := call(g, "lookup", "__probe__"); err == nil && string(body) == "[]" {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after 20 s: %s", g.p.name, g.p.out.tail(2000))
}

// call POSTs {"data": data} to /endpoint.
func call(g *runningGrape, endpoint string, data any) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"data": data})
	resp, err := httpc.Post(g.api+"/"+endpoint, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return b, fmt.Errorf("%s /%s: status %d %q", g.p.name, endpoint, resp.StatusCode, b)
	}
	return bytes.TrimSpace(b), nil
}

// announce announces name->port and checks the reply is a count.
func announce(g *runningGrape, name string, port int) error {
	b, err := call(g, "announce", []any{name, port})
	if err != nil {
		return err
	}
	if _, err := strconv.Atoi(string(b)); err != nil {
		return fmt.Errorf("%s /announce %s: %q", g.p.name, name, b)
	}
	return nil
}

// lookupHas reports whether /lookup name returns 127.0.0.1:port.
func lookupHas(g *runningGrape, name string, port int) (bool, error) {
	b, err := call(g, "lookup", name)
	if err != nil {
		return false, err
	}
	var peers []string
	if err := json.Unmarshal(b, &peers); err != nil {
		return false, fmt.Errorf("%s /lookup %s: %q", g.p.name, name, b)
	}
	return slices.Contains(peers, "127.0.0.1:"+strconv.Itoa(port)), nil
}

// waitVisible announces name on gs[0] (re-announcing while the routing
// tables fill) until every grape's /lookup returns it.
func waitVisible(gs []*runningGrape, name string, port int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_ = announce(gs[0], name, port)
		all := true
		for _, g := range gs[1:] {
			if ok, _ := lookupHas(g, name, port); !ok {
				all = false
				break
			}
		}
		if all {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not visible on every grape after %v", name, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// announceAll announces names prefix0000.. on g, 16 at a time.
func announceAll(g *runningGrape, prefix string, n, basePort int) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := announce(g, benchName(prefix, i), basePort+i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}

// benchName matches the load generator's naming (<prefix>%04d).
func benchName(prefix string, i int) string { return fmt.Sprintf("%s%04d", prefix, i) }
