package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recordingPicker wraps RandomPicker and records each pick and outcome.
type recordingPicker struct {
	mu      sync.Mutex
	picks   []string
	results []CallResult
}

func (p *recordingPicker) Pick(s string, peers, tried []string) (string, func(CallResult), error) {
	addr, _, err := RandomPicker{}.Pick(s, peers, tried)
	p.mu.Lock()
	p.picks = append(p.picks, addr)
	p.mu.Unlock()
	return addr, func(r CallResult) {
		p.mu.Lock()
		p.results = append(p.results, r)
		p.mu.Unlock()
	}, err
}

func idHandler(id string) Handler {
	return func(ctx context.Context, key string, p json.RawMessage) (any, error) {
		if string(p) == `"fail"` {
			return nil, errors.New("ERR_" + id)
		}
		return id, nil
	}
}

func TestRandomPickerNeverRepeatsWhileOthersRemain(t *testing.T) {
	peers := []string{"a", "b", "c"}
	for range 200 {
		var tried []string
		for range 3 {
			addr, _, err := RandomPicker{}.Pick("s", peers, tried)
			if err != nil || contains(tried, addr) {
				t.Fatalf("picked %q after %v (%v)", addr, tried, err)
			}
			tried = append(tried, addr)
		}
		// All tried: it still picks someone.
		if addr, _, err := (RandomPicker{}).Pick("s", peers, tried); err != nil || !contains(peers, addr) {
			t.Fatalf("exhausted pick %q %v", addr, err)
		}
	}
	if _, _, err := (RandomPicker{}).Pick("s", nil, nil); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("empty: %v", err)
	}
}

func TestRequestRetriesOnOtherPeers(t *testing.T) {
	good, _ := startHTTPServer(t, idHandler("good"))
	peers := staticResolver{deadAddr(t), deadAddr(t), good}
	p := &recordingPicker{}
	q := NewRequester(peers, newTestClient(t, HTTPClientConfig{}), p)
	res, err := q.Request(context.Background(), "svc", "hi", RequestOptions{Retry: 3})
	if err != nil || string(res) != `"good"` {
		t.Fatalf("%s %v (picks %v)", res, err, p.picks)
	}
	seen := map[string]bool{}
	for _, a := range p.picks {
		if seen[a] {
			t.Fatalf("peer %s tried twice: %v", a, p.picks)
		}
		seen[a] = true
	}
	if len(p.results) != len(p.picks) {
		t.Fatalf("done called %d times for %d picks", len(p.results), len(p.picks))
	}
	if last := p.results[len(p.results)-1]; last.Err != nil || last.Latency <= 0 {
		t.Fatalf("last outcome %+v", last)
	}
}

func TestRequestSingleAttemptByDefault(t *testing.T) {
	p := &recordingPicker{}
	q := NewRequester(staticResolver{deadAddr(t), deadAddr(t)}, newTestClient(t, HTTPClientConfig{}), p)
	_, err := q.Request(context.Background(), "svc", "hi", RequestOptions{})
	if !errors.Is(err, ErrTransport) || len(p.picks) != 1 {
		t.Fatalf("err %v picks %v", err, p.picks)
	}
	if p.results[0].Err == nil {
		t.Fatal("failure not reported to the picker")
	}
}

func TestRequestNoPeers(t *testing.T) {
	q := NewRequester(staticResolver{}, newTestClient(t, HTTPClientConfig{}), nil)
	if _, err := q.Request(context.Background(), "svc", "hi", RequestOptions{}); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("request: %v", err)
	}
	if _, err := q.Map(context.Background(), "svc", "hi", RequestOptions{}); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("map: %v", err)
	}
}

func TestMapResultsInPeerOrder(t *testing.T) {
	var peers staticResolver
	for i := range 4 {
		a, _ := startHTTPServer(t, idHandler(fmt.Sprint(i)))
		peers = append(peers, a)
	}
	q := NewRequester(peers, newTestClient(t, HTTPClientConfig{}), nil)
	res, err := q.Map(context.Background(), "svc", "hi", RequestOptions{Compress: true})
	if err != nil || len(res) != 4 {
		t.Fatalf("%v %v", res, err)
	}
	for i, r := range res {
		if string(r) != fmt.Sprintf(`"%d"`, i) {
			t.Fatalf("result %d = %s (order lost)", i, r)
		}
	}
	res, err = q.Map(context.Background(), "svc", "hi", RequestOptions{Limit: 2})
	if err != nil || len(res) != 2 || string(res[0]) == string(res[1]) {
		t.Fatalf("limit: %v %v", res, err)
	}
}

func TestMapFailsFastOnFirstError(t *testing.T) {
	slow, _ := startHTTPServer(t, func(ctx context.Context, _ string, _ json.RawMessage) (any, error) {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
		return "slow", nil
	})
	failing, _ := startHTTPServer(t, func(context.Context, string, json.RawMessage) (any, error) {
		return nil, errors.New("ERR_BROKEN")
	})
	q := NewRequester(staticResolver{slow, failing}, newTestClient(t, HTTPClientConfig{}), nil)
	start := time.Now()
	_, err := q.Map(context.Background(), "svc", "hi", RequestOptions{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_BROKEN" {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("map waited %v for the slow peer", d)
	}
}

// countingServer serves id (or ERR_<id> when fail) and counts its calls.
func countingServer(t *testing.T, id string, fail bool) (string, *atomic.Int64) {
	t.Helper()
	var hits atomic.Int64
	addr, _ := startHTTPServer(t, func(context.Context, string, json.RawMessage) (any, error) {
		hits.Add(1)
		if fail {
			return nil, errors.New("ERR_" + id)
		}
		return id, nil
	})
	return addr, &hits
}

// subsetPicker is a MapPicker that sends Map to the peers not in skip (or to
// pick when set, even beyond the limit) and records every outcome.
type subsetPicker struct {
	RandomPicker
	skip  []string
	pick  []string
	err   error
	mu    sync.Mutex
	limit int
	got   map[string][]CallResult
}

func (p *subsetPicker) PickAll(_ string, peers []string, limit int) ([]string, []func(CallResult), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.limit = limit
	if p.err != nil {
		return nil, nil, p.err
	}
	addrs := p.pick
	if addrs == nil {
		for _, a := range peers {
			if !contains(p.skip, a) {
				addrs = append(addrs, a)
			}
		}
	}
	var dones []func(CallResult)
	for _, a := range addrs {
		dones = append(dones, func(r CallResult) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.got[a] = append(p.got[a], r)
		})
	}
	return addrs, dones, nil
}

func (p *subsetPicker) results() map[string][]CallResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.got)
}

func TestMapCallsOnlyThePeersAMapPickerChooses(t *testing.T) {
	a, ha := countingServer(t, "a", false)
	b, hb := countingServer(t, "b", false)
	c, hc := countingServer(t, "c", false)
	p := &subsetPicker{skip: []string{b}, got: map[string][]CallResult{}}
	q := NewRequester(staticResolver{a, b, c}, newTestClient(t, HTTPClientConfig{}), p)
	res, err := q.Map(context.Background(), "svc", "hi", RequestOptions{})
	if err != nil || len(res) != 2 || string(res[0]) != `"a"` || string(res[1]) != `"c"` {
		t.Fatalf("%s %v", res, err)
	}
	if ha.Load() != 1 || hb.Load() != 0 || hc.Load() != 1 {
		t.Fatalf("hits a=%d b=%d c=%d, want 1 0 1", ha.Load(), hb.Load(), hc.Load())
	}
	got := p.results()
	if len(got) != 2 {
		t.Fatalf("done called for %v", got)
	}
	for _, addr := range []string{a, c} {
		if rs := got[addr]; len(rs) != 1 || rs[0].Err != nil || rs[0].Latency <= 0 {
			t.Fatalf("%s: outcomes %+v, want one success", addr, rs)
		}
	}
	if p.limit != 0 {
		t.Fatalf("limit %d passed without one", p.limit)
	}
}

func TestMapReportsFailureAndCancellationToMapPicker(t *testing.T) {
	slow, _ := startHTTPServer(t, func(ctx context.Context, _ string, _ json.RawMessage) (any, error) {
		select {
		case <-time.After(5 * time.Second):
		case <-ctx.Done():
		}
		return "slow", nil
	})
	failing, _ := countingServer(t, "broken", true)
	unused, hu := countingServer(t, "unused", false)
	p := &subsetPicker{skip: []string{unused}, got: map[string][]CallResult{}}
	q := NewRequester(staticResolver{slow, failing, unused}, newTestClient(t, HTTPClientConfig{}), p)
	_, err := q.Map(context.Background(), "svc", "hi", RequestOptions{})
	var re *RemoteError
	if !errors.As(err, &re) || re.Msg != "ERR_broken" {
		t.Fatalf("err %v", err)
	}
	got := p.results()
	if rs := got[failing]; len(rs) != 1 || !errors.As(rs[0].Err, &re) {
		t.Fatalf("failing peer outcomes %+v", rs)
	}
	// The slow call was cancelled by the failure: reported once, as such.
	if rs := got[slow]; len(rs) != 1 || !errors.Is(rs[0].Err, context.Canceled) {
		t.Fatalf("slow peer outcomes %+v", rs)
	}
	if hu.Load() != 0 || len(got[unused]) != 0 {
		t.Fatalf("left-out peer called %d times, done %v", hu.Load(), got[unused])
	}
}

func TestMapPickAllErrorAndLimit(t *testing.T) {
	a, ha := countingServer(t, "a", false)
	b, hb := countingServer(t, "b", false)
	hc := newTestClient(t, HTTPClientConfig{})

	p := &subsetPicker{err: ErrNoPeers, got: map[string][]CallResult{}}
	q := NewRequester(staticResolver{a, b}, hc, p)
	_, err := q.Map(context.Background(), "svc", "hi", RequestOptions{Limit: 1})
	if !errors.Is(err, ErrNoPeers) || !strings.Contains(err.Error(), `"svc"`) {
		t.Fatalf("PickAll error: %v", err)
	}
	if p.limit != 1 || ha.Load()+hb.Load() != 0 {
		t.Fatalf("limit %d, hits %d %d", p.limit, ha.Load(), hb.Load())
	}

	// A picker returning more than the limit: the surplus is settled as not
	// called (so it is not leaked in flight) and not called.
	p = &subsetPicker{pick: []string{b, a}, got: map[string][]CallResult{}}
	q = NewRequester(staticResolver{a, b}, hc, p)
	res, err := q.Map(context.Background(), "svc", "hi", RequestOptions{Limit: 1})
	if err != nil || len(res) != 1 || string(res[0]) != `"b"` {
		t.Fatalf("%s %v", res, err)
	}
	got := p.results()
	if ha.Load() != 0 || len(got[a]) != 1 || !errors.Is(got[a][0].Err, context.Canceled) {
		t.Fatalf("surplus peer: hits %d outcomes %+v", ha.Load(), got[a])
	}
	if hb.Load() != 1 || len(got[b]) != 1 || got[b][0].Err != nil {
		t.Fatalf("chosen peer: hits %d outcomes %+v", hb.Load(), got[b])
	}

	// Choosing nobody without an error is no peers, not an empty success.
	p = &subsetPicker{skip: []string{a, b}, got: map[string][]CallResult{}}
	q = NewRequester(staticResolver{a, b}, hc, p)
	if _, err := q.Map(context.Background(), "svc", "hi", RequestOptions{}); !errors.Is(err, ErrNoPeers) {
		t.Fatalf("empty pick: %v", err)
	}
}

func TestMapWithoutMapPickerCallsEveryPeer(t *testing.T) {
	var peers staticResolver
	var hits []*atomic.Int64
	for i := range 3 {
		a, h := countingServer(t, fmt.Sprint(i), false)
		peers, hits = append(peers, a), append(hits, h)
	}
	p := &recordingPicker{}
	q := NewRequester(peers, newTestClient(t, HTTPClientConfig{}), p)
	res, err := q.Map(context.Background(), "svc", "hi", RequestOptions{})
	if err != nil || len(res) != 3 {
		t.Fatalf("%s %v", res, err)
	}
	for i, h := range hits {
		if h.Load() != 1 {
			t.Fatalf("peer %d called %d times", i, h.Load())
		}
	}
	if len(p.picks) != 0 {
		t.Fatalf("plain picker asked for Map: %v", p.picks)
	}
}
