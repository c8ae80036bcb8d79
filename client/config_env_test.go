package client

import (
	"strings"
	"testing"
	"time"
)

// FromEnv reads every duration variable as a bare integer of milliseconds,
// as it always did, or as a Go duration, like the client binary does.
func TestFromEnvDurationsTakeMillisecondsOrGoDuration(t *testing.T) {
	c, err := FromEnvMap(map[string]string{
		"CLIENT_REQUEST_TIMEOUT":                "750",
		"CLIENT_ATTEMPT_TIMEOUT":                "2s",
		"CLIENT_RETRY_DELAY":                    "1500us",
		"CLIENT_HEDGE_AFTER":                    "40ms",
		"CLIENT_REFRESH_INTERVAL":               "1m",
		"METRICS_STALE_AFTER_MS":                "10000",
		"CIRCUIT_BREAKER_WINDOW_MS":             "1500ms",
		"CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS": " 0 ",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := []time.Duration{c.RequestTimeout, c.AttemptTimeout, c.RetryDelay, c.HedgeAfter, c.RefreshInterval,
		c.StaleAfter, c.BreakerWindow, c.BreakerFastFailCooldown}
	want := []time.Duration{750 * time.Millisecond, 2 * time.Second, 1500 * time.Microsecond, 40 * time.Millisecond,
		time.Minute, 10 * time.Second, 1500 * time.Millisecond, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("duration %d: got %v, want %v", i, got[i], want[i])
		}
	}
	if d := DefaultConfig(); c.SlowStart != d.SlowStart || c.BreakerCooldown != d.BreakerCooldown {
		t.Errorf("unset variables must keep the defaults: %+v", c)
	}
	// Negative values still parse and are refused by Validate, as before.
	c, err = FromEnvMap(map[string]string{"CLIENT_HEDGE_AFTER": "-5"})
	if err != nil || c.HedgeAfter != -5*time.Millisecond {
		t.Fatalf("-5: %v %v", c.HedgeAfter, err)
	}
	if ce, ok := c.Validate().(*ConfigError); !ok || ce.Env != "CLIENT_HEDGE_AFTER" {
		t.Errorf("negative hedge accepted: %v", c.Validate())
	}
	for in, why := range map[string]string{
		"soon":           "allowed milliseconds as an integer, or a Go duration like 1500ms",
		"1.5":            "allowed milliseconds as an integer, or a Go duration like 1500ms",
		"18446744073710": "too large", // used to wrap around to 0.45 ms
	} {
		_, err := FromEnvMap(map[string]string{"CLIENT_REQUEST_TIMEOUT": in})
		if err == nil || !strings.Contains(err.Error(), "CLIENT_REQUEST_TIMEOUT") || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: error %v must name CLIENT_REQUEST_TIMEOUT and say %q", in, err, why)
		}
	}
}
