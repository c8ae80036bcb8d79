package leakcheck

import (
	"testing"
	"time"
)

func TestCheckWaitsForAGoroutineThatEnds(t *testing.T) {
	stop := make(chan struct{})
	go func() { <-stop }()
	time.AfterFunc(time.Second, func() { close(stop) })
	start := time.Now()
	if code := Check(0); code != 0 {
		t.Fatalf("a goroutine that ends after 1 s was reported (code %d)", code)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("Check returned after %v, before the goroutine ended", d)
	}
}

func TestCheckKeepsAFailedCode(t *testing.T) {
	if code := Check(3); code != 3 {
		t.Fatalf("code %d, want 3", code)
	}
}

func TestCheckReportsAGoroutineLeftRunning(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go func() { <-stop }()
	if code := check(0, 200*time.Millisecond); code != 1 {
		t.Fatalf("a goroutine left running was not reported (code %d)", code)
	}
}
