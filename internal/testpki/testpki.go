// Package testpki makes throwaway certificate authorities for tests and
// examples: a CA, a server certificate for 127.0.0.1 and a client
// certificate for mutual TLS, generated in memory so no key material lives
// in the repository. It is not for production use.
package testpki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// PKI is one CA with a server and a client certificate it signed, each as
// a tls.Certificate and as PEM.
type PKI struct {
	Pool           *x509.CertPool // holds the CA
	CAPEM          []byte
	Server, Client tls.Certificate
	ServerCertPEM  []byte
	ServerKeyPEM   []byte
	ClientCertPEM  []byte
	ClientKeyPEM   []byte
}

// Files are the paths Write wrote.
type Files struct{ CA, ServerCert, ServerKey, ClientCert, ClientKey string }

// New generates a CA named name and its two leaves, valid for an hour
// either side of now. The server certificate names 127.0.0.1 and
// "localhost"; the client's common name is "client of "+name.
func New(name string) (*PKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (tls.Certificate, []byte, []byte, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
			DNSNames:     []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		pk, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return tls.Certificate{}, nil, nil, err
		}
		certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, keyPEM, nil
	}
	p := &PKI{Pool: x509.NewCertPool(), CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})}
	p.Pool.AddCert(ca)
	if p.Server, p.ServerCertPEM, p.ServerKeyPEM, err = leaf(2, "server of "+name, x509.ExtKeyUsageServerAuth); err != nil {
		return nil, fmt.Errorf("server certificate: %w", err)
	}
	if p.Client, p.ClientCertPEM, p.ClientKeyPEM, err = leaf(3, "client of "+name, x509.ExtKeyUsageClientAuth); err != nil {
		return nil, fmt.Errorf("client certificate: %w", err)
	}
	return p, nil
}

// Write writes the CA and both key pairs as PEM files into dir (keys 0600).
func (p *PKI) Write(dir string) (Files, error) {
	f := Files{
		CA:         filepath.Join(dir, "ca.pem"),
		ServerCert: filepath.Join(dir, "server.pem"),
		ServerKey:  filepath.Join(dir, "server-key.pem"),
		ClientCert: filepath.Join(dir, "client.pem"),
		ClientKey:  filepath.Join(dir, "client-key.pem"),
	}
	for path, b := range map[string][]byte{f.CA: p.CAPEM, f.ServerCert: p.ServerCertPEM, f.ServerKey: p.ServerKeyPEM,
		f.ClientCert: p.ClientCertPEM, f.ClientKey: p.ClientKeyPEM} {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return Files{}, err
		}
	}
	return f, nil
}

// ServerTLS is a server config presenting the server certificate and, when
// mutual, requiring a client certificate signed by this CA.
func (p *PKI) ServerTLS(mutual bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}
	if mutual {
		c.ClientCAs = p.Pool
		c.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return c
}

// ClientTLS is a client config trusting this CA and, when mutual,
// presenting the client certificate.
func (p *PKI) ClientTLS(mutual bool) *tls.Config {
	c := &tls.Config{RootCAs: p.Pool, MinVersion: tls.VersionTLS12}
	if mutual {
		c.Certificates = []tls.Certificate{p.Client}
	}
	return c
}
