package grape_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// Fair-share test layout: each grape binds its DHT socket and HTTP API on
// its own loopback IP, so the grapes see each other as distinct sources.
const (
	fairGrapes     = 3
	fairStoreCap   = 500     // MaxPeers of every grape, low so the floods overflow it many times
	krpcFloodNames = 200_000 // announce_peer names sent to every grape from one hostile IP
	httpFloodNames = 2_000   // /announce calls of unique names from one HTTP client
	serviceName    = "fair:svc"
)

func grapeIP(i int) string { return fmt.Sprintf("127.0.0.%d", 2+i) }

// A service announced through one grape is returned by every grape during
// and after a flood of unique names from other addresses: raw announce_peer
// packets from a hostile DHT peer (127.0.0.20) and /announce calls from an
// HTTP client (127.0.0.30) through another grape. Each flood overflows the
// stores hundreds (KRPC) or several (HTTP) times over; the flooding source
// loses its own oldest records, not the service.
func TestFloodFromOneSourceKeepsOthersServices(t *testing.T) {
	gs := grapetest.Cluster(t, fairGrapes, grapetest.WithConfig(func(i int, cfg *grape.Config) {
		cfg.DHTHost, cfg.Bind = grapeIP(i), grapeIP(i)
		cfg.MaxPeers = fairStoreCap
	}))
	svcClient := httpClientFrom(t, "127.0.0.10")
	if body, err := callFrom(svcClient, gs[0].APIURL(), "announce", fmt.Sprintf(`[%q,4000]`, serviceName)); err != nil || body == "0" {
		t.Fatalf("service announce: %q %v", body, err)
	}
	want := fmt.Sprintf(`"%s:4000"`, grapeIP(0))
	svcPeer := [6]byte{127, 0, 0, 2, 4000 >> 8, 4000 & 0xff}
	watcher, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("127.0.0.40")})
	if err != nil {
		t.Fatal(err)
	}
	defer watcher.Close()
	// check asks every grape's own store (get_peers: the property itself;
	// /lookup alone would also be served by the seen-peers memory) and its
	// HTTP API.
	check := func(when string) error {
		for _, g := range gs {
			held, err := storeHolds(watcher, net.UDPAddrFromAddrPort(g.DHTAddr()), serviceName, svcPeer)
			if err != nil || !held {
				return fmt.Errorf("%s: the peer store of %v holds the service: %v (%v)", when, g.DHTAddr(), held, err)
			}
			body, err := grapetest.Call(g.APIURL(), "lookup", strconv.Quote(serviceName))
			if err != nil || !strings.Contains(body, want) {
				return fmt.Errorf("%s: lookup on %s answered %q (%v), want it to contain %s", when, g.APIURL(), body, err, want)
			}
		}
		return nil
	}
	if err := check("before the flood"); err != nil {
		t.Fatal(err)
	}

	// Lookups run on every grape for as long as the floods do.
	ctx, stop := context.WithCancel(context.Background())
	watchErr := make(chan error, 1)
	checks := 0
	go func() {
		defer close(watchErr)
		for ctx.Err() == nil {
			if err := check("during the flood"); err != nil {
				watchErr <- err
				return
			}
			checks++
			time.Sleep(20 * time.Millisecond)
		}
	}()

	start := time.Now()
	var wg sync.WaitGroup
	var krpcErr, httpErr error
	var krpcAcked int
	var krpcTook, httpTook time.Duration
	wg.Add(2)
	go func() {
		defer wg.Done()
		krpcAcked, krpcErr = krpcFlood(gs, "127.0.0.20", krpcFloodNames)
		krpcTook = time.Since(start)
	}()
	go func() {
		defer wg.Done()
		httpErr = httpFlood(httpClientFrom(t, "127.0.0.30"), gs[1].APIURL(), httpFloodNames)
		httpTook = time.Since(start)
	}()
	wg.Wait()
	took := time.Since(start)
	stop()
	if err := <-watchErr; err != nil {
		t.Fatal(err)
	}
	if krpcErr != nil || httpErr != nil {
		t.Fatalf("floods: krpc %v, http %v", krpcErr, httpErr)
	}
	t.Logf("floods took %v (KRPC %v, HTTP %v): %d of %d announce_peer acked, %d /announce, %d lookup rounds during them",
		took, krpcTook, httpTook, krpcAcked, fairGrapes*krpcFloodNames, httpFloodNames, checks)
	// The flood must really have overflowed the stores, or the test proves
	// nothing. About 0.3% of the packets are lost on a loaded host; half
	// is still 200 times each store's cap, and leaves room for a starved one.
	if krpcAcked < fairGrapes*krpcFloodNames/2 {
		t.Fatalf("only %d announce_peer acked: the flood did not reach the grapes", krpcAcked)
	}
	for _, g := range gs {
		if body, _ := grapetest.Call(g.APIURL(), "lookup", `"flood-krpc-199999"`); body == "[]" {
			t.Errorf("%s dropped the newest flood record: the store did not keep the flooder's newest", g.APIURL())
		}
	}
	if err := check("after the flood"); err != nil {
		t.Fatal(err)
	}
}

// httpClientFrom is an HTTP client whose connections leave from ip.
func httpClientFrom(t *testing.T, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 16}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func callFrom(c *http.Client, apiURL, endpoint, data string) (string, error) {
	resp, err := c.Post(apiURL+"/"+endpoint, "application/json", strings.NewReader(`{"data":`+data+`}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return b.String(), fmt.Errorf("status %d", resp.StatusCode)
	}
	return b.String(), err
}

// httpFlood announces n unique names through one grape, 16 at a time.
func httpFlood(c *http.Client, apiURL string, n int) error {
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				if _, err := callFrom(c, apiURL, "announce", fmt.Sprintf(`["flood-http-%d",5000]`, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return errors.Join(<-errs)
}

// The self-store of a grape started with -b charges each announcement to
// the HTTP client's IP: one client flooding /announce evicts its own
// records, not another client's service. (No other grape: the flood stays
// in this grape's own store.)
func TestSelfStoreFairSharePerHTTPClient(t *testing.T) {
	cfg := grape.DefaultConfig()
	cfg.DHTHost, cfg.DHTPort, cfg.APIPort, cfg.Bind = "127.0.0.1", 0, 0, "127.0.0.1"
	cfg.MaxPeers = 100
	cfg.LookupCacheTTL = 0
	g, err := grape.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	<-g.Ready()
	if _, err := callFrom(httpClientFrom(t, "127.0.0.6"), g.APIURL(), "announce", `["self:svc",4000]`); err != nil {
		t.Fatal(err)
	}
	flood := httpClientFrom(t, "127.0.0.5")
	for i := 0; i < 2000; i++ {
		if _, err := callFrom(flood, g.APIURL(), "announce", fmt.Sprintf(`["self:flood-%d",5000]`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if body, _ := grapetest.Call(g.APIURL(), "lookup", `"self:svc"`); body != `["127.0.0.1:4000"]` {
		t.Errorf("after a flood from another client, lookup answered %s", body)
	}
	if body, _ := grapetest.Call(g.APIURL(), "lookup", `"self:flood-1999"`); body != `["127.0.0.1:5000"]` {
		t.Errorf("the flooder's newest record: %s", body)
	}
}
