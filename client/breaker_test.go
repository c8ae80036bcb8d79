package client

import (
	"testing"
	"time"
)

// fail records n failures on p through the balancer (claiming p directly).
func fail(t *testing.T, b *balancer, clk *testClock, p *peer, n int, o Outcome) {
	t.Helper()
	for range n {
		tk, ok := b.claim(p, clk.now())
		if !ok {
			t.Fatalf("claim refused while recording failures (state %v)", p.br.state())
		}
		clk.advance(time.Millisecond)
		b.record(tk, o)
	}
}

func TestBreakerTripsOnConsecutiveFailures(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	p := s.snapshot()[0]
	fail(t, b, clk, p, 4, TransportError)
	if p.br.state() != Closed {
		t.Fatal("tripped before threshold")
	}
	tk, _ := b.claim(p, clk.now())
	b.record(tk, Success) // success resets the streak
	fail(t, b, clk, p, 4, TransportError)
	if p.br.state() != Closed {
		t.Fatal("success did not reset the consecutive count")
	}
	fail(t, b, clk, p, 1, Timeout)
	if p.br.state() != Open || p.br.opens.Load() != 1 {
		t.Fatalf("state %v after 5 consecutive failures", p.br.state())
	}
}

func TestBreakerTripsOnWindowedErrorRate(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	p := s.snapshot()[0]
	// Alternate success and failure: never two failures in a row.
	for i := range 20 {
		if p.br.state() != Closed {
			if i < 9 {
				t.Fatalf("tripped at %d, before the minimum volume", i)
			}
			return
		}
		tk, _ := b.claim(p, clk.now())
		clk.advance(10 * time.Millisecond)
		o := Success
		if i%2 == 1 {
			o = RemoteError
		}
		b.record(tk, o)
	}
	t.Fatal("a peer failing 50% never tripped")
}

func TestBreakerHalfOpenProbesAndGrowingCooldown(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	p := s.snapshot()[0]
	fail(t, b, clk, p, 5, RemoteError)
	openedAt := clk.now()
	if until := p.br.openUntil.Load() - openedAt; until != int64(10*time.Second) {
		t.Fatalf("first cooldown %v", time.Duration(until))
	}
	if _, ok := b.claim(p, clk.now()); ok {
		t.Fatal("open breaker admitted a request")
	}
	clk.advance(10 * time.Second)
	probe, ok := b.claim(p, clk.now())
	if !ok || !probe.probe || p.br.state() != HalfOpen {
		t.Fatalf("no probe after cooldown: ok=%v state=%v", ok, p.br.state())
	}
	if _, ok := b.claim(p, clk.now()); ok {
		t.Fatal("half-open admitted more than HALF_OPEN_MAX_REQUESTS probes")
	}
	// A failed probe reopens for the same cooldown (steady probing of a dead peer).
	clk.advance(time.Millisecond)
	b.record(probe, RemoteError)
	if p.br.state() != Open || p.br.openUntil.Load()-clk.now() != int64(10*time.Second) {
		t.Fatalf("failed probe: state %v, cooldown %v", p.br.state(), time.Duration(p.br.openUntil.Load()-clk.now()))
	}
	clk.advance(10 * time.Second)
	probe, _ = b.claim(p, clk.now())
	clk.advance(time.Millisecond)
	b.record(probe, Success)
	if p.br.state() != Closed {
		t.Fatalf("successful probe left state %v", p.br.state())
	}
	if e, _ := p.rates(&b.m, clk.now()); e != 0 {
		t.Fatal("recovery should forget the old error rate")
	}
	if p.slowStartShare(&b.m, clk.now()) >= 1 {
		t.Fatal("a recovered peer should ramp up with slow start")
	}
	// Tripping again soon after recovering doubles the cooldown, up to the cap.
	want := []time.Duration{20 * time.Second, 40 * time.Second, 60 * time.Second, 60 * time.Second}
	for _, w := range want {
		fail(t, b, clk, p, 5, RemoteError)
		if got := time.Duration(p.br.openUntil.Load() - clk.now()); got != w {
			t.Fatalf("repeated trip cooldown %v, want %v", got, w)
		}
		clk.advance(w)
		probe, _ = b.claim(p, clk.now())
		b.record(probe, Success)
	}
	// After a long healthy spell the growth resets.
	clk.advance(5 * time.Minute)
	fail(t, b, clk, p, 5, RemoteError)
	if got := time.Duration(p.br.openUntil.Load() - clk.now()); got != 10*time.Second {
		t.Fatalf("cooldown after a long healthy spell %v, want the base", got)
	}
}

func TestBreakerFastFailuresProbeSooner(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	p := s.snapshot()[0]
	fail(t, b, clk, p, 5, TransportError) // 1 ms connection failures: the process is down
	if cd := time.Duration(p.br.openUntil.Load() - clk.now()); cd != 2*time.Second {
		t.Fatalf("fast-failure cooldown %v, want 2s", cd)
	}
	// A failed probe of a dead peer keeps the short cooldown (it is not a new trip).
	clk.advance(2 * time.Second)
	probe, _ := b.claim(p, clk.now())
	clk.advance(time.Millisecond)
	b.record(probe, TransportError)
	if cd := time.Duration(p.br.openUntil.Load() - clk.now()); cd != 2*time.Second {
		t.Fatalf("after a failed probe: %v, want 2s", cd)
	}
	// Recovering and tripping again soon (flapping) still doubles it.
	clk.advance(2 * time.Second)
	probe, _ = b.claim(p, clk.now())
	b.record(probe, Success)
	fail(t, b, clk, p, 5, TransportError)
	if cd := time.Duration(p.br.openUntil.Load() - clk.now()); cd != 4*time.Second {
		t.Fatalf("flapping fast failures: %v, want 4s", cd)
	}
	// A slow transport failure (over 100 ms) is not "nobody listening".
	b2, s2, clk2 := newTestCore(t, 3, nil)
	q := s2.snapshot()[0]
	for range 5 {
		tk, _ := b2.claim(q, clk2.now())
		clk2.advance(300 * time.Millisecond)
		b2.record(tk, TransportError)
	}
	if cd := time.Duration(q.br.openUntil.Load() - clk2.now()); cd != 10*time.Second {
		t.Fatalf("slow failures: %v, want 10s", cd)
	}
}

func TestBreakerProbeThatNeverSettles(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	p := s.snapshot()[0]
	fail(t, b, clk, p, 5, TransportError)
	clk.advance(10 * time.Second)
	lost, ok := b.claim(p, clk.now())
	if !ok {
		t.Fatal("no probe")
	}
	clk.advance(b.bp.probeDuration() * 2)
	if _, ok := b.claim(p, clk.now()); ok || p.br.state() != Open {
		t.Fatalf("a stuck probe must reopen the breaker, state %v", p.br.state())
	}
	// The late result of the lost probe changes nothing.
	b.record(lost, Success)
	if p.br.state() != Open {
		t.Fatal("late probe result closed a reopened breaker")
	}
	// A canceled probe frees its slot.
	clk.advance(time.Minute)
	pr, _ := b.claim(p, clk.now())
	b.record(pr, Canceled)
	if _, ok := b.claim(p, clk.now()); !ok {
		t.Fatal("canceled probe kept its slot")
	}
}

func TestNeverAllBreakersOpen(t *testing.T) {
	for _, n := range []int{1, 2, 3, 5} {
		b, s, clk := newTestCore(t, n, nil)
		for _, p := range s.snapshot() {
			for range 10 {
				tk, ok := b.claim(p, clk.now())
				if !ok {
					break
				}
				b.record(tk, TransportError)
			}
		}
		open := 0
		for _, p := range s.snapshot() {
			if p.br.state() != Closed {
				open++
			}
		}
		limit := min(n/2, n-1)
		if open != limit {
			t.Fatalf("%d peers all failing: %d open, want %d", n, open, limit)
		}
		// Picks still find a peer, even with every peer tried.
		if _, ok := b.pick(s, s.snapshot()); !ok {
			t.Fatal("pick failed with peers present")
		}
	}
}

func TestAllOpenStillPicksLeastBad(t *testing.T) {
	b, s, clk := newTestCore(t, 3, func(c *Config) { c.BreakerMaxOpenFraction = 1 })
	// Force every breaker open by hand to exercise the picker fallback.
	for _, p := range s.snapshot() {
		p.br.st.Store(int32(Open))
		p.br.openUntil.Store(clk.now() + int64(time.Hour))
	}
	tk, ok := b.pick(s, nil)
	if !ok || tk.p == nil || tk.probe {
		t.Fatal("fallback pick failed")
	}
}

func TestDrainedPeerNeverHoldsAnOpenSlot(t *testing.T) {
	b, s, clk := newTestCore(t, 3, nil)
	gone := s.snapshot()[2]
	var tickets []ticket
	for range 6 {
		tk, _ := b.claim(gone, clk.now())
		tickets = append(tickets, tk)
	}
	s.update(addrs(2), 1024, clk.now())
	for _, tk := range tickets {
		b.record(tk, TransportError)
	}
	if n := s.guard.open.Load(); n != 0 || gone.br.state() != Closed {
		t.Fatalf("drained peer took an open slot (%d open, state %v)", n, gone.br.state())
	}
	// The remaining peers can still trip one breaker (1 of 2).
	fail(t, b, clk, s.snapshot()[0], 5, RemoteError)
	if s.snapshot()[0].br.state() != Open {
		t.Fatal("open slot leaked")
	}
}
