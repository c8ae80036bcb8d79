// Package leakcheck ends a package's tests with a goroutine leak check that
// a loaded machine does not fail.
//
// goleak.VerifyTestMain gives goroutines about 0.4 s (20 retries, sleeps
// doubling from 1 µs up to 100 ms) to exit after the last test. A goroutine
// that a test stopped but that has not yet been scheduled to return (an
// HTTP server's connection goroutine, a subscriber's redial loop) takes
// longer than that on a 2-core host running every package under -race, and
// was reported as a leak. Main waits up to Settle instead: a goroutine
// that is really left running is still reported, Settle later, and a
// clean run costs nothing extra.
package leakcheck

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Settle is how long goroutines get to exit after the last test.
const Settle = 10 * time.Second

// Main runs the tests and exits with their code, or with 1 if they passed
// but goroutines other than the test binary's own still run Settle later.
func Main(m *testing.M, opts ...goleak.Option) {
	os.Exit(Check(m.Run(), opts...))
}

// Check returns code, unless it is 0 and goroutines are still running
// Settle later, in which case it prints them and returns 1.
func Check(code int, opts ...goleak.Option) int { return check(code, Settle, opts...) }

func check(code int, settle time.Duration, opts ...goleak.Option) int {
	if code != 0 {
		return code
	}
	deadline := time.Now().Add(settle)
	for {
		err := goleak.Find(opts...)
		if err == nil {
			return code
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(os.Stderr, "goleak: goroutines still running %v after the last test:\n%v\n", settle, err)
			return 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}
