package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrTLSKeyPair is returned by LoadClientTLS when a client certificate is
// given without its key or a key without its certificate.
var ErrTLSKeyPair = errors.New("a client certificate needs its key, and a key its certificate")

// LoadClientTLS builds the TLS config of an HTTPS or WSS client from PEM
// files. caFile, when not empty, is the bundle the servers' certificates
// must chain to (empty: the system roots). certFile and keyFile, both or
// neither, are the client's own pair for mutual TLS. serverName, when not
// empty, is the name verified in the servers' certificates instead of the
// address dialled (Grenache peers are dialled by IP).
func LoadClientTLS(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, ErrTLSKeyPair
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
