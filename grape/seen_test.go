package grape

import (
	"sort"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

// With maxAge A the memory ticks every ceil(2A/3): a record added once
// lives between 2A/3 and 4A/3.
func TestSeenPeersLifetime(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := newSeenPeers(60*time.Second, 5000, 1<<30, clk.Now) // tick 40 s
	s.Add("svc", "127.0.0.1:1")
	clk.t = clk.t.Add(39 * time.Second)
	if got := s.Get("svc", 100); len(got) != 1 {
		t.Fatalf("before first tick: %v", got)
	}
	clk.t = clk.t.Add(2 * time.Second) // 41 s: one rotation, now stale
	if got := s.Get("svc", 100); len(got) != 1 {
		t.Fatalf("stale records are still answered: %v", got)
	}
	clk.t = clk.t.Add(40 * time.Second) // 81 s: second rotation drops it
	if got := s.Get("svc", 100); len(got) != 0 {
		t.Fatalf("after two ticks: %v", got)
	}
}

func TestSeenPeersRefresh(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := newSeenPeers(60*time.Second, 5000, 1<<30, clk.Now)
	for i := 0; i < 10; i++ {
		s.Add("svc", "127.0.0.1:1") // re-added more often than every 2A/3
		clk.t = clk.t.Add(30 * time.Second)
	}
	if got := s.Get("svc", 100); len(got) != 1 {
		t.Fatalf("refreshed record expired: %v", got)
	}
}

func TestSeenPeersNoExpiryAndSize(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	s := newSeenPeers(0, 3, 1<<30, clk.Now)
	s.Add("a", "1")
	clk.t = clk.t.Add(1000 * time.Hour)
	if s.Len() != 1 {
		t.Fatal("maxAge 0 must never expire")
	}
	for _, p := range []string{"2", "3", "4"} { // 4 fresh > 3: rotate
		s.Add("a", p)
	}
	if s.Len() != 4 {
		t.Fatalf("rotation keeps the old generation: %d", s.Len())
	}
	for _, p := range []string{"5", "6", "7", "8"} {
		s.Add("b", p)
	}
	if s.Len() != 4 || len(s.Get("a", 0)) != 0 {
		t.Fatalf("second rotation drops the oldest: len %d, a=%v", s.Len(), s.Get("a", 0))
	}
}

func TestSeenPeersSample(t *testing.T) {
	s := newSeenPeers(time.Minute, 5000, 1<<30, time.Now)
	for i := 0; i < 150; i++ {
		s.Add("svc", time.Duration(i).String())
	}
	got := s.Get("svc", 100)
	if len(got) != 100 {
		t.Fatalf("want 100, got %d", len(got))
	}
	sort.Strings(got)
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("duplicate %s", got[i])
		}
	}
}
