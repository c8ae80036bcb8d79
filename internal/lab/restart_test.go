package lab

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
)

// TestGracefulRestart: a gracefully restarted worker comes back on its
// port and serves, the drain takes at least its grace, and Stopped holds
// exactly for that worker between the end of the grace and the return.
func TestGracefulRestart(t *testing.T) {
	gs, err := StartGrapes(2, 10*time.Second) // one grape alone stores nothing it announces
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	const grace = 300 * time.Millisecond
	ws, err := StartDrainingWorkers(gs.URLs(), "lab:restart", 2, 100*time.Millisecond, grace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ws.WaitVisible(ctx); err != nil {
		t.Fatal(err)
	}
	before := ws.Addrs()
	t0 := time.Now()
	if err := ws.GracefulRestart(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t2 := time.Now()
	if el := t2.Sub(t0); el < grace {
		t.Errorf("restart took %v, less than the %v drain grace: the drain was skipped", el, grace)
	}
	if got := ws.Addrs(); got[0] != before[0] || got[1] != before[1] {
		t.Errorf("addresses %v after the restart, want %v (same ports)", got, before)
	}
	a0, a1 := before[0], before[1]
	ws.mu.Lock()
	win := *ws.stops[0]
	ws.mu.Unlock()
	if win.from.Before(t0.Add(grace)) || !win.to.After(win.from) || win.to.After(t2) {
		t.Fatalf("stop window t0+%v..t0+%v, want from t0+%v to before the return at t0+%v",
			win.from.Sub(t0), win.to.Sub(t0), grace, t2.Sub(t0))
	}
	mid := win.from.Add(win.to.Sub(win.from) / 2)
	for _, c := range []struct {
		addr string
		at   time.Time
		want bool
	}{
		{a0, t0.Add(grace / 2), false}, // still answering in its grace
		{a0, win.from, true},
		{a0, mid, true},
		{a0, win.to, false}, // the replacement listens
		{a1, mid, false},
	} {
		if got := ws.Stopped(c.addr, c.at); got != c.want {
			t.Errorf("Stopped(%s, t0+%v) = %v, want %v", c.addr, c.at.Sub(t0), got, c.want)
		}
	}
	r, err := NewRunner(client.StrategyRandom, staticResolver{a0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Client.Request(ctx, "lab:restart", json.RawMessage(`{"job":"echo"}`)); err != nil {
		t.Errorf("the restarted worker does not serve: %v", err)
	}
	if err := ws.GracefulRestart(ctx, 0); err != nil {
		t.Errorf("a second restart of the same worker: %v", err)
	}
}

// TestRunCountsStoppedAttempts: attempts Plan.Stopped classifies are
// counted per peer, and only those.
func TestRunCountsStoppedAttempts(t *testing.T) {
	ws := startPool(t, 2)
	r, err := NewRunner(client.StrategyRoundRobin, staticResolver(ws.Addrs()), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	stopped := ws.Addr(0)
	res, err := Run(context.Background(), Plan{
		Service: "lab:test", Rate: 100, Duration: 500 * time.Millisecond,
		Steps:   []Step{{Phase: "all"}},
		Stopped: func(addr string, _ time.Time) bool { return addr == stopped },
	}, r)
	if err != nil {
		t.Fatal(err)
	}
	w := res.Runs[0].Total()
	if w.PeerAttempts[stopped] == 0 || w.PeerStopped[stopped] != w.PeerAttempts[stopped] {
		t.Errorf("stopped attempts %v, attempts %v: want every attempt at %s counted", w.PeerStopped, w.PeerAttempts, stopped)
	}
	if n := w.PeerStopped[ws.Addr(1)]; n != 0 || w.StoppedTotal() != w.PeerStopped[stopped] {
		t.Errorf("%d attempts at the running worker counted as stopped (total %d)", n, w.StoppedTotal())
	}
}

// TestGracefulReplace: a worker replaced onto a new port serves there and
// is visible, and its old address counts as stopped from the end of its
// grace on, for good.
func TestGracefulReplace(t *testing.T) {
	gs, err := StartGrapes(2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gs.Close() })
	const grace = 200 * time.Millisecond
	ws, err := StartDrainingWorkers(gs.URLs(), "lab:replace", 2, 100*time.Millisecond, grace)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ws.Close(); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ws.WaitVisible(ctx); err != nil {
		t.Fatal(err)
	}
	old := ws.Addr(0)
	t0 := time.Now()
	if err := ws.GracefulReplace(ctx, 0); err != nil {
		t.Fatal(err)
	}
	now := ws.Addr(0)
	if now == old {
		t.Fatalf("replaced worker still on %s", old)
	}
	if ws.Index(old) != 0 || ws.Index(now) != 0 || ws.Index(ws.Addr(1)) != 1 || ws.Index("127.0.0.1:1") != -1 {
		t.Errorf("Index(old %s) = %d, Index(new %s) = %d, want 0 for both", old, ws.Index(old), now, ws.Index(now))
	}
	if ws.Stopped(old, t0.Add(grace/2)) || !ws.Stopped(old, t0.Add(time.Hour)) || ws.Stopped(now, time.Now()) {
		t.Error("the old address must count as stopped after its grace and for good, the new one not")
	}
	r, err := NewRunner(client.StrategyRandom, staticResolver{now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Client.Request(ctx, "lab:replace", json.RawMessage(`{"job":"echo"}`)); err != nil {
		t.Errorf("the replacement does not serve: %v", err)
	}
}
