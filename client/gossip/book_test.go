package gossip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"
)

const peerX = "127.0.0.1:7001" // the peer the hints are about

func newBook(t testing.TB, mutate ...func(*Config)) (*Book, *fakeClock) {
	t.Helper()
	cfg := testConfig(t)
	for _, f := range mutate {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	return NewBook(cfg, clk.Now), clk
}

func ingest(t testing.TB, b *Book, source string, m *Message) Verdict {
	t.Helper()
	return b.Ingest(source, enc(t, m))
}

func wantVerdict(t testing.TB, got, want Verdict) {
	t.Helper()
	if got != want {
		t.Fatalf("verdict %v, want %v", got, want)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestOwnMessagesAreDropped(t *testing.T) {
	b, clk := newBook(t)
	wantVerdict(t, ingest(t, b, "me", msg(clk, "self", 1, deg(peerX, 1))), DroppedOwn)
	if n := b.Nudge(peerX, NoLocalEvidence); n != 1 {
		t.Fatalf("own hint moved the nudge to %v", n)
	}
	// Every subscriber hears its own publisher: not "received" traffic.
	if st := b.Stats(); st.Received != 0 || st.Own != 1 || st.ByVerdict["own"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestDuplicatesAndStaleSequencesAreDropped(t *testing.T) {
	b, clk := newBook(t)
	steps := []struct {
		seq  uint64
		want Verdict
	}{
		{5, Applied},
		{5, DroppedDuplicate}, // the same message again, e.g. over a second connection
		{4, DroppedStale},     // reordered or replayed
		{1, DroppedStale},
		{6, Applied},
		{6, DroppedDuplicate},
	}
	for _, s := range steps {
		wantVerdict(t, ingest(t, b, "p1", msg(clk, "a", s.seq, deg(peerX, 1))), s.want)
	}
	st := b.Stats()
	if st.Received != 6 || st.Applied != 2 || st.Dropped != 4 || st.Rejected != 0 {
		t.Fatalf("stats %+v", st)
	}
	if st.ByVerdict["duplicate"] != 2 || st.ByVerdict["stale"] != 2 {
		t.Fatalf("by verdict %v", st.ByVerdict)
	}
}

func TestNewerMessageReplacesTheOriginsHints(t *testing.T) {
	b, clk := newBook(t)
	ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
	if d, _ := b.Pressure(peerX); !near(d, 0.5) {
		t.Fatalf("pressure after one origin = %v, want 0.5", d)
	}
	ingest(t, b, "p1", msg(clk, "a", 2, ok("127.0.0.1:7002", 1)))
	if d, _ := b.Pressure(peerX); d != 0 {
		t.Fatalf("an origin that stopped calling X degraded still pushes %v", d)
	}
}

// S8 in miniature: one client lies that a healthy peer is degraded. Whatever
// it does alone, the peer's cost grows by at most 1 + (MaxNudge-1)/MinOrigins
// (1.5 with defaults), and not at all while local evidence is fresh.
func TestASingleLiarCannotPushAHealthyPeerOut(t *testing.T) {
	const capOneOrigin = 1.5
	cases := []struct {
		name      string
		lie       func(t *testing.T, b *Book, clk *fakeClock)
		localAge  time.Duration
		wantNudge float64
	}{
		{"one message, no local evidence", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, deg(peerX, 1)))
		}, NoLocalEvidence, capOneOrigin},
		{"repeating it a hundred times", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 100 {
				ingest(t, b, "evil", msg(clk, "liar", uint64(i+1), deg(peerX, 1)))
			}
		}, NoLocalEvidence, capOneOrigin},
		{"rotating fifty origin names over one connection", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 50 {
				ingest(t, b, "evil", msg(clk, fmt.Sprintf("liar-%d", i), 1, deg(peerX, 1)))
			}
			if n := b.Stats().Origins; n != 1 {
				t.Fatalf("one connection holds %d origins, want 1", n)
			}
		}, NoLocalEvidence, capOneOrigin},
		{"fifty origin names signed by one key", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 50 {
				m := msg(clk, fmt.Sprintf("liar-%d", i), 1, deg(peerX, 1))
				m.Sign(keyN(66))
				ingest(t, b, "", m)
			}
		}, NoLocalEvidence, capOneOrigin},
		{"claiming its evidence is brand new", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, Hint{Peer: peerX, State: Degraded, Conf: 1, AgeMS: 0}))
		}, NoLocalEvidence, capOneOrigin},
		{"while our own evidence is fresh", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, deg(peerX, 1)))
		}, 0, 1},
		{"while an honest origin reports the peer healthy", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, deg(peerX, 1)))
			ingest(t, b, "honest", msg(clk, "honest", 1, ok(peerX, 1)))
		}, NoLocalEvidence, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, clk := newBook(t)
			c.lie(t, b, clk)
			if got := b.Nudge(peerX, c.localAge); !near(got, c.wantNudge) {
				t.Fatalf("Nudge = %v, want %v", got, c.wantNudge)
			}
		})
	}
}

func TestIndependentOriginsReachFullEffect(t *testing.T) {
	b, clk := newBook(t)
	for i, want := range []float64{1.5, 2, 2} { // capped at MaxNudge from MinOrigins on
		ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, deg(peerX, 1)))
		if got := b.Nudge(peerX, NoLocalEvidence); !near(got, want) {
			t.Fatalf("after %d origins Nudge = %v, want %v", i+1, got, want)
		}
	}
	if got := b.Nudge("127.0.0.1:9", NoLocalEvidence); got != 1 {
		t.Fatalf("unmentioned peer nudged to %v", got)
	}
}

// Local evidence always wins: younger than FreshFor (1 s) the hint has no
// effect; from there it ramps up to full at StaleAfter (5 s).
func TestFreshLocalEvidenceSwitchesGossipOff(t *testing.T) {
	b, clk := newBook(t)
	ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
	ingest(t, b, "p2", msg(clk, "b", 1, deg(peerX, 1)))
	for _, c := range []struct {
		age  time.Duration
		want float64
	}{
		{0, 1},
		{500 * time.Millisecond, 1},
		{time.Second, 1},
		{2 * time.Second, 1.25},
		{3 * time.Second, 1.5},
		{5 * time.Second, 2},
		{time.Minute, 2},
		{NoLocalEvidence, 2},
		{-time.Hour, 2},
	} {
		if got := b.Nudge(peerX, c.age); !near(got, c.want) {
			t.Errorf("local evidence age %v: Nudge = %v, want %v", c.age, got, c.want)
		}
	}
}

func TestHintsDecayEachIntervalAndExpireAfterTTL(t *testing.T) {
	b, clk := newBook(t)
	ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
	ingest(t, b, "p2", msg(clk, "b", 1, deg(peerX, 1)))
	iv := b.cfg.PublishInterval
	for _, c := range []struct {
		after time.Duration
		want  float64 // degraded pressure: two origins of weight 0.5^k, over MinOrigins 2
	}{
		{0, 1},
		{iv, 0.5},
		{2 * iv, 0.25},
		{2*iv + iv/2, 0.25 * math.Sqrt(0.5)},
	} {
		clk.t = newClock().t.Add(c.after)
		if d, _ := b.Pressure(peerX); !near(d, c.want) {
			t.Errorf("after %v: pressure %v, want %v", c.after, d, c.want)
		}
	}
	clk.t = newClock().t.Add(b.cfg.HintTTL + time.Millisecond)
	b.Refresh()
	if d, _ := b.Pressure(peerX); d != 0 {
		t.Fatalf("after TTL pressure = %v, want 0", d)
	}
	if st := b.Stats(); st.Origins != 0 || st.Peers != 0 {
		t.Fatalf("after TTL the book still tracks %d origins, %d peers", st.Origins, st.Peers)
	}
}

func TestEvidenceAgeCountsFromObservationNotReceipt(t *testing.T) {
	b, clk := newBook(t)
	iv := b.cfg.PublishInterval
	ingest(t, b, "p1", msg(clk, "a", 1, Hint{Peer: peerX, State: Degraded, Conf: 1, AgeMS: iv.Milliseconds()}))
	ingest(t, b, "p2", msg(clk, "b", 1, Hint{Peer: peerX, State: Degraded, Conf: 1, AgeMS: b.cfg.HintTTL.Milliseconds()}))
	if d, _ := b.Pressure(peerX); !near(d, 0.25) { // a: one interval old; b: already past TTL
		t.Fatalf("pressure %v, want 0.25", d)
	}
}

func TestSendTimeOutsideTheTTLWindowIsRejected(t *testing.T) {
	b, clk := newBook(t)
	ttl := b.cfg.HintTTL
	for _, c := range []struct {
		offset time.Duration
		want   Verdict
	}{
		{-ttl - time.Millisecond, RejectedExpired}, // replay of an old message
		{ttl + time.Millisecond, RejectedExpired},  // clock far ahead, or a seq grab
		{-ttl / 2, Applied},
		{ttl / 2, Applied},
	} {
		m := msg(clk, fmt.Sprintf("o%d", c.offset), 1, deg(peerX, 1))
		m.Sent = clk.Now().Add(c.offset).UnixMilli()
		wantVerdict(t, ingest(t, b, "", m), c.want)
	}
}

func TestOriginTableIsBounded(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.MaxOrigins = 3 })
	for i := range 3 {
		wantVerdict(t, ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1)), Applied)
	}
	// Full: a newcomer is turned away, established origins keep their say.
	wantVerdict(t, ingest(t, b, "p9", msg(clk, "o9", 1)), RejectedLimit)
	wantVerdict(t, ingest(t, b, "", msg(clk, "o9", 1)), RejectedLimit)
	// A publisher that restarts under a new origin replaces its old one.
	wantVerdict(t, ingest(t, b, "p0", msg(clk, "o0-restarted", 1)), Applied)
	if n := b.Stats().Origins; n != 3 {
		t.Fatalf("%d origins tracked, want 3", n)
	}
	// Once the others fall silent past the TTL there is room again.
	clk.Advance(b.cfg.HintTTL + time.Millisecond)
	wantVerdict(t, ingest(t, b, "p9", msg(clk, "o9", 1)), Applied)
	if n := b.Stats().Origins; n != 1 {
		t.Fatalf("%d origins tracked after expiry, want 1", n)
	}
}

func TestALiveOriginCannotBeHijacked(t *testing.T) {
	b, clk := newBook(t)
	wantVerdict(t, ingest(t, b, "pubA", msg(clk, "A", 10, ok(peerX, 1))), Applied)
	// Someone else claims A's name with a huge seq to silence it.
	wantVerdict(t, ingest(t, b, "evil", msg(clk, "A", 1<<52, deg(peerX, 1))), RejectedConflict)
	signed := msg(clk, "A", 1<<52, deg(peerX, 1))
	signed.Sign(keyN(3))
	wantVerdict(t, ingest(t, b, "", signed), RejectedConflict)
	clk.Advance(time.Second)
	wantVerdict(t, ingest(t, b, "pubA", msg(clk, "A", 11, ok(peerX, 1))), Applied)
	// A restart of A on another port, after two silent intervals, is accepted.
	clk.Advance(2 * b.cfg.PublishInterval)
	wantVerdict(t, ingest(t, b, "pubA-new", msg(clk, "A", 12, ok(peerX, 1))), Applied)
}

func TestOneSignerCountsAsOneOrigin(t *testing.T) {
	b, clk := newBook(t)
	for i := range 3 {
		m := msg(clk, fmt.Sprintf("k1-o%d", i), 1, deg(peerX, 1))
		m.Sign(keyN(1))
		wantVerdict(t, ingest(t, b, "", m), Applied)
	}
	if d, _ := b.Pressure(peerX); !near(d, 0.5) {
		t.Fatalf("three origins of one key give pressure %v, want 0.5", d)
	}
	m := msg(clk, "k2", 1, deg(peerX, 1))
	m.Sign(keyN(2))
	ingest(t, b, "", m)
	if d, _ := b.Pressure(peerX); !near(d, 1) {
		t.Fatalf("a second key gives pressure %v, want 1", d)
	}
}

func TestTrustedKeysGateConsumption(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.TrustedKeys = append(c.TrustedKeys, pub(keyN(1))) })
	signed := func(origin string, k byte) *Message {
		m := msg(clk, origin, 1, deg(peerX, 1))
		m.Sign(keyN(k))
		return m
	}
	tampered := signed("t", 1)
	tampered.Hints[0].Conf = 0.5
	wantVerdict(t, ingest(t, b, "", msg(clk, "u", 1, deg(peerX, 1))), RejectedUntrusted)
	wantVerdict(t, ingest(t, b, "", signed("s2", 2)), RejectedUntrusted)
	wantVerdict(t, ingest(t, b, "", tampered), RejectedSignature)
	wantVerdict(t, ingest(t, b, "", signed("s1", 1)), Applied)
	if d, _ := b.Pressure(peerX); !near(d, 0.5) {
		t.Fatalf("pressure %v, want 0.5 from the one trusted signer only", d)
	}
	if st := b.Stats(); st.Rejected != 3 || st.ByVerdict["untrusted"] != 2 || st.ByVerdict["bad_signature"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// An origin that sees every peer degraded is probably the sick one.
func TestOriginsThatSeeEverythingBrokenAreDiscounted(t *testing.T) {
	peers := []string{peerX, "127.0.0.1:7002", "127.0.0.1:7003", "127.0.0.1:7004"}
	for _, c := range []struct {
		degraded int
		want     float64 // pressure on peerX from one origin (max 0.5)
	}{
		{1, 0.5},
		{2, 0.5},
		{3, 0.5 * 0.625},
		{4, 0.5 * minOriginTrust},
	} {
		b, clk := newBook(t)
		var hs []Hint
		for i, p := range peers {
			if i < c.degraded {
				hs = append(hs, deg(p, 1))
			} else {
				hs = append(hs, ok(p, 1))
			}
		}
		ingest(t, b, "", msg(clk, "a", 1, hs...))
		if d, _ := b.Pressure(peerX); !near(d, c.want) {
			t.Errorf("%d of 4 degraded: pressure %v, want %v", c.degraded, d, c.want)
		}
	}
}

func TestMalformedFramesAreRejectedAndCounted(t *testing.T) {
	b, _ := newBook(t)
	frames := []string{
		`{"n":3,"hint":"gossip"}`, // what a stock Node PeerPub example sends
		`hello`,
		``,
		`{"v":1,"origin":"o","seq":1,"sent":1,"hints":[` + strings.Repeat(`{"peer":"1.2.3.4:5","state":"healthy","conf":1,"age_ms":0},`, 600) + `]}`,
	}
	for _, f := range frames {
		wantVerdict(t, b.Ingest("node", []byte(f)), RejectedMalformed)
	}
	st := b.Stats()
	if st.Received != 4 || st.Rejected != 4 || st.ByVerdict["malformed"] != 4 || st.Origins != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTooManyHintsInOneMessageAreRejected(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.MaxPeers = 4 })
	var hs []Hint
	for i := range 5 {
		hs = append(hs, deg(fmt.Sprintf("127.0.0.1:%d", 8000+i), 1))
	}
	wantVerdict(t, ingest(t, b, "", msg(clk, "a", 1, hs...)), RejectedMalformed)
	wantVerdict(t, ingest(t, b, "", msg(clk, "a", 2, hs[:4]...)), Applied)
}

// Whatever arrives, the nudge stays in [1, MaxNudge] and is exactly 1 when
// local evidence is brand new.
func TestNudgeIsAlwaysBounded(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.MaxOrigins = 16 })
	r := rand.New(rand.NewPCG(1, 2))
	peers := []string{"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"}
	for i := range 2000 {
		var hs []Hint
		for _, p := range peers {
			if r.IntN(3) == 0 {
				continue
			}
			st := Healthy
			if r.IntN(2) == 0 {
				st = Degraded
			}
			hs = append(hs, Hint{Peer: p, State: st, Conf: RoundConf(r.Float64()), AgeMS: r.Int64N(90_000)})
		}
		ingest(t, b, fmt.Sprintf("s%d", r.IntN(20)), msg(clk, fmt.Sprintf("o%d", r.IntN(20)), uint64(i+1), hs...))
		clk.Advance(time.Duration(r.IntN(3000)) * time.Millisecond)
		for _, p := range peers {
			age := time.Duration(r.IntN(20_000)-1000) * time.Millisecond
			n := b.Nudge(p, age)
			if n < 1 || n > b.cfg.MaxNudge || math.IsNaN(n) {
				t.Fatalf("Nudge(%s, %v) = %v out of [1, %v]", p, age, n, b.cfg.MaxNudge)
			}
			if l := (Local{age, r.Float64()*1.2 - 0.1}); b.NudgeLocal(p, l) < 1 || b.NudgeLocal(p, l) > b.cfg.MaxNudge {
				t.Fatalf("NudgeLocal(%s, %+v) = %v out of [1, %v]", p, l, b.NudgeLocal(p, l), b.cfg.MaxNudge)
			}
			if b.Nudge(p, b.cfg.FreshFor) != 1 {
				t.Fatalf("Nudge with fresh local evidence != 1")
			}
		}
	}
}

func TestMaxNudgeOfOneDisablesTheEffect(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.MaxNudge = 1 })
	ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
	ingest(t, b, "p2", msg(clk, "b", 1, deg(peerX, 1)))
	if n := b.Nudge(peerX, NoLocalEvidence); n != 1 {
		t.Fatalf("Nudge = %v with MaxNudge 1", n)
	}
	if st := b.Stats(); st.Applied != 2 {
		t.Fatalf("messages must still be applied and counted: %+v", st)
	}
}

func TestConcurrentIngestAndNudge(t *testing.T) {
	b, clk := newBook(t)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range 200 {
				b.Ingest(fmt.Sprintf("p%d", w), enc(t, msg(clk, fmt.Sprintf("o%d", w), uint64(i+1), deg(peerX, 1))))
			}
		}()
		go func() {
			defer wg.Done()
			for range 2000 {
				if n := b.Nudge(peerX, NoLocalEvidence); n < 1 || n > 2 {
					t.Errorf("Nudge = %v", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := b.Nudge(peerX, NoLocalEvidence); !near(got, 2) {
		t.Fatalf("after four origins Nudge = %v, want 2", got)
	}
}

func BenchmarkNudge(b *testing.B) {
	bk, clk := newBook(b)
	for i := range 20 {
		var hs []Hint
		for p := range 100 {
			hs = append(hs, deg(fmt.Sprintf("10.0.0.%d:%d", p, 1000+p), 0.5))
		}
		ingest(b, bk, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, hs...))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		bk.Nudge("10.0.0.7:1007", time.Duration(i%10)*time.Second)
	}
}

// BenchmarkRebuild20Origins100Peers measures the view rebuild every applied
// message pays (decay of every stored hint, grouping by signer).
func BenchmarkRebuild20Origins100Peers(b *testing.B) {
	bk, clk := newBook(b)
	for i := range 20 {
		var hs []Hint
		for p := range 100 {
			hs = append(hs, deg(fmt.Sprintf("10.0.0.%d:%d", p, 1000+p), 0.5))
		}
		ingest(b, bk, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, hs...))
	}
	for b.Loop() {
		bk.Refresh()
	}
}

// Stale local evidence is one more voice: it confirms a single origin's
// DEGRADED hint when this client itself saw the peer failing (S7: the quiet
// client), and cancels it when this client saw the peer healthy (S8: the
// liar). Fresh local evidence still decides alone, and the local vote never
// acts without a remote hint.
func TestLocalEvidenceVotesInTheQuorum(t *testing.T) {
	stale := 10 * time.Second
	cases := []struct {
		name   string
		remote []Hint // one origin each
		local  Local
		want   float64
	}{
		{"one origin, own record failing: confirmed, full effect",
			[]Hint{deg(peerX, 1)}, Local{stale, 0.5}, 2},
		{"one origin, own record at the threshold: confirmed",
			[]Hint{deg(peerX, 1)}, Local{stale, 0.2}, 2},
		{"one origin, own record 10% failing: half a confirmation",
			[]Hint{deg(peerX, 1)}, Local{stale, 0.1}, 1.5},
		{"one origin (a liar), own record healthy: cancelled",
			[]Hint{deg(peerX, 1)}, Local{stale, 0}, 1},
		{"two liars, own record healthy: half effect",
			[]Hint{deg(peerX, 1), deg(peerX, 1)}, Local{stale, 0}, 1.5},
		{"one origin, no local evidence: capped at one origin's share",
			[]Hint{deg(peerX, 1)}, Local{NoLocalEvidence, 0.9}, 1.5},
		{"one origin, own failure rate unknown: no vote",
			[]Hint{deg(peerX, 1)}, Local{stale, -1}, 1.5},
		{"one weak origin, own record failing: capped by the remote weight",
			[]Hint{deg(peerX, 0.1)}, Local{stale, 1}, 1.1},
		{"no remote hint, own record failing: gossip adds nothing",
			nil, Local{stale, 1}, 1},
		{"remote HEALTHY only, own record failing: nothing",
			[]Hint{ok(peerX, 1)}, Local{stale, 1}, 1},
		{"one origin confirmed, but own evidence fresh: off",
			[]Hint{deg(peerX, 1)}, Local{500 * time.Millisecond, 1}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, clk := newBook(t)
			for i, h := range c.remote {
				ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, h))
			}
			if got := b.NudgeLocal(peerX, c.local); !near(got, c.want) {
				t.Fatalf("NudgeLocal = %v, want %v", got, c.want)
			}
		})
	}
}

// DeferProbe needs three things at once: this client's own record calls
// the peer degraded, remote hints lean DEGRADED, and the record is younger
// than the TTL. A hint alone never stops a client from trying a peer.
func TestDeferProbeNeedsOwnFailingRecord(t *testing.T) {
	stale := 10 * time.Second
	cases := []struct {
		name   string
		remote []Hint
		local  Local
		want   bool
	}{
		{"own record failing, remote DEGRADED: defer", []Hint{deg(peerX, 0.3)}, Local{stale, 0.5}, true},
		{"own record healthy (a liar): probe", []Hint{deg(peerX, 1)}, Local{stale, 0}, false},
		{"own record 10% failing: probe", []Hint{deg(peerX, 1)}, Local{stale, 0.1}, false},
		{"no own record: probe", []Hint{deg(peerX, 1)}, Local{NoLocalEvidence, -1}, false},
		{"own failure rate unknown: probe", []Hint{deg(peerX, 1)}, Local{stale, -1}, false},
		{"own record older than the TTL: probe", []Hint{deg(peerX, 1)}, Local{time.Minute, 1}, false},
		{"remote says HEALTHY as much as DEGRADED: probe", []Hint{deg(peerX, 1), ok(peerX, 1)}, Local{stale, 1}, false},
		{"no remote hint: probe", nil, Local{stale, 1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, clk := newBook(t)
			for i, h := range c.remote {
				ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, h))
			}
			if got := b.Advise(peerX, c.local); got.DeferProbe != c.want {
				t.Fatalf("Advise = %+v, want DeferProbe %v", got, c.want)
			}
		})
	}
}

// A publisher flooding the channel is cut off before its frames are parsed:
// a burst of 8, then one per PublishInterval/4 (1 s with defaults).
func TestFloodFromOnePublisherIsRateLimited(t *testing.T) {
	b, clk := newBook(t)
	seq := uint64(0)
	send := func() Verdict {
		seq++
		return ingest(t, b, "flood", msg(clk, "flooder", seq, deg(peerX, 1)))
	}
	for i := range 20 {
		want := Applied
		if i >= rateBurst {
			want = RejectedRate
		}
		wantVerdict(t, send(), want)
	}
	clk.Advance(2 * time.Second)
	wantVerdict(t, send(), Applied)
	wantVerdict(t, send(), Applied)
	wantVerdict(t, send(), RejectedRate)
	// Other publishers are not affected.
	wantVerdict(t, ingest(t, b, "calm", msg(clk, "calm", 1, ok(peerX, 1))), Applied)
	if st := b.Stats(); st.ByVerdict["rate_limit"] != 13 {
		t.Fatalf("stats %+v", st)
	}
}
