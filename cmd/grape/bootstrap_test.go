package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// fakeDNS replaces the resolver for one test: names map to their answer,
// or to an error.
func fakeDNS(t *testing.T, answers map[string]any) {
	t.Helper()
	old := lookupIP4
	lookupIP4 = func(_ context.Context, host string) ([]netip.Addr, error) {
		switch a := answers[host].(type) {
		case []netip.Addr:
			return a, nil
		case error:
			return nil, a
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	t.Cleanup(func() { lookupIP4 = old })
}

// Every bad --bn entry is refused with exit 2, naming the flag, the
// variable, the entry and what is allowed (the example: Node runs
// alone without a word).
func TestBootstrapEntriesValidated(t *testing.T) {
	t.Chdir(t.TempDir())
	fakeDNS(t, map[string]any{"grape-2": []netip.Addr{netip.MustParseAddr("127.0.0.2")}})
	base := []string{"--dp", "0", "--aph", "0"}
	bad := []struct {
		bn   string
		env  bool
		want string
	}{
		{"not a host,127.0.0.1:99999", false, `"not a host"`},
		{"127.0.0.1:99999", false, `port "99999" is not in 1-65535`},
		{"127.0.0.1:0", true, `port "0" is not in 1-65535`},
		{"127.0.0.1", false, "not host:port"},
		{"[::1]:20001", false, "not an IPv4 address"},
		{"grape-1:20001", true, `host "grape-1" does not resolve`},
		{"bad_host-:20001", false, "neither an IPv4 address nor a DNS name"},
	}
	for _, c := range bad {
		args, env := base, map[string]string{}
		if c.env {
			env["GRAPE_BOOTSTRAP"] = c.bn
		} else {
			args = append(append([]string{}, base...), "--bn", c.bn)
		}
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, envOf(env), &out, &errb); code != 2 {
			t.Errorf("--bn %q: exit %d, want 2 (stderr %q)", c.bn, code, errb.String())
		}
		for _, w := range []string{"--bn/--bootstrap", "GRAPE_BOOTSTRAP", c.want, "allowed a comma-separated list of host:port", "1-65535"} {
			if !strings.Contains(errb.String(), w) {
				t.Errorf("--bn %q: stderr %q lacks %q", c.bn, errb.String(), w)
			}
		}
	}
	// Good entries, names that resolve included.
	cfg, _, err := load(append(append([]string{}, base...), "--bn", "127.0.0.1:20001, grape-2:20002,localhost.:1"), envOf(nil), nil)
	if err != nil || len(cfg.Bootstrap) != 3 {
		t.Fatalf("good list: %v %v", cfg.Bootstrap, err)
	}
	if err := checkBootstrapResolves(context.Background(), []string{"127.0.0.1:20001", "grape-2:20002"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
}

// A DNS that does not answer is no reason to stay down: the grape starts
// with a warning naming the setting, and the DHT retries the name.
func TestBootstrapDNSDownOnlyWarns(t *testing.T) {
	fakeDNS(t, map[string]any{"grape-2": &net.DNSError{Err: "i/o timeout", Name: "grape-2", IsTimeout: true, IsTemporary: true}})
	var warn bytes.Buffer
	if err := checkBootstrapResolves(context.Background(), []string{"grape-2:20002"}, &warn); err != nil {
		t.Fatalf("a DNS timeout must not stop the grape: %v", err)
	}
	for _, w := range []string{"warning", `"grape-2"`, "--bn/--bootstrap", "GRAPE_BOOTSTRAP", "i/o timeout", "starting anyway"} {
		if !strings.Contains(warn.String(), w) {
			t.Errorf("warning %q lacks %q", warn.String(), w)
		}
	}
	fakeDNS(t, map[string]any{"grape-2": errors.New("resolver exploded")})
	if err := checkBootstrapResolves(context.Background(), []string{"grape-2:20002"}, &warn); err != nil {
		t.Fatalf("an unclassified DNS failure must not stop the grape: %v", err)
	}
}
