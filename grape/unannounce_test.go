package grape

import (
	"slices"
	"testing"
	"time"
)

// TestUnannounceTakesBackLocalAndRemote: /unannounce removes the -b
// self-stored record and the DHT's, answers how many went, and the next
// lookup (answered from the grape's memory, which held the peer) no longer
// returns it; port 0 means the grape's DHT port, as for /announce.
func TestUnannounceTakesBackLocalAndRemote(t *testing.T) {
	g, node := startFake(t, nil)
	for _, data := range []string{`["svc",4000]`, `["svc",4001]`} {
		if _, err := callAPI(g, "announce", data); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := callAPI(g, "lookup", `"svc"`); got != `["127.0.0.1:4000","127.0.0.1:4001"]` && got != `["127.0.0.1:4001","127.0.0.1:4000"]` {
		t.Fatalf("lookup before = %s", got)
	}
	got, err := callAPI(g, "unannounce", `["svc",4000]`)
	if err != nil || got != "2" { // the self-stored record and the DHT's
		t.Fatalf("unannounce = %s, %v; want 2", got, err)
	}
	for range 3 { // from memory and from a fresh walk alike
		if got, _ := callAPI(g, "lookup", `"svc"`); got != `["127.0.0.1:4001"]` {
			t.Fatalf("lookup after = %s, want only 4001", got)
		}
	}
	if got, _ := callAPI(g, "unannounce", `["svc",0]`); got != "0" {
		t.Fatalf("unannounce of port 0 = %s", got)
	}
	node.mu.Lock()
	ports := slices.Clone(node.unannounced)
	node.mu.Unlock()
	if want := []int{4000, int(node.addr.Port())}; !slices.Equal(ports, want) {
		t.Fatalf("DHT unannounced %v, want %v", ports, want)
	}
}

// TestUnannounceDuringWalk: a lookup walk that started before an
// /unannounce and brings back replies from before it (the holders had not
// dropped the record yet) must not put the record back into the memory,
// or every lookup would answer it until it aged out.
func TestUnannounceDuringWalk(t *testing.T) {
	g, node := startFake(t, nil)
	if _, err := callAPI(g, "announce", `["svc",4000]`); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	node.mu.Lock()
	node.lookupGate, node.staleLookup = gate, true
	before := node.lookups
	node.mu.Unlock()
	answer := make(chan string, 1)
	go func() {
		got, _ := callAPI(g, "lookup", `"svc"`)
		answer <- got
	}()
	for {
		node.mu.Lock()
		n := node.lookups
		node.mu.Unlock()
		if n > before {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if got, err := callAPI(g, "unannounce", `["svc",4000]`); err != nil || got != "2" {
		t.Fatalf("unannounce = %s, %v", got, err)
	}
	close(gate)
	if got := <-answer; got != "[]" {
		t.Fatalf("lookup in flight at the unannounce answered %s, want []", got)
	}
	node.mu.Lock()
	node.lookupGate, node.staleLookup = nil, false
	node.mu.Unlock()
	if got, _ := callAPI(g, "lookup", `"svc"`); got != "[]" {
		t.Fatalf("lookup after = %s, want []", got)
	}
}

func TestRemovalsWindowAndBudget(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	r := newRemovals(30*time.Second, 4*(removalEntryCost+2), clock)
	walk := now
	now = now.Add(time.Second)
	r.record("aa")
	if !r.since("aa", walk) || r.since("bb", walk) || r.since("aa", now.Add(time.Millisecond)) {
		t.Fatal("since: want true only for a walk that started at or before the removal")
	}
	for _, n := range []string{"bb", "cc", "dd"} {
		r.record(n)
	}
	if r.bytes != 4*(removalEntryCost+2) {
		t.Fatalf("bytes %d", r.bytes)
	}
	now = now.Add(31 * time.Second)
	r.record("ee") // full: the old entries go
	if r.since("aa", walk) || !r.since("ee", walk) || r.bytes != removalEntryCost+2 {
		t.Fatalf("after prune: bytes %d, entries %v", r.bytes, r.at)
	}
	for _, n := range []string{"f1", "f2", "f3", "f4"} {
		r.record(n) // none old enough: the budget drops everything once
	}
	if r.bytes > 4*(removalEntryCost+2) || !r.since("f4", walk) {
		t.Fatalf("over budget: %d bytes, %v", r.bytes, r.at)
	}
	r.record(string(make([]byte, 1000))) // larger than the budget: not kept
	if r.bytes > 4*(removalEntryCost+2) {
		t.Fatalf("over budget: %d", r.bytes)
	}
}

// TestUnannounceWaitsForAnnounceInFlight: an announce still running on the
// grape when the unannounce arrives (the link cancelled it, the grape goes
// on) finishes first, so it cannot put the record back afterwards.
func TestUnannounceWaitsForAnnounceInFlight(t *testing.T) {
	g, node := startFake(t, nil)
	gate := make(chan struct{})
	node.mu.Lock()
	node.annGate = gate
	node.mu.Unlock()
	announced := make(chan struct{})
	go func() {
		defer close(announced)
		_, _ = callAPI(g, "announce", `["svc",4000]`)
	}()
	for { // the announce is in the DHT (its self-store is done)
		node.mu.Lock()
		n := len(node.local["svc"])
		node.mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	unannounced := make(chan string, 1)
	go func() {
		got, _ := callAPI(g, "unannounce", `["svc",4000]`)
		unannounced <- got
	}()
	select {
	case got := <-unannounced:
		t.Fatalf("unannounce answered %s while the announce was in flight", got)
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	<-announced
	if got := <-unannounced; got != "2" {
		t.Fatalf("unannounce = %s, want 2", got)
	}
	if got, _ := callAPI(g, "lookup", `"svc"`); got != "[]" {
		t.Fatalf("lookup = %s, want []", got)
	}
}
