package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/grenache-go/grenache/pkg/config"
	"github.com/grenache-go/grenache/pkg/dht"
)

// bootstrapAllowed is the allowed-values text of --bn errors.
const bootstrapAllowed = "a comma-separated list of " + dht.BootstrapSyntax + " that resolves to IPv4 (or '' for none)"

// bootstrapError is a bad --bn entry, worded like every other setting error.
func bootstrapError(entry string, err error) *config.Error {
	return &config.Error{Flag: "--bn/--bootstrap", Env: "GRAPE_BOOTSTRAP", Value: entry,
		From: "flag or env", Allowed: bootstrapAllowed, Err: err}
}

// checkBootstrapSyntax rejects entries that can never work, without any
// network access (Node's grape accepts them and silently runs alone).
func checkBootstrapSyntax(entries []string) error {
	for _, e := range entries {
		if _, err := dht.CheckBootstrap(e); err != nil {
			return bootstrapError(e, err)
		}
	}
	return nil
}

// resolveTimeout bounds the start-up check of bootstrap names.
const resolveTimeout = 3 * time.Second

// lookupIP4 resolves a name to IPv4 addresses; tests replace it.
var lookupIP4 = func(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
}

// checkBootstrapResolves looks up every bootstrap name once at start-up. A
// name the DNS says does not exist (or has no IPv4 address) is a settings
// error: most likely a typo. A DNS that does not answer (down, timing out)
// only earns a warning: the DHT resolves the list at every use, so the
// grape joins once the DNS is back, and refusing to start would turn a DNS
// outage into a grape outage.
func checkBootstrapResolves(ctx context.Context, entries []string, warn io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	for _, e := range entries {
		host, _, _ := net.SplitHostPort(e)
		if _, err := netip.ParseAddr(host); err == nil {
			continue
		}
		ips, err := lookupIP4(ctx, host)
		var dnsErr *net.DNSError
		switch {
		case err == nil && len(ips) > 0:
		case err == nil || errors.As(err, &dnsErr) && dnsErr.IsNotFound:
			return bootstrapError(e, fmt.Errorf("host %q does not resolve to an IPv4 address", host))
		default:
			fmt.Fprintf(warn, "grape: warning: could not resolve bootstrap host %q (--bn/--bootstrap, env GRAPE_BOOTSTRAP): %v; starting anyway, the DHT retries the name at every use\n", host, err)
		}
	}
	return nil
}
