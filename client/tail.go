package client

import (
	"math/bits"
	"sync/atomic"
)

// tailEstimator is a service's streaming latency quantile: the hedge delay
// follows it. It is a log-linear histogram of successful attempt
// latencies (4 buckets per power of two of microseconds, so a reading is
// at most 19% above the true quantile) in two generations of atomic
// counters: observe is one atomic add and O(1), lock-free, allocation-free,
// so it sits in record without costing pick+record; a reading covers the
// current generation and the previous one (between one and two
// tailWindow of evidence), so the delay follows a change of the service
// within about two windows and forgets an old spike.
//
// Why a histogram and not P² or frugal streaming: those keep one marker
// that every writer must update under a lock (P²) or that needs about
// 1/(1-q) samples per step to move (frugal, 100 per step at p99), so after
// a fault it lags by thousands of requests; the histogram's reading is
// exact to a bucket as soon as the window holds enough samples.
type tailEstimator struct {
	// gens has no per-generation total: every record would add to the
	// same counter from every core; a reading sums the buckets instead.
	gens    [2][tailBuckets]atomic.Int64
	cur     atomic.Int32 // generation observe writes
	rotated atomic.Int64 // when cur became current (ns); 0 = never
	// cached reading: the quantile in ns (0 = not enough samples) and when
	// it was computed, so a reading is O(1) between recomputations.
	cached     atomic.Int64
	computedAt atomic.Int64
	computed   atomic.Bool
}

const (
	tailSub     = 4                  // buckets per power of two
	tailBuckets = 28 * tailSub       // 1 µs .. 2^28 µs (268 s)
	tailWindow  = int64(5e9)         // a generation's length, ns
	tailRefresh = int64(100_000_000) // the cached reading's lifetime, ns
)

// tailBucket maps a latency in µs (≥ 1) to its bucket.
func tailBucket(us int64) int {
	if us < 1 {
		us = 1
	}
	e := bits.Len64(uint64(us)) - 1 // floor(log2 us)
	var sub int
	if e >= 2 {
		sub = int((us >> (e - 2)) & (tailSub - 1))
	} else {
		sub = int(us<<(2-e)) & (tailSub - 1)
	}
	return min(e*tailSub+sub, tailBuckets-1)
}

// tailUpper is the upper edge of bucket i in µs: readings round up, so a
// hedge fires late rather than early.
func tailUpper(i int) int64 {
	e, sub := i/tailSub, i%tailSub
	if e < 2 {
		return 2 << e // 1..3 µs: finer buckets would not change a hedge
	}
	return (int64(tailSub+sub+1) << (e - 2))
}

// rotate starts a new generation when the current one is tailWindow old.
// One caller wins the CAS and clears the old generation; an add racing
// the clear is lost, which only thins the evidence by a sample.
func (t *tailEstimator) rotate(now int64) {
	r := t.rotated.Load()
	if r == 0 {
		t.rotated.CompareAndSwap(0, now)
		return
	}
	if now-r < tailWindow || !t.rotated.CompareAndSwap(r, now) {
		return
	}
	next := 1 - t.cur.Load()
	for i := range t.gens[next] {
		t.gens[next][i].Store(0)
	}
	t.cur.Store(next)
	if now-r >= 2*tailWindow { // a quiet spell: the previous generation is stale too
		prev := 1 - next
		for i := range t.gens[prev] {
			t.gens[prev][i].Store(0)
		}
	}
}

// observe counts one successful attempt of d ns.
func (t *tailEstimator) observe(d, now int64) {
	t.rotate(now)
	g := t.cur.Load()
	t.gens[g][tailBucket(d/1000)].Add(1)
}

// total is the number of samples in both generations.
func (t *tailEstimator) total() int64 {
	var n int64
	for g := range t.gens {
		for i := range t.gens[g] {
			n += t.gens[g][i].Load()
		}
	}
	return n
}

// quantile returns the q-quantile (0 < q < 1) in ns over both generations,
// or 0 while they hold fewer than minN samples. The reading is cached for
// tailRefresh; one caller recomputes (a scan of 2×112 counters).
func (t *tailEstimator) quantile(q float64, minN int64, now int64) int64 {
	at := t.computedAt.Load()
	if t.computed.Load() && now-at < tailRefresh {
		v := t.cached.Load()
		// A service warming up gets its first reading as soon as it has
		// the samples, not up to tailRefresh later.
		if v != 0 || t.total() < minN {
			return v
		}
	}
	if !t.computedAt.CompareAndSwap(at, now) {
		return t.cached.Load() // another caller is recomputing
	}
	t.rotate(now)
	v := t.scan(q, minN)
	t.cached.Store(v)
	t.computed.Store(true)
	return v
}

func (t *tailEstimator) scan(q float64, minN int64) int64 {
	n := t.total()
	if n < minN || n == 0 {
		return 0
	}
	// The rank of the q-quantile, counted from the top: the (1-q)·n slowest
	// samples lie above it.
	above := int64((1 - q) * float64(n))
	var seen int64
	for i := tailBuckets - 1; i >= 0; i-- {
		seen += t.gens[0][i].Load() + t.gens[1][i].Load()
		if seen > above {
			return tailUpper(i) * 1000
		}
	}
	return tailUpper(0) * 1000
}

// tailMinSamples is the evidence a q-quantile reading needs: two samples
// above it (at p99, 200), and never fewer than 20.
func tailMinSamples(q float64) int64 {
	return max(int64(2/(1-q)+0.5), 20)
}
