package client

import (
	"math"
	"sync/atomic"
)

// atomicFloat is a float64 stored as bits so readers never take a lock.
type atomicFloat struct{ bits atomic.Uint64 }

func (f *atomicFloat) Load() float64   { return math.Float64frombits(f.bits.Load()) }
func (f *atomicFloat) Store(v float64) { f.bits.Store(math.Float64bits(v)) }

// decay approximates exp(-dt/tau) for dt >= 0 with a cheap rational
// function. It only weighs evidence by age, so a few percent of error is
// harmless, while math.Exp would cost a good part of the pick budget.
func decay(dt, tau int64) float64 {
	if dt <= 0 {
		return 1
	}
	x := float64(dt) / float64(tau)
	if x > 50 {
		return 0
	}
	// 1/(1+x+x²/2+x³/6): the Taylor series of e^x, inverted.
	return 1 / (1 + x*(1+x*(0.5+x*(1.0/6))))
}
