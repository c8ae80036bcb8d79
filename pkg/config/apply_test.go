package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/pkg/validate"
)

// Shared is embedded by two settings structs, as the client's subcommands
// share their grape settings.
type Shared struct {
	Timeout time.Duration `env:"T_TIMEOUT" envDefault:"2s" flag:"timeout" field:"Deadline" usage:"deadline"`
}

type appSettings struct {
	Shared
	Weight  float64 `env:"T_WEIGHT" envDefault:"0.5" flag:"weight" field:"Weight" usage:"a weight"`
	Other   float64 `env:"T_OTHER" envDefault:"0.5" field:"Other" usage:"the other weight"`
	Verbose bool    `flag:"v" usage:"not in the library config"`
}

type libConfig struct {
	Deadline      time.Duration
	Weight, Other float64
	Untouched     int
}

func TestApplyCopiesTaggedSettingsIncludingEmbedded(t *testing.T) {
	var s appSettings
	if err := Load(&s, Source{Name: "t", Args: []string{"--timeout", "750", "--weight", "0.25"}, Getenv: envOf(nil), DotEnv: "-"}); err != nil {
		t.Fatal(err)
	}
	c := libConfig{Untouched: 7}
	if err := Apply(&c, &s); err != nil {
		t.Fatal(err)
	}
	if c.Deadline != 750*time.Millisecond || c.Weight != 0.25 || c.Other != 0.5 || c.Untouched != 7 {
		t.Errorf("applied %+v", c)
	}
	var wrongType struct{ Deadline, Weight, Other int }
	if err := Apply(&wrongType, &s); err == nil || !strings.Contains(err.Error(), "Deadline") {
		t.Errorf("type mismatch: %v", err)
	}
	var missing struct{ Deadline time.Duration }
	if err := Apply(&missing, &s); err == nil || !strings.Contains(err.Error(), "Weight") {
		t.Errorf("unknown field: %v", err)
	}
}

func TestAttributeNamesTheSettingsOfAFieldError(t *testing.T) {
	var s appSettings
	single := validate.Range("lib.Config", "Deadline", time.Duration(0), time.Millisecond, time.Hour)
	err := Attribute(&s, single)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("want *Error, got %v", err)
	}
	if want := `invalid value "0s" for --timeout (env T_TIMEOUT); allowed 1ms..1h0m0s`; err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	both := &validate.FieldError{Config: "lib.Config", Field: "Weight+Other", Value: "1.5", Allowed: "summing to 1"}
	if got, want := Attribute(&s, both).Error(), `invalid value "1.5" for --weight (env T_WEIGHT + T_OTHER); allowed summing to 1`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	unknown := &validate.FieldError{Config: "lib.Config", Field: "Logger"}
	if Attribute(&s, unknown) != error(unknown) {
		t.Error("a field no setting fills must come back unchanged")
	}
	plain := errors.New("x")
	if Attribute(&s, plain) != plain {
		t.Error("another error must come back unchanged")
	}
}

func TestEmbeddedSettingsLoadAndShowInHelp(t *testing.T) {
	var s appSettings
	if err := Load(&s, Source{Name: "t", Getenv: envOf(map[string]string{"T_TIMEOUT": "1s"}), DotEnv: "-"}); err != nil || s.Timeout != time.Second {
		t.Fatalf("embedded from env: %v %v", s.Timeout, err)
	}
	help, err := UsageOf("t", &s)
	if err != nil || !strings.Contains(help, "--timeout") || !strings.Contains(help, "T_OTHER") {
		t.Errorf("help lacks embedded or env-only settings (%v):\n%s", err, help)
	}
	envOnly, err := EnvUsageOf("Extra:", &struct {
		A string `env:"T_A" envDefault:"x" usage:"an extra"`
	}{})
	if err != nil || envOnly != "\nExtra:\n  T_A (default \"x\") an extra; allowed a string\n" {
		t.Errorf("EnvUsageOf: %q %v", envOnly, err)
	}
	type hidden struct {
		X int `env:"T_X"`
	}
	var bad struct{ hidden }
	if err := Load(&bad, Source{Name: "t", Getenv: envOf(nil), DotEnv: "-"}); err == nil {
		t.Error("an unexported embedded struct (which caarlos0/env skips) must be refused")
	}
}
