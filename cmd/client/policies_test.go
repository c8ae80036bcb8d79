package main

import (
	"strings"
	"testing"

	"github.com/grenache-go/grenache/client"
	"github.com/grenache-go/grenache/pkg/config"
)

// The allowed values of --strategy and their help come from the client's
// policy registry: a registered policy shows up without editing this binary.
func TestStrategyValuesComeFromTheRegistry(t *testing.T) {
	code, out, _ := runClient(t, nil, "call", "-h")
	if code != 0 {
		t.Fatalf("call -h: exit %d", code)
	}
	for _, p := range client.Policies() {
		if !strings.Contains(out, p.Name) || !strings.Contains(out, p.Help) {
			t.Errorf("help lacks policy %q (%s)", p.Name, p.Help)
		}
	}
	_, _, errs := runClient(t, nil, "call", "--strategy", "fastest", "svc", "1")
	for _, w := range []string{"--strategy", "CLIENT_STRATEGY", client.PolicyNames()} {
		if !strings.Contains(errs, w) {
			t.Errorf("bad --strategy error %q lacks %q", errs, w)
		}
	}
	var s settings
	s.Strategy = client.StrategyLeastRequest
	if _, err := loadDefaults(t, &s).toConfig(); err != nil {
		t.Errorf("--strategy least-request: %v", err)
	}
}

// The plain preset's switches reach the client config.
func TestBreakerAndBudgetOffFlags(t *testing.T) {
	var s settings
	loadDefaults(t, &s)
	s.BrOff, s.RetryBudgetOff = true, true
	c, err := s.toConfig()
	if err != nil || !c.BreakerOff || !c.RetryBudgetOff {
		t.Fatalf("toConfig: %+v %v", c.BreakerOff, err)
	}
}

// loadDefaults fills s with the binary's defaults.
func loadDefaults(t *testing.T, s *settings) *settings {
	t.Helper()
	strategy := s.Strategy
	if err := config.Load(s, config.Source{Name: "t", Getenv: env(nil), DotEnv: "-"}); err != nil {
		t.Fatal(err)
	}
	if strategy != "" {
		s.Strategy = strategy
	}
	return s
}
