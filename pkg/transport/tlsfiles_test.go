package transport

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grenache-go/grenache/internal/testpki"
)

func TestLoadClientTLS(t *testing.T) {
	pki, err := testpki.New("tlsfiles CA")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := pki.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := LoadClientTLS(f.CA, f.ClientCert, f.ClientKey, "svc.example")
	if err != nil || tc.RootCAs == nil || len(tc.Certificates) != 1 || tc.ServerName != "svc.example" {
		t.Fatalf("full config: %+v %v", tc, err)
	}
	if tc, err := LoadClientTLS("", "", "", ""); err != nil || tc.RootCAs != nil || len(tc.Certificates) != 0 {
		t.Fatalf("system roots, no client certificate: %+v %v", tc, err)
	}
	if _, err := LoadClientTLS(f.CA, f.ClientCert, "", ""); !errors.Is(err, ErrTLSKeyPair) {
		t.Errorf("certificate without key: %v", err)
	}
	if _, err := LoadClientTLS(f.CA, "", f.ClientKey, ""); !errors.Is(err, ErrTLSKeyPair) {
		t.Errorf("key without certificate: %v", err)
	}
	notPEM := filepath.Join(dir, "junk")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadClientTLS(notPEM, "", "", ""); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("junk CA: %v", err)
	}
	if _, err := LoadClientTLS(f.CA, f.ClientCert, f.ServerKey, ""); err == nil || !strings.Contains(err.Error(), "client certificate") {
		t.Errorf("mismatched key: %v", err)
	}
}
