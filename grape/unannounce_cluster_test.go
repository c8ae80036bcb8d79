package grape_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape"
	"github.com/grenache-go/grenache/grape/grapetest"
)

// TestUnannounceLeavesEveryGrape: a service announced through one grape of
// four and looked up on every grape (so each grape's seen-peers memory
// holds it) stops being returned by every grape within 1 s of the
// /unannounce, and a new announce of the same name:port is visible again
// at once. With a one-minute lookup cache and -b, only the unannounce can
// take it out of the answers (memory and self-store).
func TestUnannounceLeavesEveryGrape(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(int, *grape.Config)
	}{
		{"default cache", func(int, *grape.Config) {}},
		{"minute cache and -b", func(_ int, cfg *grape.Config) {
			cfg.LookupCacheTTL = time.Minute
			cfg.Bind = "127.0.0.1"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := grapetest.Cluster(t, 4, grapetest.WithConfig(tc.mod))
			const name, port = "svc-unannounce", 4777
			rec := fmt.Sprintf("%q", fmt.Sprintf("127.0.0.1:%d", port))
			data := fmt.Sprintf(`[%q,%d]`, name, port)
			if _, err := grapetest.Call(gs[0].APIURL(), "announce", data); err != nil {
				t.Fatal(err)
			}
			waitAll(t, gs, name, rec, true)
			start := time.Now()
			body, err := grapetest.Call(gs[0].APIURL(), "unannounce", data)
			if err != nil {
				t.Fatal(err)
			}
			called := time.Since(start)
			// Three Go holders ack (the announcer does not query itself);
			// with -b the self-stored record adds one.
			if !strings.HasPrefix(body, "3") && !strings.HasPrefix(body, "4") {
				t.Errorf("unannounce answered %s, want 3 or 4", body)
			}
			delays := waitAll(t, gs, name, rec, false)
			worst := slicesMax(delays)
			total := called + worst
			t.Logf("unannounce call took %v; gone from every grape's lookups %v after it was sent (per grape, after the call returned: %v)", called, total, delays)
			if total > time.Second {
				t.Errorf("a grape still returned the service %v after the unannounce was sent, want <= 1 s", total)
			}
			for _, g := range gs {
				if grapetest.StoreHolds(t, g.DHTAddr().String(), name) {
					t.Errorf("%s still stores the announcement", g.DHTAddr())
				}
			}
			// A restarted service announcing again is seen again at once.
			if _, err := grapetest.Call(gs[1].APIURL(), "announce", data); err != nil {
				t.Fatal(err)
			}
			back := waitAll(t, gs, name, rec, true)
			t.Logf("announced again: visible everywhere after %v", slicesMax(back))
		})
	}
}

// waitAll polls /lookup on every grape at once until each answer contains
// rec (want) or does not (!want), and returns how long each took; it fails
// the test after 10 s.
func waitAll(t *testing.T, gs []*grape.Grape, name, rec string, want bool) []time.Duration {
	t.Helper()
	start := time.Now()
	out := make([]time.Duration, len(gs))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []string
	for i, g := range gs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				body, err := grapetest.Call(g.APIURL(), "lookup", fmt.Sprintf("%q", name))
				if err == nil && strings.Contains(body, rec) == want {
					out[i] = time.Since(start)
					return
				}
				if time.Since(start) > 10*time.Second {
					mu.Lock()
					errs = append(errs, fmt.Sprintf("grape %d: lookup %s (%v), want contains %s = %v", i, body, err, rec, want))
					mu.Unlock()
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	return out
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}
