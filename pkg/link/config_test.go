package link

import (
	"errors"
	"testing"

	"github.com/grenache-go/grenache/pkg/validate"
)

// Validate names the field and what it allows; New refuses what Validate
// refuses and leaves the caller's Grapes slice alone when it trims it.
func TestValidateNamesTheField(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	cases := []struct {
		field string
		mod   func(*Config)
	}{
		{"Grapes", func(c *Config) { c.Grapes = nil }},
		{"Grapes", func(c *Config) { c.Grapes = []string{"http://127.0.0.1:1", "ftp://x"} }},
		{"RequestTimeout", func(c *Config) { c.RequestTimeout = 0 }},
		{"LookupCacheTTL", func(c *Config) { c.LookupCacheTTL = -1 }},
		{"LookupCacheSize", func(c *Config) { c.LookupCacheSize = 0 }},
		{"LookupCacheBytes", func(c *Config) { c.LookupCacheBytes = 0 }},
	}
	for _, tc := range cases {
		c := DefaultConfig()
		tc.mod(&c)
		err := c.Validate()
		var fe *validate.FieldError
		if !errors.As(err, &fe) || fe.Field != tc.field || fe.Allowed == "" {
			t.Errorf("%s: got %v", tc.field, err)
		}
		if l, err := New(c); err == nil {
			_ = l.Close()
			t.Errorf("%s: New accepted what Validate refused", tc.field)
		}
	}
	c := DefaultConfig()
	c.Grapes = []string{"http://127.0.0.1:30001/"}
	l, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if c.Grapes[0] != "http://127.0.0.1:30001/" || l.cfg.Grapes[0] != "http://127.0.0.1:30001" {
		t.Errorf("caller's %q, link's %q", c.Grapes, l.cfg.Grapes)
	}
	// With the cache off, its sizes do not matter.
	c = DefaultConfig()
	c.LookupCacheTTL, c.LookupCacheSize, c.LookupCacheBytes = 0, 0, 0
	if err := c.Validate(); err != nil {
		t.Errorf("cache off: %v", err)
	}
}
