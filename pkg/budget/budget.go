// Package budget bounds the bytes a server holds for request bodies at once.
//
// A server shares one Budget between all its connections. Each request
// takes a Lease and grows it as bytes actually arrive (ReadAll doubles its
// buffer only after filling it), so a request that claims 8 MiB in its
// Content-Length and sends one byte holds a few hundred bytes, not 8 MiB.
// When the budget is spent, a request waits a bounded time for others to
// finish, then fails with ErrBusy; it never waits past its own context.
// Because every wait is bounded and a failed request releases what it held,
// half-read bodies each holding part of the budget cannot deadlock.
package budget

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrBusy: the budget stayed spent for the whole wait. Servers answer it
// with "try again" (HTTP 503), never by dropping the connection.
var ErrBusy = errors.New("budget: request body budget exhausted")

// ErrTooLarge: one request asked for more than the whole budget, which no
// wait can grant (a configuration error: the budget is below the body limit).
var ErrTooLarge = errors.New("budget: request needs more than the whole body budget")

// DefaultWait is how long a request waits for budget before ErrBusy: long
// enough to ride out a burst of large bodies, short enough that a client
// retries elsewhere well within a typical RPC timeout.
const DefaultWait = time.Second

// Budget is a server-wide byte budget: a weighted semaphore plus a bounded
// wait. A nil *Budget is unlimited (every Grow succeeds at once).
type Budget struct {
	sem   *semaphore.Weighted
	total int64
	wait  time.Duration
	inUse atomic.Int64
}

// New returns a budget of total bytes; a request waits at most wait for its
// bytes (wait <= 0 means it never waits: ErrBusy at once).
func New(total int64, wait time.Duration) (*Budget, error) {
	if total <= 0 {
		return nil, fmt.Errorf("budget: total %d must be > 0", total)
	}
	return &Budget{sem: semaphore.NewWeighted(total), total: total, wait: wait}, nil
}

// Total is the budget's size in bytes (0 for a nil, unlimited budget).
func (b *Budget) Total() int64 {
	if b == nil {
		return 0
	}
	return b.total
}

// InUse is the number of bytes currently leased (for metrics and tests).
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	return b.inUse.Load()
}

// acquire takes n bytes, waiting at most b.wait and never past ctx.
func (b *Budget) acquire(ctx context.Context, n int64) error {
	if n > b.total {
		return ErrTooLarge
	}
	if !b.sem.TryAcquire(n) {
		if b.wait <= 0 {
			return ErrBusy
		}
		wctx, cancel := context.WithTimeout(ctx, b.wait)
		err := b.sem.Acquire(wctx, n)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return ErrBusy
		}
	}
	b.inUse.Add(n)
	return nil
}

func (b *Budget) release(n int64) {
	if n > 0 {
		b.inUse.Add(-n)
		b.sem.Release(n)
	}
}

// Lease is the part of a Budget one request holds. The zero Lease of a nil
// budget is unlimited. A Lease is used by one goroutine at a time.
type Lease struct {
	b    *Budget
	held int64
}

// NewLease starts an empty lease on b (b may be nil: unlimited).
func (b *Budget) NewLease() Lease { return Lease{b: b} }

// Held is the number of bytes the lease holds.
func (l *Lease) Held() int64 { return l.held }

// Grow makes the lease hold at least n bytes, acquiring the difference.
// On error the lease keeps what it held before; the caller still Releases.
func (l *Lease) Grow(ctx context.Context, n int64) error {
	if l.b == nil || n <= l.held {
		return nil
	}
	if err := l.b.acquire(ctx, n-l.held); err != nil {
		return err
	}
	l.held = n
	return nil
}

// Add grows the lease by n more bytes.
func (l *Lease) Add(ctx context.Context, n int64) error { return l.Grow(ctx, l.held+n) }

// Release returns everything the lease holds. Safe to call more than once.
func (l *Lease) Release() {
	if l.b != nil {
		l.b.release(l.held)
	}
	l.held = 0
}
