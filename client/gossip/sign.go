package gossip

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Signature errors, wrapped with detail.
var (
	// ErrBadSignature: key or sig do not decode, or the signature does not verify.
	ErrBadSignature = errors.New("gossip: bad signature")
	// ErrUntrusted: trusted keys are configured and the message is unsigned
	// or signed by another key.
	ErrUntrusted = errors.New("gossip: untrusted signer")
)

// canonicalPrefix separates this signature domain from any other use of the
// same key.
const canonicalPrefix = "grenache-gossip-hints/1\n"

// Canonical returns the bytes a signature covers: a line-based text form that
// any language can rebuild from the decoded fields without a canonical JSON
// library. Origin, peers and states hold no '\n' or ' ' (the schema forbids
// them) and conf is written as an integer permille, so the form is exact:
//
//	grenache-gossip-hints/1\n
//	<origin>\n<seq>\n<sent>\n<key>\n
//	<peer> <state> <conf permille> <age_ms>\n   (one line per hint, in message order)
func (m *Message) Canonical() []byte {
	var b bytes.Buffer
	b.Grow(len(canonicalPrefix) + 128 + 96*len(m.Hints))
	b.WriteString(canonicalPrefix)
	b.WriteString(m.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(m.Seq, 10))
	b.WriteByte('\n')
	b.WriteString(strconv.FormatInt(m.Sent, 10))
	b.WriteByte('\n')
	b.WriteString(m.Key)
	b.WriteByte('\n')
	for i := range m.Hints {
		h := &m.Hints[i]
		b.WriteString(h.Peer)
		b.WriteByte(' ')
		b.WriteString(string(h.State))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(h.permille(), 10))
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(h.AgeMS, 10))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Sign sets Key and Sig on m using priv.
func (m *Message) Sign(priv ed25519.PrivateKey) {
	m.Key = base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	m.Sig = base64.StdEncoding.EncodeToString(ed25519.Sign(priv, m.Canonical()))
}

// Verify checks m's signature against the trust policy and returns the
// signer's key (nil for an accepted unsigned message):
//   - a signed message must verify, whatever the policy;
//   - with trusted empty, unsigned messages are accepted;
//   - with trusted set, only messages signed by one of those keys are.
func (m *Message) Verify(trusted []ed25519.PublicKey) (ed25519.PublicKey, error) {
	if m.Sig == "" {
		if len(trusted) > 0 {
			return nil, fmt.Errorf("%w: message is unsigned", ErrUntrusted)
		}
		return nil, nil
	}
	key, err := base64.StdEncoding.DecodeString(m.Key)
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: key does not decode to %d bytes", ErrBadSignature, ed25519.PublicKeySize)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Sig)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, fmt.Errorf("%w: sig does not decode to %d bytes", ErrBadSignature, ed25519.SignatureSize)
	}
	pub := ed25519.PublicKey(key)
	if len(trusted) > 0 && !containsKey(trusted, pub) {
		return nil, fmt.Errorf("%w: key %s", ErrUntrusted, m.Key)
	}
	if !ed25519.Verify(pub, m.Canonical(), sig) {
		return nil, fmt.Errorf("%w: does not verify", ErrBadSignature)
	}
	return pub, nil
}

// containsKey reports whether k is in ks.
func containsKey(ks []ed25519.PublicKey, k ed25519.PublicKey) bool {
	for _, t := range ks {
		if t.Equal(k) {
			return true
		}
	}
	return false
}

// decodeKeyText accepts hex or standard/URL base64 (padded or not), so keys
// can be pasted from common tools.
func decodeKeyText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	// Only key-sized hex (64 or 128 digits): base64 keys are 43..88
	// characters and never these lengths, so the two cannot be confused.
	if len(s) == 2*ed25519.SeedSize || len(s) == 2*ed25519.PrivateKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("neither hex nor base64")
}

// ParsePrivateKey reads an ed25519 seed (32 bytes) or private key (64 bytes)
// written in hex or base64.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	b, err := decodeKeyText(s)
	if err != nil {
		return nil, err
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		k := ed25519.PrivateKey(b)
		// The last 32 bytes must be the public key of the seed, or signatures
		// would carry a key that does not verify them.
		if !bytes.Equal(ed25519.NewKeyFromSeed(b[:32]), k) {
			return nil, errors.New("private key's public half does not match its seed")
		}
		return k, nil
	default:
		return nil, fmt.Errorf("got %d bytes, want %d (seed) or %d", len(b), ed25519.SeedSize, ed25519.PrivateKeySize)
	}
}

// ParsePublicKeys reads a comma-separated list of ed25519 public keys in hex
// or base64. Empty items are skipped.
func ParsePublicKeys(s string) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for i, item := range strings.Split(s, ",") {
		if strings.TrimSpace(item) == "" {
			continue
		}
		b, err := decodeKeyText(item)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		if len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("key %d: got %d bytes, want %d", i, len(b), ed25519.PublicKeySize)
		}
		out = append(out, ed25519.PublicKey(b))
	}
	return out, nil
}
