package gossip

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
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

// advice is b's advice about peerX now.
func advice(b *Book) client.HintAdvice { return b.Advise(peerX, b.now()) }

// wantAdvice checks an advice's failure share and weight.
func wantAdvice(t testing.TB, got client.HintAdvice, rate, weight float64) {
	t.Helper()
	if !near(got.FailureRate, rate) || !near(got.Weight, weight) {
		t.Fatalf("advice %+v, want failure rate %v worth %v outcomes", got, rate, weight)
	}
}

// adviceInBounds: a failure share in [0, 1] worth [0, PriorWeight] outcomes.
func adviceInBounds(a client.HintAdvice, cfg *Config) bool {
	return a.FailureRate >= 0 && a.FailureRate <= 1 && a.Weight >= 0 && a.Weight <= cfg.PriorWeight
}

func TestOwnMessagesAreDropped(t *testing.T) {
	b, clk := newBook(t)
	wantVerdict(t, ingest(t, b, "me", msg(clk, "self", 1, deg(peerX, 1))), DroppedOwn)
	if a := advice(b); a != (client.HintAdvice{}) {
		t.Fatalf("own hint gave advice %+v", a)
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
// it does alone, its advice is a prior worth PriorWeight/MinOrigins outcomes
// (5 with the defaults): the client's own evidence outweighs it MinOrigins
// times sooner than a consensus. An honest HEALTHY report cancels it.
func TestASingleLiarIsAtMostHalfAPrior(t *testing.T) {
	const liarRate, liarWeight = 0.4, 5.0
	cases := []struct {
		name         string
		lie          func(t *testing.T, b *Book, clk *fakeClock)
		rate, weight float64
	}{
		{"one message, no local evidence", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, deg(peerX, 1)))
		}, liarRate, liarWeight},
		{"repeating it a hundred times", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 100 {
				ingest(t, b, "evil", msg(clk, "liar", uint64(i+1), deg(peerX, 1)))
			}
		}, liarRate, liarWeight},
		{"rotating fifty origin names over one connection", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 50 {
				ingest(t, b, "evil", msg(clk, fmt.Sprintf("liar-%d", i), 1, deg(peerX, 1)))
			}
			if n := b.Stats().Origins; n != 1 {
				t.Fatalf("one connection holds %d origins, want 1", n)
			}
		}, liarRate, liarWeight},
		{"fifty origin names signed by one key", func(t *testing.T, b *Book, clk *fakeClock) {
			for i := range 50 {
				m := msg(clk, fmt.Sprintf("liar-%d", i), 1, deg(peerX, 1))
				m.Sign(keyN(66))
				ingest(t, b, "", m)
			}
		}, liarRate, liarWeight},
		{"claiming its evidence is brand new", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, Hint{Peer: peerX, State: Degraded, Conf: 1, AgeMS: 0}))
		}, liarRate, liarWeight},
		{"while an honest origin reports the peer healthy", func(t *testing.T, b *Book, clk *fakeClock) {
			ingest(t, b, "evil", msg(clk, "liar", 1, deg(peerX, 1)))
			ingest(t, b, "honest", msg(clk, "honest", 1, ok(peerX, 1)))
		}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b, clk := newBook(t)
			c.lie(t, b, clk)
			wantAdvice(t, advice(b), c.rate, c.weight)
		})
	}
}

func TestIndependentOriginsReachFullWeight(t *testing.T) {
	b, clk := newBook(t)
	for i, want := range []float64{5, 10, 10} { // PriorWeight from MinOrigins on
		ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, deg(peerX, 1)))
		wantAdvice(t, advice(b), 0.4, want)
	}
	if a := b.Advise("127.0.0.1:9", clk.Now()); a != (client.HintAdvice{}) {
		t.Fatalf("unmentioned peer advised %+v", a)
	}
}

// HEALTHY voices water a DEGRADED consensus down: the failure share is the
// full one times the DEGRADED lead (D − H)/(D + H); no lead, no advice.
func TestHealthyHintsWaterDownDegradedOnes(t *testing.T) {
	for _, c := range []struct {
		name         string
		hints        []Hint // one origin each
		rate, weight float64
	}{
		{"one DEGRADED", []Hint{deg(peerX, 1)}, 0.4, 5},
		{"one DEGRADED, one HEALTHY", []Hint{deg(peerX, 1), ok(peerX, 1)}, 0, 0},
		{"two DEGRADED, one HEALTHY", []Hint{deg(peerX, 1), deg(peerX, 1), ok(peerX, 1)}, 0.4 / 3, 10},
		{"a weak DEGRADED", []Hint{deg(peerX, 0.2)}, 0.4, 1},
		{"HEALTHY only", []Hint{ok(peerX, 1)}, 0, 0},
	} {
		b, clk := newBook(t)
		for i, h := range c.hints {
			ingest(t, b, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, h))
		}
		t.Run(c.name, func(t *testing.T) { wantAdvice(t, advice(b), c.rate, c.weight) })
	}
}

// MaxNudge is the strength: the full failure share is (MaxNudge − 1) × 2 ×
// DegradedErrorRate, at most 1.
func TestMaxNudgeScalesTheFailureShare(t *testing.T) {
	for _, c := range []struct{ nudge, rate float64 }{{1.5, 0.2}, {2, 0.4}, {3, 0.8}, {4, 1}} {
		b, clk := newBook(t, func(cfg *Config) { cfg.MaxNudge = c.nudge })
		ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
		ingest(t, b, "p2", msg(clk, "b", 1, deg(peerX, 1)))
		wantAdvice(t, advice(b), c.rate, 10)
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

// Whatever arrives, the advice is a failure share in [0, 1] worth at most
// PriorWeight outcomes.
func TestAdviceIsAlwaysBounded(t *testing.T) {
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
			if a := b.Advise(p, clk.Now()); !adviceInBounds(a, &b.cfg) {
				t.Fatalf("Advise(%s) = %+v out of bounds", p, a)
			}
		}
	}
}

func TestMaxNudgeOfOneDisablesTheEffect(t *testing.T) {
	b, clk := newBook(t, func(c *Config) { c.MaxNudge = 1 })
	ingest(t, b, "p1", msg(clk, "a", 1, deg(peerX, 1)))
	ingest(t, b, "p2", msg(clk, "b", 1, deg(peerX, 1)))
	if a := advice(b); a != (client.HintAdvice{}) {
		t.Fatalf("advice %+v with MaxNudge 1", a)
	}
	if st := b.Stats(); st.Applied != 2 {
		t.Fatalf("messages must still be applied and counted: %+v", st)
	}
}

func TestConcurrentIngestAndAdvise(t *testing.T) {
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
				if a := advice(b); !adviceInBounds(a, &b.cfg) {
					t.Errorf("advice %+v", a)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantAdvice(t, advice(b), 0.4, 10)
}

func BenchmarkAdvise(b *testing.B) {
	bk, clk := newBook(b)
	for i := range 20 {
		var hs []Hint
		for p := range 100 {
			hs = append(hs, deg(fmt.Sprintf("10.0.0.%d:%d", p, 1000+p), 0.5))
		}
		ingest(b, bk, fmt.Sprintf("p%d", i), msg(clk, fmt.Sprintf("o%d", i), 1, hs...))
	}
	now := clk.Now()
	b.ResetTimer()
	for b.Loop() {
		bk.Advise("10.0.0.7:1007", now)
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
