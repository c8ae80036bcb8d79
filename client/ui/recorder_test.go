package ui

import (
	"fmt"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
)

func TestRecorderSharesAndTimeline(t *testing.T) {
	t0 := time.Unix(1000, 0)
	now := t0
	r := NewRecorderClock(func() time.Time { return now })
	h := r.Hooks(client.Hooks{})
	for i := range 90 {
		h.OnAttempt(client.AttemptEvent{Service: "s", Addr: "a", At: t0})
		if i < 10 {
			h.OnAttempt(client.AttemptEvent{Service: "s", Addr: "b", At: t0})
		}
	}
	h.OnAttempt(client.AttemptEvent{Service: "s", Addr: "b", At: t0, Outcome: client.Canceled})
	if sh := r.Shares("s"); sh["a"] != 0.9 || sh["b"] != 0.1 {
		t.Fatalf("shares %v, want a 0.9 b 0.1 (canceled attempts do not count)", sh)
	}
	now = t0.Add(ShareWindow)
	if sh := r.Shares("s"); sh["a"] != 0 || sh["b"] != 0 {
		t.Fatalf("shares %v after the window, want 0", sh)
	}
	for i := range 40 {
		h.OnBreaker(client.BreakerEvent{Service: "s", Addr: "b", From: client.Closed, To: client.Open, At: t0.Add(time.Duration(i) * time.Second)})
	}
	tl, n := r.Timeline("s", "b")
	if n != 40 || len(tl) != maxTransitions || !tl[0].At.Equal(t0.Add(8*time.Second)) || !tl[31].At.Equal(t0.Add(39*time.Second)) {
		t.Fatalf("timeline: %d of %d, first %v; want the newest %d of 40, oldest first", len(tl), n, tl[0].At.Sub(t0), maxTransitions)
	}
	for i := range maxTracked + 5 {
		h.OnAttempt(client.AttemptEvent{Service: "x", Addr: fmt.Sprint(i), At: t0})
	}
	if d := r.Dropped(); d != 7 { // 2 peers tracked already, so 1022 more fit
		t.Fatalf("dropped %d, want 7", d)
	}
}
