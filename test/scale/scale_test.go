package scale

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Sizes of the reduced scale test: the 64 grapes, a quarter of
// them churned. In-process grapes, not processes (cheaper on 2 cores);
// under -race the test takes about 11 s on a quiet 2-core box, so it runs
// at full size there too.
const (
	grapes     = 64
	bootstrap  = 3
	names      = 200
	absent     = 50
	churned    = grapes / 4
	inFlight   = 8
	duringTime = 2 * time.Second // lookups keep running this long after the new grapes joined
)

// msgsPerLookupBound is the loose cost bound. A walk settles on the K = 20
// closest nodes that answer, so at 64 grapes a lookup costs about K + 2
// get_peers (measured 21-22 here and in make bench-scale) and, past K,
// grows by a few queries per doubling. 6 × log2(64) = 36 leaves room for
// a loaded, racing box and still fails a walk that asks every grape, or
// routing-table pings on every newcomer (46.9 per lookup before a full
// bucket stopped pinging contacts it had just heard from).
var msgsPerLookupBound = 6 * math.Log2(grapes)

// lookups counts one phase's answers.
type lookups struct {
	found, missed, failed atomic.Int64
	firstMiss             atomic.Value
}

func (l *lookups) miss(format string) {
	l.firstMiss.CompareAndSwap(nil, format)
}

// lookupOnce asks m once (one call, one answer: no retry hides a miss)
// for announced name i.
func lookupOnce(m *member, i int, l *lookups) {
	body, err := call(m, "lookup", strconv.Quote(name(i)))
	switch {
	case err != nil:
		l.failed.Add(1)
		l.miss(name(i) + ": " + err.Error())
	case strings.Contains(body, `"127.0.0.1:`+strconv.Itoa(port(i))+`"`):
		l.found.Add(1)
	default:
		l.missed.Add(1)
		l.miss(name(i) + " on " + m.g.APIURL() + ": " + body)
	}
}

func (l *lookups) check(t *testing.T, phase string) {
	t.Helper()
	f, m, e := l.found.Load(), l.missed.Load(), l.failed.Load()
	t.Logf("%s: %d found, %d missed, %d failed", phase, f, m, e)
	if m+e > 0 {
		t.Errorf("%s: %d of %d lookups of announced names did not return the peer; first: %v", phase, m+e, f+m+e, l.firstMiss.Load())
	}
	if f == 0 {
		t.Errorf("%s: no lookups ran", phase)
	}
}

// TestScaleChurn starts 64 grapes, each bootstrapped at 3 random earlier
// ones, announces 200 names from random grapes, and looks each up once
// from a random grape (plus absent names), then stops 16 random grapes
// and starts 16 new ones while lookups run, and looks every name up again
// afterwards. Every lookup of an announced name must find it, and the
// KRPC messages per lookup must stay within a log2 bound.
func TestScaleChurn(t *testing.T) {
	start := time.Now()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := newCluster(t, seed, bootstrap)
	for range grapes {
		c.add()
	}
	t.Logf("%d grapes joined in %v", grapes, time.Since(start).Round(time.Millisecond))

	for i := range names {
		m := c.pick(nil)
		if body, err := call(m, "announce", `["`+name(i)+`",`+strconv.Itoa(port(i))+`]`); err != nil || strings.Trim(body, "0123456789") != "" {
			t.Fatalf("announce %s on %s: %q %v", name(i), m.g.APIURL(), body, err)
		}
	}

	// Background KRPC traffic over a quiet second, scaled to the lookup
	// phase and subtracted.
	q0, qt := c.krpcSent(), time.Now()
	time.Sleep(time.Second)
	q1, quiet := c.krpcSent(), time.Since(qt)

	var before lookups
	var absentWrong atomic.Int64
	jobs := make(chan int)
	go func() {
		defer close(jobs)
		for i := range names + absent {
			jobs <- i
		}
	}()
	s0, lt := c.krpcSent(), time.Now()
	parallel(inFlight, func() {
		for i := range jobs {
			m := c.pick(nil)
			if i < names {
				lookupOnce(m, i, &before)
				continue
			}
			body, err := call(m, "lookup", strconv.Quote("scale-test-absent-"+strconv.Itoa(i)))
			if err != nil || body != "[]" {
				absentWrong.Add(1)
				t.Logf("absent name on %s: %q %v", m.g.APIURL(), body, err)
			}
		}
	})
	took := time.Since(lt)
	s1 := c.krpcSent()
	before.check(t, "before churn")
	if n := absentWrong.Load(); n > 0 {
		t.Errorf("%d of %d lookups of absent names did not answer []", n, absent)
	}
	bg := float64(q1[""]-q0[""]) * took.Seconds() / quiet.Seconds()
	perLookup := max(0, float64(s1[""]-s0[""])-bg) / float64(names+absent)
	t.Logf("KRPC messages per lookup: %.1f (bound %.0f; background %.0f of %d)", perLookup, msgsPerLookupBound, bg, s1[""]-s0[""])
	for q, n := range s1 {
		if q != "" && n > s0[q] {
			t.Logf("  %s: %.1f per lookup", q, float64(n-s0[q])/float64(names+absent))
		}
	}
	if perLookup > msgsPerLookupBound {
		t.Errorf("KRPC messages per lookup %.1f > %.0f = 6 × log2(%d)", perLookup, msgsPerLookupBound, grapes)
	}

	// Churn under lookups. Lookups go only to grapes that survive (or
	// joined): a call to a grape being stopped would measure the client,
	// not the DHT.
	victims := c.victims(churned)
	var during lookups
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		parallel(inFlight, func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				lookupOnce(c.pick(victims), c.intn(names), &during)
			}
		})
	}()
	c.kill(victims)
	for range churned {
		c.add()
	}
	time.Sleep(duringTime)
	close(stop)
	wg.Wait()
	during.check(t, "during churn")

	var after lookups
	jobs2 := make(chan int)
	go func() {
		defer close(jobs2)
		for i := range names {
			jobs2 <- i
		}
	}()
	parallel(inFlight, func() {
		for i := range jobs2 {
			lookupOnce(c.pick(nil), i, &after)
		}
	})
	after.check(t, "after churn")
	t.Logf("wall %v", time.Since(start).Round(time.Millisecond))
}

// parallel runs n copies of f and waits for them.
func parallel(n int, f func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}
