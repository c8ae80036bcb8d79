package client

import "sync"

// retryBudget is a token bucket: every request deposits ratio tokens, time
// deposits minPerSec per second, a retry withdraws one. The balance is capped
// at what ten seconds of the minimum rate plus ratio × (10 s of requests)
// would give, so a long quiet spell cannot bank a storm (Finagle's shape).
type retryBudget struct {
	off       bool // no budget: every retry is allowed (PlainConfig)
	mu        sync.Mutex
	ratio     float64
	minPerSec float64
	balance   float64
	last      int64
	sec       int64   // current whole second
	cur, prev float64 // deposits in the current and previous second: the rate that sets the cap
}

const budgetHorizon = 10.0 // seconds of history the cap allows

func newRetryBudget(ratio, minPerSec float64, off bool) *retryBudget {
	return &retryBudget{off: off, ratio: ratio, minPerSec: minPerSec, balance: minPerSec}
}

func (r *retryBudget) refill(now int64) {
	if r.last == 0 {
		r.last = now
		return
	}
	dt := float64(now-r.last) / 1e9
	if dt <= 0 {
		return
	}
	r.last = now
	r.balance += dt * r.minPerSec
	r.capBalance()
}

func (r *retryBudget) capBalance() {
	cap := budgetHorizon * (r.minPerSec + r.ratio*max(r.cur, r.prev))
	cap = max(cap, 1)
	if r.balance > cap {
		r.balance = cap
	}
}

// deposit counts one new request.
func (r *retryBudget) deposit(now int64) {
	if r.off {
		return
	}
	r.mu.Lock()
	r.refill(now)
	r.balance += r.ratio
	if sec := now / 1e9; sec != r.sec {
		if sec == r.sec+1 {
			r.prev = r.cur
		} else {
			r.prev = 0
		}
		r.sec, r.cur = sec, 0
	}
	r.cur++
	r.capBalance()
	r.mu.Unlock()
}

// withdraw takes one retry token if there is one.
func (r *retryBudget) withdraw(now int64) bool {
	if r.off {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refill(now)
	if r.balance >= 1-1e-9 { // tolerate float rounding of ratio sums
		r.balance--
		return true
	}
	return false
}
