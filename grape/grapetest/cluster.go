// Package grapetest starts clusters of real Go grapes on loopback for tests.
package grapetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
)

// Option adjusts the configuration of every grape of a cluster.
type Option func(i int, cfg *grape.Config)

// WithConfig applies f to each grape's config (i is the grape's index).
func WithConfig(f func(i int, cfg *grape.Config)) Option { return Option(f) }

// WithPeerMaxAge sets the announcement lifetime of every grape.
func WithPeerMaxAge(d time.Duration) Option {
	return func(_ int, cfg *grape.Config) { cfg.PeerMaxAge = d }
}

// WithQueryTimeout sets the KRPC timeout of every grape (short in tests).
func WithQueryTimeout(d time.Duration) Option {
	return func(_ int, cfg *grape.Config) { cfg.QueryTimeout = d }
}

// ConnectTimeout bounds how long Cluster waits for the grapes to see each
// other.
var ConnectTimeout = 15 * time.Second

// Cluster starts n Go grapes on 127.0.0.1 (options may choose other
// loopback IPs) with free ports. Grape i bootstraps to grapes 0..i-1 and is
// started only after grape i-1 finished its own bootstrap walk; grape 0 learns the others from their queries. It
// waits until an announce made on the first grape is visible by a lookup on
// the last, and stops every grape in t.Cleanup.
func Cluster(t testing.TB, n int, opts ...Option) []*grape.Grape {
	t.Helper()
	if n < 1 {
		t.Fatalf("grapetest: need at least one grape, got %d", n)
	}
	gs := make([]*grape.Grape, 0, n)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, n)
	t.Cleanup(func() {
		cancel()
		for range gs {
			<-done
		}
	})
	// Grapes start one after another, each bootstrapping to every earlier
	// one and running before the next starts, so each join walk finds live
	// nodes. Grape 0 learns the others from their queries.
	for i := 0; i < n; i++ {
		cfg := grape.DefaultConfig()
		cfg.DHTHost = "127.0.0.1"
		cfg.Bind = ""
		cfg.DHTPort = 0
		cfg.APIPort = 0
		cfg.QueryTimeout = 500 * time.Millisecond
		cfg.ShutdownTimeout = 2 * time.Second
		for _, prev := range gs {
			cfg.Bootstrap = append(cfg.Bootstrap, prev.DHTAddr().String())
		}
		for _, o := range opts {
			o(i, &cfg)
		}
		g, err := grape.New(cfg)
		if err != nil {
			t.Fatalf("grapetest: grape %d: %v", i, err)
		}
		gs = append(gs, g)
		go func() {
			if err := g.Run(ctx); err != nil {
				t.Errorf("grapetest: grape run: %v", err)
			}
			done <- struct{}{}
		}()
		select {
		case <-g.Ready():
		case <-time.After(ConnectTimeout):
			t.Fatalf("grapetest: grape %d never finished its bootstrap walk", i)
		}
	}
	if err := waitConnected(gs); err != nil {
		for _, g := range gs {
			resp, _ := http.Get(g.APIURL() + "/status")
			if resp != nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				t.Logf("%s", b)
			}
		}
		t.Fatalf("grapetest: cluster of %d not connected: %v", n, err)
	}
	return gs
}

// waitConnected announces a probe name on the first grape until a lookup on
// the last returns it.
func waitConnected(gs []*grape.Grape) error {
	first, last := gs[0], gs[len(gs)-1]
	name := fmt.Sprintf("grapetest:probe:%d", time.Now().UnixNano())
	deadline := time.Now().Add(ConnectTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ann, err := Call(first.APIURL(), "announce", fmt.Sprintf(`["%s",1]`, name))
		if err != nil {
			lastErr = err
		}
		body, err := Call(last.APIURL(), "lookup", `"`+name+`"`)
		if err == nil && strings.Contains(body, `:1"`) { // any loopback IP the grapes bind
			return nil
		}
		if err != nil {
			lastErr = err
		} else {
			lastErr = fmt.Errorf("announce on the first answered %s, lookup on the last %s", ann, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if lastErr == nil {
		lastErr = errors.New("timeout")
	}
	return lastErr
}

var client = &http.Client{Timeout: 10 * time.Second}

// Call POSTs {"data": <data>} to a grape endpoint and returns the body of a
// 200 reply. data is raw JSON.
func Call(apiURL, endpoint, data string) (string, error) {
	body := `{"data":` + data + `,"rid":"grapetest"}`
	resp, err := client.Post(apiURL+"/"+endpoint, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}

// StoreHolds asks the DHT node at addr (host:port), with a raw get_peers
// over UDP, whether its own peer store holds any announcement for name: a
// get_peers answer carries only that node's store, unlike /lookup, which
// also merges a walk and the grape's seen-peers memory. The query carries a
// 1-byte id so the node does not add the probe to its routing table (its
// walks would then wait on a socket that never answers).
func StoreHolds(t testing.TB, addr, name string) bool {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := fmt.Sprintf("d1:ad2:id1:x9:info_hash%d:%se1:q9:get_peers1:t2:pp1:y1:qe", len(name), name)
	if _, err := c.Write([]byte(q)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 2048)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("get_peers probe of %s: %v", addr, err)
	}
	return bytes.Contains(buf[:n], []byte("6:values"))
}
