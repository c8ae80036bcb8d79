package dht

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// BootstrapSyntax says in words what CheckBootstrap accepts, for messages.
const BootstrapSyntax = "host:port with a port in 1-65535 and a host that is an IPv4 address or a DNS name"

// CheckBootstrap reports why hostport cannot be a bootstrap entry: it must
// be host:port, the port in 1..65535, the host an IPv4 address (the
// Grenache wire has only IPv4 formats) or a well-formed DNS name. It
// returns the host. Names are not resolved here: the node resolves them
// at every use, so one that comes up late is followed.
func CheckBootstrap(hostport string) (host string, err error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", errors.New("not host:port")
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return "", fmt.Errorf("port %q is not in 1-65535", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Unmap().Is4() {
			return "", fmt.Errorf("%s is not an IPv4 address (the Grenache wire carries IPv4 only)", host)
		}
		return host, nil
	}
	if !isDNSName(host) {
		return "", fmt.Errorf("host %q is neither an IPv4 address nor a DNS name", host)
	}
	return host, nil
}

// isDNSName checks the shape of a host name: dot-separated labels of
// letters, digits, '-' and '_' (container names use it), 1-63 bytes each,
// not starting or ending with '-', 253 bytes at most; a final dot is fine.
func isDNSName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
