package gossip

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestRecorderCountsDecayAndExpire(t *testing.T) {
	cfg := testConfig(t)
	r := NewRecorder(cfg)
	clk := newClock()
	for i := range 10 {
		r.Record(peerX, i%2 == 0, clk.Now())
	}
	obs := r.Observations(clk.Now())
	if len(obs) != 1 || obs[0].Samples != 10 || obs[0].Failures != 5 {
		t.Fatalf("observations %+v", obs)
	}
	clk.Advance(cfg.EvidenceHalfLife)
	obs = r.Observations(clk.Now())
	if !near(obs[0].Samples, 5) || !near(obs[0].Failures, 2.5) {
		t.Fatalf("after one half-life: %+v, want counts halved", obs[0])
	}
	if age := r.EvidenceAge(peerX, clk.Now()); age != cfg.EvidenceHalfLife {
		t.Fatalf("evidence age %v", age)
	}
	if l := r.Local(peerX, clk.Now()); l.Age != cfg.EvidenceHalfLife || !near(l.FailureRate, 0.5) {
		t.Fatalf("local view %+v", l)
	}
	if l := r.Local("127.0.0.1:1", clk.Now()); l.Age != NoLocalEvidence || l.FailureRate >= 0 {
		t.Fatalf("local view of a stranger %+v", l)
	}
	if age := r.EvidenceAge("127.0.0.1:1", clk.Now()); age != NoLocalEvidence {
		t.Fatalf("evidence age of a stranger %v", age)
	}
	hs := r.Hints(clk.Now())
	if len(hs) != 1 || hs[0].State != Degraded || hs[0].AgeMS != cfg.EvidenceHalfLife.Milliseconds() {
		t.Fatalf("hints %+v", hs)
	}
	clk.Advance(cfg.HintTTL)
	if obs := r.Observations(clk.Now()); len(obs) != 0 {
		t.Fatalf("peer unseen for the TTL still observed: %+v", obs)
	}
	if age := r.EvidenceAge(peerX, clk.Now()); age != NoLocalEvidence {
		t.Fatalf("forgotten peer has evidence age %v", age)
	}
}

func TestRecorderPublishesOpenBreakersAsDegraded(t *testing.T) {
	cfg := testConfig(t)
	r := NewRecorder(cfg)
	clk := newClock()
	r.SetBroken(peerX, false, clk.Now()) // closing an unknown peer's breaker adds nothing
	if obs := r.Observations(clk.Now()); len(obs) != 0 {
		t.Fatalf("observations %+v", obs)
	}
	r.Record(peerX, false, clk.Now())
	r.SetBroken(peerX, true, clk.Now())
	clk.Advance(time.Second)
	hs := r.Hints(clk.Now())
	if len(hs) != 1 || hs[0] != (Hint{peerX, Degraded, 1, 0}) {
		t.Fatalf("hints with the breaker open: %+v", hs)
	}
	if l := r.Local(peerX, clk.Now()); l.FailureRate != 1 || l.Age != time.Second {
		t.Fatalf("local view with the breaker open: %+v", l)
	}
	clk.Advance(2 * cfg.HintTTL) // a long cooldown: no samples, the peer is kept
	if hs := r.Hints(clk.Now()); len(hs) != 1 || hs[0].State != Degraded {
		t.Fatalf("hints during a long open period: %+v", hs)
	}
	r.Record(peerX, false, clk.Now()) // the half-open probe succeeded
	r.SetBroken(peerX, false, clk.Now())
	if hs := r.Hints(clk.Now()); len(hs) != 1 || hs[0].State != Healthy {
		t.Fatalf("hints after the breaker closed: %+v", hs)
	}
}

func TestRecorderIsBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPeers = 3
	r := NewRecorder(cfg)
	clk := newClock()
	for i := range 10 {
		clk.Advance(time.Millisecond)
		r.Record(fmt.Sprintf("127.0.0.1:%d", 100+i), false, clk.Now())
	}
	obs := r.Observations(clk.Now())
	if len(obs) != 3 || obs[0].Peer != "127.0.0.1:109" || obs[2].Peer != "127.0.0.1:107" {
		t.Fatalf("kept %+v, want the three most recent, newest first", obs)
	}
}

// BenchmarkRecord is the cost the client's attempt hook pays per attempt.
func BenchmarkRecord(b *testing.B) {
	cfg := testConfig(b)
	r := NewRecorder(cfg)
	now := time.Now()
	peers := []string{"10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", "10.0.0.4:1"}
	for i := 0; b.Loop(); i++ {
		r.Record(peers[i%4], i%7 == 0, now.Add(time.Duration(i)*time.Microsecond))
	}
}

// Record, SetBroken, Local and Observations run concurrently (request path,
// breaker hook, publisher) with peers appearing, being evicted and expiring.
func TestRecorderConcurrentUse(t *testing.T) {
	cfg := testConfig(t)
	cfg.MaxPeers = 4
	r := NewRecorder(cfg)
	base := time.Now()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				at := base.Add(time.Duration(i) * time.Millisecond)
				p := fmt.Sprintf("127.0.0.1:%d", 100+(i+w)%6)
				r.Record(p, i%3 == 0, at)
				if i%50 == 0 {
					r.SetBroken(p, i%100 == 0, at)
				}
				if l := r.Local(p, at); l.FailureRate > 1 {
					t.Errorf("Local %+v", l)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 200 {
			if obs := r.Observations(base.Add(time.Duration(i) * 10 * time.Millisecond)); len(obs) > cfg.MaxPeers {
				t.Errorf("%d observations, cap %d", len(obs), cfg.MaxPeers)
				return
			}
		}
	}()
	wg.Wait()
}
