package main

import (
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
)

// loadSettings loads the call/run settings from vars alone (no flags, no
// .env) and maps them onto client.Config.
func loadSettings(t *testing.T, vars map[string]string) (*settings, error) {
	t.Helper()
	var s settings
	if err := config.Load(&s, config.Source{Name: "t", Getenv: env(vars), DotEnv: "-"}); err != nil {
		return nil, err
	}
	return &s, nil
}

// Every duration variable of the client takes a bare integer of
// milliseconds, as it always did, or a Go duration; CLIENT_BALANCE_SLACK,
// once a float of milliseconds, too (a fraction is written 500us).
func TestClientDurationsTakeMillisecondsOrGoDuration(t *testing.T) {
	s, err := loadSettings(t, map[string]string{
		"CLIENT_REQUEST_TIMEOUT":                "750",
		"CLIENT_ATTEMPT_TIMEOUT":                "2s",
		"CLIENT_RETRY_DELAY":                    "1500us",
		"CLIENT_HEDGE_AFTER":                    "40ms",
		"CLIENT_REFRESH_INTERVAL":               "1m",
		"CLIENT_BALANCE_SLACK":                  "500us",
		"METRICS_STALE_AFTER_MS":                "10000",
		"CIRCUIT_BREAKER_WINDOW_MS":             "1500ms",
		"CIRCUIT_BREAKER_FAST_FAIL_COOLDOWN_MS": " 0 ",
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.toConfig()
	if err != nil {
		t.Fatal(err)
	}
	got := []time.Duration{c.RequestTimeout, c.AttemptTimeout, c.RetryDelay, c.HedgeAfter, c.RefreshInterval,
		c.BalanceSlack, c.StaleAfter, c.BreakerWindow, c.BreakerFastFailCooldown}
	want := []time.Duration{750 * time.Millisecond, 2 * time.Second, 1500 * time.Microsecond, 40 * time.Millisecond,
		time.Minute, 500 * time.Microsecond, 10 * time.Second, 1500 * time.Millisecond, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("duration %d: got %v, want %v", i, got[i], want[i])
		}
	}
	for in, why := range map[string]string{
		"soon":           "allowed milliseconds as an integer, or a Go duration like 1500ms",
		"1.5":            "allowed milliseconds as an integer, or a Go duration like 1500ms",
		"18446744073710": "too large", // used to wrap around to 0.45 ms
	} {
		_, err := loadSettings(t, map[string]string{"CLIENT_REQUEST_TIMEOUT": in})
		if err == nil || !strings.Contains(err.Error(), "CLIENT_REQUEST_TIMEOUT") || !strings.Contains(err.Error(), why) {
			t.Errorf("%q: error %v must name CLIENT_REQUEST_TIMEOUT and say %q", in, err, why)
		}
	}
}

// What client.Config.Validate refuses beyond the tags' ranges is reported
// under the flag and the variable that set it.
func TestLibraryErrorsNameFlagAndVariable(t *testing.T) {
	s, err := loadSettings(t, map[string]string{"CIRCUIT_BREAKER_COOLDOWN_MS": "70000"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.toConfig()
	want := `invalid value "1m0s" for --breaker-max-cooldown (env CIRCUIT_BREAKER_MAX_COOLDOWN_MS); allowed the breaker cooldown (1m10s)..24h0m0s`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
	s, err = loadSettings(t, map[string]string{"CLIENT_HEDGE_QUANTILE": "0.3"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = s.toConfig(); err == nil || !strings.Contains(err.Error(), "--hedge-quantile (env CLIENT_HEDGE_QUANTILE)") {
		t.Errorf("hedge quantile: %v", err)
	}
}
