package transport

import (
	"context"
	"crypto/x509"
)

type peerCertsKey struct{}

// PeerCertificates returns the certificates the caller presented over
// (mutual) TLS, leaf first, as Node hands the peer certificate to its
// handlers. It is nil for plain connections or when the client sent none.
func PeerCertificates(ctx context.Context) []*x509.Certificate {
	certs, _ := ctx.Value(peerCertsKey{}).([]*x509.Certificate)
	return certs
}

func withPeerCerts(ctx context.Context, certs []*x509.Certificate) context.Context {
	if len(certs) == 0 {
		return ctx
	}
	return context.WithValue(ctx, peerCertsKey{}, certs)
}
