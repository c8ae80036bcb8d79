package transport

import "crypto/tls"

// clientSessions is how many TLS sessions a client keeps for resumption
// when its config brings no cache: one per server name (the peer's IP),
// so enough for the hosts of a large service.
const clientSessions = 1024

// clientTLS is the config a client dials with: cfg for HTTP/1.1 (both
// Grenache wires), with a session cache unless cfg has one. A connection
// opened again, after an idle timeout or a peer's restart of its socket
// but not of its process, then resumes its TLS session: no certificates
// exchanged or verified either way, a fraction of a full mutual-TLS
// handshake. A ticket the server cannot use (another process on the same
// IP) only costs the full handshake there would have been anyway.
func clientTLS(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.NextProtos = []string{"http/1.1"}
	if c.ClientSessionCache == nil {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(clientSessions)
	}
	return c
}
