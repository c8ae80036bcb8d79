package grape

import (
	"strings"
	"testing"
)

// Library users get the same bootstrap checks as the CLI (without the DNS
// lookup: names are resolved by the DHT at every use).
func TestConfigRejectsBadBootstrapEntries(t *testing.T) {
	for _, bad := range []string{"not a host", "127.0.0.1:99999", "127.0.0.1:0", "127.0.0.1", "[::1]:1", ":20001"} {
		cfg := DefaultConfig()
		cfg.Bootstrap = []string{"127.0.0.1:20001", bad}
		err := cfg.validate()
		if err == nil || !strings.Contains(err.Error(), "Bootstrap entry") || !strings.Contains(err.Error(), "1-65535") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	cfg := DefaultConfig()
	cfg.Bootstrap = []string{"127.0.0.1:20001", "grape-2:20002", "localhost:1"}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
}
