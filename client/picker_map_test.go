package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/transport"
)

// mapTestConfig trips a breaker after two consecutive failures and keeps it
// open for longer than any of these tests runs.
func mapTestConfig() client.Config {
	cfg := client.DefaultConfig()
	cfg.BreakerFailureThreshold = 2
	cfg.BreakerCooldown = 30 * time.Second
	cfg.BreakerMaxCooldown = 60 * time.Second
	return cfg
}

func statsOf(t *testing.T, p *client.Picker, addr string) client.PeerStats {
	t.Helper()
	for _, st := range p.Stats("svc") {
		if st.Addr == addr {
			return st
		}
	}
	t.Fatalf("no stats for %s", addr)
	return client.PeerStats{}
}

func TestRequesterMapSkipsOpenBreakers(t *testing.T) {
	srvs := startPickerServers(t, 3)
	srvs[0].fail.Store(true)
	p, err := client.NewPicker(mapTestConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := newPickerRequester(t, srvs, p)
	// Trip server 0's breaker with single-attempt requests.
	for i := 0; statsOf0(t, p, srvs) != client.Open; i++ {
		if i == 300 {
			t.Fatalf("breaker of the failing peer did not open: %+v", p.Stats("svc"))
		}
		_, _ = q.Request(context.Background(), "svc", "x", transport.RequestOptions{})
	}
	before := []int64{srvs[0].calls.Load(), srvs[1].calls.Load(), srvs[2].calls.Load()}
	for range 5 {
		res, err := q.Map(context.Background(), "svc", "hi", transport.RequestOptions{})
		if err != nil || len(res) != 2 || string(res[0]) != `"hi"` || string(res[1]) != `"hi"` {
			t.Fatalf("map: %s %v", res, err)
		}
	}
	// The limit counts healthy peers: two of three always gives both.
	for range 10 {
		res, err := q.Map(context.Background(), "svc", "hi", transport.RequestOptions{Limit: 2})
		if err != nil || len(res) != 2 {
			t.Fatalf("map limit 2: %s %v", res, err)
		}
	}
	if d := srvs[0].calls.Load() - before[0]; d != 0 {
		t.Fatalf("peer with an open breaker called %d times by Map", d)
	}
	for i := 1; i < 3; i++ {
		if d := srvs[i].calls.Load() - before[i]; d != 15 {
			t.Fatalf("healthy peer %d called %d times by 15 maps", i, d)
		}
	}
	for _, st := range p.Stats("svc") {
		if st.InFlight != 0 {
			t.Fatalf("%s: %d still in flight", st.Addr, st.InFlight)
		}
	}
}

func statsOf0(t *testing.T, p *client.Picker, srvs []*pickerServer) client.BreakerState {
	t.Helper()
	if len(p.Stats("svc")) == 0 {
		return client.Closed // before the first pick
	}
	return statsOf(t, p, srvs[0].addr).State
}

func TestRequesterMapRecordsOutcomes(t *testing.T) {
	srvs := startPickerServers(t, 3)
	p, err := client.NewPicker(mapTestConfig())
	if err != nil {
		t.Fatal(err)
	}
	q := newPickerRequester(t, srvs, p)
	for range 3 {
		if _, err := q.Map(context.Background(), "svc", "hi", transport.RequestOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range srvs {
		if st := statsOf(t, p, s.addr); st.Successes != 3 || st.Attempts != 3 || st.InFlight != 0 {
			t.Fatalf("%s after 3 maps: %+v", s.addr, st)
		}
	}

	// A failing peer fails the Map and counts against that peer only (the
	// calls it cancelled count for nobody).
	srvs[1].fail.Store(true)
	_, err = q.Map(context.Background(), "svc", "hi", transport.RequestOptions{})
	var re *transport.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("map with a failing peer: %v", err)
	}
	if st := statsOf(t, p, srvs[1].addr); st.Errors != 1 || st.InFlight != 0 {
		t.Fatalf("failing peer: %+v", st)
	}
	for _, i := range []int{0, 2} {
		if st := statsOf(t, p, srvs[i].addr); st.Errors != 0 || st.InFlight != 0 {
			t.Fatalf("healthy peer %d: %+v", i, st)
		}
	}

	// Map failures alone trip the breaker; then Map leaves the peer out.
	_, _ = q.Map(context.Background(), "svc", "hi", transport.RequestOptions{})
	if st := statsOf(t, p, srvs[1].addr); st.State != client.Open || st.Errors != 2 {
		t.Fatalf("after two failed maps: %+v", st)
	}
	before := srvs[1].calls.Load()
	res, err := q.Map(context.Background(), "svc", "hi", transport.RequestOptions{})
	if err != nil || len(res) != 2 {
		t.Fatalf("map around the open breaker: %s %v", res, err)
	}
	if d := srvs[1].calls.Load() - before; d != 0 {
		t.Fatalf("open peer called %d times", d)
	}
}

func TestPickerPickAll(t *testing.T) {
	p, err := client.NewPicker(client.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	peers := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}
	addrs, dones, err := p.PickAll("svc", peers, 0)
	if err != nil || len(dones) != 3 || len(addrs) != 3 {
		t.Fatalf("%v %d %v", addrs, len(dones), err)
	}
	for i, a := range addrs {
		if a != peers[i] {
			t.Fatalf("order lost: %v", addrs)
		}
	}
	for _, d := range dones {
		d(transport.CallResult{})
		d(transport.CallResult{Err: errors.New("late")}) // ignored
	}
	addrs, dones, err = p.PickAll("svc", peers, 2)
	if err != nil || len(addrs) != 2 || len(dones) != 2 || addrs[0] == addrs[1] {
		t.Fatalf("limit 2: %v %v", addrs, err)
	}
	for _, d := range dones {
		d(transport.CallResult{})
	}
	var n uint64
	for _, st := range p.Stats("svc") {
		if st.InFlight != 0 || st.Errors != 0 {
			t.Fatalf("%+v", st)
		}
		n += st.Successes
	}
	if n != 5 {
		t.Fatalf("%d successes recorded, want 5", n)
	}
	if _, _, err := p.PickAll("svc", nil, 0); !errors.Is(err, transport.ErrNoPeers) {
		t.Fatalf("no peers: %v", err)
	}
}
