package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
