package interop

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

// expiryPoll is how often each observer is asked during the expiry test.
const expiryPoll = 250 * time.Millisecond

// expiryTarget is one announcement whose disappearance is timed.
type expiryTarget struct {
	name string
	port int
	on   member // the grape it was announced through, once
}

// measureExpiry announces every target once and polls every observer's
// /lookup every expiryPoll until each (target, observer) pair has gone
// from visible to []. It returns, per "name@observer", the time from the
// end of the announce to the first empty lookup.
func measureExpiry(t *testing.T, maxAge time.Duration, targets []expiryTarget, observers []member) map[string]time.Duration {
	t.Helper()
	start := map[string]time.Time{}
	for _, tg := range targets {
		if n := tg.on.api.announce(t, tg.name, tg.port); n < 1 {
			t.Fatalf("announce %s on %s acked by %d", tg.name, tg.on.api.label, n)
		}
		start[tg.name] = time.Now()
	}
	gone := map[string]time.Duration{}
	deadline := time.Now().Add(2*maxAge + 3*time.Second)
	tick := time.NewTicker(expiryPoll)
	defer tick.Stop()
	for first := true; len(gone) < len(targets)*len(observers); first = false {
		for _, tg := range targets {
			want := "127.0.0.1:" + strconv.Itoa(tg.port)
			for _, o := range observers {
				key := tg.name + "@" + o.api.label
				if _, done := gone[key]; done {
					continue
				}
				peers := o.api.lookup(t, tg.name)
				switch {
				case slices.Contains(peers, want):
				case first:
					t.Fatalf("%s not visible on %s right after the announce: %q", tg.name, o.api.label, peers)
				default:
					gone[key] = time.Since(start[tg.name])
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v some announcements are still visible; gone so far: %v", 2*maxAge+3*time.Second, gone)
		}
		<-tick.C
	}
	return gone
}

// assertExpiryWindow checks every disappearance lies in the record-cache
// window [2M/3, 2M] (grenache-protocol.md §2.6) and that all of them lie
// within 2M/3 of each other: that is the most the seen-peers memory
// (maxAge M/2, lingering M/3..2M/3) can add on a grape that did not store
// the announcement itself.
func assertExpiryWindow(t *testing.T, maxAge time.Duration, gone map[string]time.Duration) {
	t.Helper()
	// Slack: one poll interval below; above, a poll interval plus lookup
	// latency on a busy machine (Go's own announcement, seen through its
	// seen-peers memory, reliably lands at 19.75-20.0 s for M = 10 s:
	// both record caches at their worst-case phase).
	lo, hi := 2*maxAge/3-expiryPoll, 2*maxAge+2*time.Second
	var all []time.Duration
	for key, d := range gone {
		t.Logf("%s: gone after %v", key, d.Round(10*time.Millisecond))
		if d < lo || d > hi {
			t.Errorf("%s disappeared after %v, outside the window %v..%v for max age %v", key, d, lo, hi, maxAge)
		}
		all = append(all, d)
	}
	if spread := slices.Max(all) - slices.Min(all); spread > 2*maxAge/3 {
		t.Errorf("disappearance times spread over %v, want <= %v", spread, 2*maxAge/3)
	}
}
