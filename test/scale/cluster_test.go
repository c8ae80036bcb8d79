package scale

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
)

// member is one in-process grape of the test cluster.
type member struct {
	g    *grape.Grape
	stop context.CancelFunc
	done chan struct{}
}

// cluster is a set of in-process grapes that grows one grape at a time,
// each bootstrapped at a few random live ones, and can lose members.
type cluster struct {
	t    testing.TB
	boot int

	mu   sync.Mutex
	rng  *rand.Rand
	live []*member
	all  []*member // for cleanup
}

func newCluster(t testing.TB, seed uint64, boot int) *cluster {
	c := &cluster{t: t, boot: boot, rng: rand.New(rand.NewPCG(seed, seed))}
	t.Cleanup(func() {
		for _, m := range c.all {
			m.stop()
		}
		for _, m := range c.all {
			<-m.done
		}
	})
	return c
}

// add starts one grape bootstrapped at up to c.boot random live grapes
// and waits for its bootstrap walk.
func (c *cluster) add() *member {
	c.t.Helper()
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.Bind, cfg.DHTPort, cfg.APIPort = "127.0.0.1", "", 0, 0
	cfg.QueryTimeout = 500 * time.Millisecond
	cfg.ShutdownTimeout = 2 * time.Second
	c.mu.Lock()
	for _, k := range c.rng.Perm(len(c.live))[:min(c.boot, len(c.live))] {
		cfg.Bootstrap = append(cfg.Bootstrap, c.live[k].g.DHTAddr().String())
	}
	c.mu.Unlock()
	g, err := grape.New(cfg)
	if err != nil {
		c.t.Fatalf("grape: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{g: g, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := g.Run(ctx); err != nil {
			c.t.Errorf("grape run: %v", err)
		}
	}()
	c.mu.Lock()
	c.all = append(c.all, m)
	c.mu.Unlock()
	if len(cfg.Bootstrap) > 0 {
		select {
		case <-g.Ready():
		case <-time.After(15 * time.Second):
			c.t.Fatalf("grape %d never finished its bootstrap walk", len(c.all))
		}
	}
	c.mu.Lock()
	c.live = append(c.live, m)
	c.mu.Unlock()
	return m
}

// pick returns a random live grape not in except.
func (c *cluster) pick(except []*member) *member {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		m := c.live[c.rng.IntN(len(c.live))]
		if !slices.Contains(except, m) {
			return m
		}
	}
}

// victims chooses n random live grapes.
func (c *cluster) victims(n int) []*member {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.rng.Perm(len(c.live))[:n]
	out := make([]*member, n)
	for i, k := range p {
		out[i] = c.live[k]
	}
	return out
}

// kill stops ms (their sockets close: peers see them vanish) and takes
// them out of the live set.
func (c *cluster) kill(ms []*member) {
	c.mu.Lock()
	c.live = slices.DeleteFunc(c.live, func(m *member) bool { return slices.Contains(ms, m) })
	c.mu.Unlock()
	for _, m := range ms {
		m.stop()
	}
	for _, m := range ms {
		<-m.done
	}
}

func (c *cluster) members() []*member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.live)
}

func (c *cluster) intn(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.IntN(n)
}

// krpcSent sums the KRPC queries every live grape reports sending in
// its /metrics, by query name ("" is the total).
func (c *cluster) krpcSent() map[string]int64 {
	c.t.Helper()
	total := map[string]int64{}
	for _, m := range c.members() {
		resp, err := http.Get(m.g.APIURL() + "/metrics")
		if err != nil {
			c.t.Fatalf("metrics: %v", err)
		}
		s := bufio.NewScanner(resp.Body)
		for s.Scan() {
			if line := s.Text(); strings.HasPrefix(line, "grape_krpc_queries_sent_total{") {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					c.t.Fatalf("metrics line %q: %v", line, err)
				}
				q := line[strings.Index(line, `query="`)+len(`query="`):]
				total[q[:strings.IndexByte(q, '"')]] += int64(v)
				total[""] += int64(v)
			}
		}
		resp.Body.Close()
	}
	return total
}

// httpc closes idle connections before the grapes' 5 s keep-alive does:
// a POST sent on a connection the server is closing fails with EOF.
var httpc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 2 * time.Second}}

// call POSTs {"data": data} (raw JSON) to endpoint of m once.
func call(m *member, endpoint, data string) (string, error) {
	resp, err := httpc.Post(m.g.APIURL()+"/"+endpoint, "application/json", strings.NewReader(`{"data":`+data+`}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	s := bufio.NewScanner(resp.Body)
	s.Buffer(make([]byte, 64<<10), 1<<20)
	for s.Scan() {
		b.WriteString(s.Text())
	}
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("/%s: status %d: %s", endpoint, resp.StatusCode, b.String())
	}
	return b.String(), nil
}

func name(i int) string { return "scale-test-svc-" + strconv.Itoa(i) }
func port(i int) int    { return 20000 + i }
