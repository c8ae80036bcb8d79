package gossip

import (
	"crypto/ed25519"
	"fmt"
	"testing"
	"time"

	"github.com/grenache-go/grenache/client"
)

func TestAssessTurnsLocalOutcomesIntoHints(t *testing.T) {
	cfg := testConfig(t) // DegradedErrorRate 0.2, FullConfidenceSamples 10
	clk := newClock()
	now := clk.Now()
	cases := []struct {
		name   string
		o      Observation
		want   Hint
		wantOK bool
	}{
		{"half failing, plenty of samples: DEGRADED, full confidence",
			Observation{peerX, 40, 20, now.Add(-300 * time.Millisecond), false},
			Hint{peerX, Degraded, 1, 300}, true},
		{"at the threshold: DEGRADED, half confidence",
			Observation{peerX, 10, 2, now, false}, Hint{peerX, Degraded, 0.5, 0}, true},
		{"half failing but only 2 samples: weak DEGRADED",
			Observation{peerX, 2, 1, now, false}, Hint{peerX, Degraded, 0.2, 0}, true},
		{"all good: HEALTHY, full confidence",
			Observation{peerX, 100, 0, now, false}, Hint{peerX, Healthy, 1, 0}, true},
		{"10% failing: HEALTHY, half confidence",
			Observation{peerX, 10, 1, now, false}, Hint{peerX, Healthy, 0.5, 0}, true},
		{"no samples: nothing to say", Observation{peerX, 0, 0, now, false}, Hint{}, false},
		{"never seen: nothing to say", Observation{peerX, 5, 0, time.Time{}, false}, Hint{}, false},
		{"evidence past the TTL: nothing to say",
			Observation{peerX, 50, 25, now.Add(-cfg.HintTTL), false}, Hint{}, false},
		{"just under the threshold with few samples rounds to 0: nothing",
			Observation{peerX, 1, 0.19999999, now, false}, Hint{}, false},
		{"not a peer address: nothing", Observation{"nope", 50, 25, now, false}, Hint{}, false},
		{"breaker open, even with no recent samples: DEGRADED, full confidence, now",
			Observation{peerX, 0.3, 0, now.Add(-2 * time.Second), true}, Hint{peerX, Degraded, 1, 0}, true},
		{"breaker open for longer than the TTL: still DEGRADED now",
			Observation{peerX, 0, 0, now.Add(-cfg.HintTTL), true}, Hint{peerX, Degraded, 1, 0}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h, ok := Assess(&cfg, c.o, now)
			if ok != c.wantOK || h != c.want {
				t.Fatalf("Assess = %+v, %v; want %+v, %v", h, ok, c.want, c.wantOK)
			}
		})
	}
}

func TestComposerSequenceAlwaysGrows(t *testing.T) {
	cfg := testConfig(t)
	c := NewComposer(cfg)
	clk := newClock()
	var last uint64
	for i, step := range []time.Duration{0, 0, time.Second, -time.Hour, 0, time.Hour} {
		clk.Advance(step)
		b, err := c.Compose(clk.Now(), nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Decode(b, cfg.MaxFrameBytes(), cfg.MaxPeers)
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq <= last {
			t.Fatalf("message %d: seq %d after %d", i, m.Seq, last)
		}
		last = m.Seq
	}
	// A restarted process with the same origin starts above the old one,
	// because seq starts from the wall clock in ms (as long as the old one
	// did not send faster than one message per ms, which at one message per
	// PublishInterval it never does).
	restarted := NewComposer(cfg)
	clk.Advance(cfg.PublishInterval)
	b, _ := restarted.Compose(clk.Now(), nil)
	m, _ := Decode(b, 0, 0)
	if m.Seq <= last {
		t.Fatalf("restarted seq %d not above %d", m.Seq, last)
	}
}

func TestComposerKeepsTheMostUsefulHintsWhenTruncating(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPeers = 3
	var hs []Hint
	for i := range 6 {
		hs = append(hs, ok(fmt.Sprintf("127.0.0.1:%d", 100+i), 1))
	}
	hs = append(hs, deg("127.0.0.1:200", 0.3), deg("127.0.0.1:201", 0.9))
	b, err := NewComposer(cfg).Compose(newClock().Now(), hs)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := Decode(b, 0, 0)
	got := fmt.Sprint(m.Hints[0].Peer, m.Hints[1].Peer, len(m.Hints))
	if want := fmt.Sprint("127.0.0.1:201", "127.0.0.1:200", 3); got != want {
		t.Fatalf("kept %v, want degraded first: %v", m.Hints, want)
	}
}

// End to end through the pure parts: what one client composes, another's
// book applies, signed and checked against trusted keys.
func TestComposedMessagesAreAppliedByAnotherBook(t *testing.T) {
	signer := keyN(4)
	pubCfg := testConfig(t)
	pubCfg.Origin = "busy-client"
	pubCfg.SigningKey = signer
	clk := newClock()
	b, _ := newBook(t, func(c *Config) { c.TrustedKeys = []ed25519.PublicKey{pub(signer)} })
	b.now = clk.Now

	hs := HintsFrom(&pubCfg, []client.PeerStats{{Addr: peerX, Samples: 100, Failures: 50}}, clk.Now())
	frame, err := NewComposer(pubCfg).Compose(clk.Now(), hs)
	if err != nil {
		t.Fatal(err)
	}
	wantVerdict(t, b.Ingest("busy:1", frame), Applied)
	wantAdvice(t, advice(b), 0.4, 5) // one trusted origin
}

// What is published is read off the client's own metrics: its decayed
// counts, the age of its last outcome, its breaker.
func TestHintsFromTheClientsMetrics(t *testing.T) {
	cfg := testConfig(t)
	now := newClock().Now()
	stats := []client.PeerStats{
		{Addr: "127.0.0.1:1", Samples: 20, Failures: 10, Freshness: 2 * time.Second},
		{Addr: "127.0.0.1:2", Samples: 20, Freshness: 0},
		{Addr: "127.0.0.1:3", Samples: 0.5, Failures: 0.5, Freshness: time.Minute, State: client.Open},
		{Addr: "127.0.0.1:4", Freshness: -1},                           // no outcome yet
		{Addr: "127.0.0.1:5", Samples: 20, Freshness: 2 * time.Minute}, // past the TTL
	}
	got := HintsFrom(&cfg, stats, now)
	want := []Hint{
		{Peer: "127.0.0.1:1", State: Degraded, Conf: 1, AgeMS: 2000},
		{Peer: "127.0.0.1:2", State: Healthy, Conf: 1, AgeMS: 0},
		{Peer: "127.0.0.1:3", State: Degraded, Conf: 1, AgeMS: 0}, // an open breaker holds now
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hints %+v\nwant %+v", got, want)
	}
}
