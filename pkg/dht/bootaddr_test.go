package dht

import (
	"strings"
	"testing"
)

func TestCheckBootstrap(t *testing.T) {
	good := map[string]string{"127.0.0.1:20001": "127.0.0.1", "grape-2:1": "grape-2", "a.b_c.example.:65535": "a.b_c.example.", "localhost:20001": "localhost"}
	for in, host := range good {
		if h, err := CheckBootstrap(in); err != nil || h != host {
			t.Errorf("%q: %q %v", in, h, err)
		}
	}
	bad := map[string]string{
		"not a host": "not host:port", "127.0.0.1": "not host:port", "127.0.0.1:99999": "1-65535",
		"127.0.0.1:0": "1-65535", "127.0.0.1:x": "1-65535", "[::1]:1": "IPv4", ":1": "neither",
		"-a:1": "neither", "a..b:1": "neither", strings.Repeat("a", 64) + ":1": "neither",
	}
	for in, want := range bad {
		if _, err := CheckBootstrap(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", in, err, want)
		}
	}
	cfg := testConfig("127.0.0.1:99999")
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Bootstrap entry") {
		t.Fatalf("New: %v", err)
	}
}
