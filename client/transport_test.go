package client

import (
	"crypto/tls"
	"errors"
	"fmt"
	"testing"

	"github.com/grenache-go/grenache/pkg/transport"
)

func TestTransportValidation(t *testing.T) {
	bad := []struct {
		what  string
		mod   func(*Config)
		field string
	}{
		{"unknown transport", func(c *Config) { c.Transport = "quic" }, "Transport"},
		{"TLS with http", func(c *Config) { c.TLS = &tls.Config{} }, "TLS"},
		{"TLS with ws", func(c *Config) { c.Transport, c.TLS = TransportWS, &tls.Config{} }, "TLS"},
		{"nil per-service caller", func(c *Config) { c.Callers = map[string]transport.Caller{"svc": nil} }, "Callers"},
	}
	for _, b := range bad {
		c := DefaultConfig()
		b.mod(&c)
		var ce *ConfigError
		if err := c.Validate(); !errors.As(err, &ce) || ce.Field != b.field {
			t.Errorf("%s: %v, want a ConfigError for %s", b.what, err, b.field)
		}
	}
	for _, tr := range []string{"", TransportHTTP, TransportHTTPS, TransportWS, TransportWSS} {
		c := DefaultConfig()
		c.Transport = tr
		if tr == TransportHTTPS || tr == TransportWSS {
			c.TLS = &tls.Config{ServerName: "svc"}
		}
		if err := c.Validate(); err != nil {
			t.Errorf("transport %q: %v", tr, err)
		}
	}
}

// TestNewBuildsTheNamedCaller: New builds the Caller Transport names, and
// Callers overrides it for its services only.
func TestNewBuildsTheNamedCaller(t *testing.T) {
	override := transport.NewWSClient(transport.WSClientConfig{})
	defer override.Close()
	for tr, want := range map[string]string{
		TransportHTTP: "*transport.HTTPClient", TransportHTTPS: "*transport.HTTPClient",
		TransportWS: "*transport.WSClient", TransportWSS: "*transport.WSClient",
	} {
		cfg := DefaultConfig()
		cfg.Transport = tr
		cfg.Callers = map[string]transport.Caller{"special": override}
		c, err := New(&staticResolver{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprintf("%T", c.callerFor("any")); got != want {
			t.Errorf("%s: caller %s, want %s", tr, got, want)
		}
		if c.callerFor("special") != override {
			t.Errorf("%s: Callers did not override", tr)
		}
		_ = c.Close()
	}
}
