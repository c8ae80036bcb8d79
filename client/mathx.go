package client

import (
	"math"
	"sync/atomic"
)

// atomicFloat is a float64 stored as bits so readers never take a lock.
type atomicFloat struct{ bits atomic.Uint64 }

// Load reads the value atomically.
func (f *atomicFloat) Load() float64 { return math.Float64frombits(f.bits.Load()) }

// Store writes the value atomically.
func (f *atomicFloat) Store(v float64) { f.bits.Store(math.Float64bits(v)) }

// decay is exp(-dt/tau) for dt >= 0: the weight left to evidence of age dt.
// An exact exponential matters: a fat-tailed approximation keeps old latency
// peaks alive for seconds, which skews shares between healthy peers.
func decay(dt, tau int64) float64 {
	if dt <= 0 {
		return 1
	}
	x := float64(dt) / float64(tau)
	if x < 0.05 {
		// Fresh evidence, the common case on the pick path: a cubic Taylor
		// polynomial (error below 3e-7) instead of a ~10 ns math.Exp.
		return 1 - x*(1-x*(0.5-x*(1.0/6)))
	}
	if x > 40 {
		return 0
	}
	return math.Exp(-x)
}
