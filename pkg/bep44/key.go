package bep44

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"io"

	"filippo.io/edwards25519"
)

// Key is an ed25519 signing key held in the 64-byte "expanded" form that
// supercop-derived libraries (orlp/ed25519, used by grenache-cli's
// grenache-keygen, and ed25519-supercop, once used by Node's grapes) write:
// the clamped scalar followed by the nonce prefix, i.e. SHA-512 of the seed.
// The seed itself is gone, so crypto/ed25519, which needs it, cannot sign
// with such a key; Key signs with the expanded form directly and produces
// the same (deterministic) signatures as ed25519.Sign would from the seed.
//
// Key implements crypto.Signer, which is what link.PutMutable takes, so an
// ed25519.PrivateKey works there as well.
type Key struct {
	expanded [64]byte
	scalar   *edwards25519.Scalar
	public   [32]byte
}

// GenerateKey makes a new key from 32 random bytes of r (crypto/rand when
// nil).
func GenerateKey(r io.Reader) (*Key, error) {
	if r == nil {
		r = rand.Reader
	}
	var seed [ed25519.SeedSize]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, err
	}
	return KeyFromSeed(seed[:])
}

// KeyFromSeed expands a 32-byte ed25519 seed (what crypto/ed25519 calls the
// seed of a PrivateKey).
func KeyFromSeed(seed []byte) (*Key, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, errors.New("bep44: an ed25519 seed is 32 bytes")
	}
	h := sha512.Sum512(seed)
	// The clamping orlp/ed25519 applies before storing the secret key, so
	// the bytes we write equal grenache-keygen's for the same seed.
	h[0] &= 248
	h[31] &= 63
	h[31] |= 64
	return KeyFromExpanded(h[:])
}

// KeyFromExpanded takes a 64-byte expanded secret key (grenache-cli's key
// file, decoded) and derives its public key.
func KeyFromExpanded(secret []byte) (*Key, error) {
	if len(secret) != 64 {
		return nil, errors.New("bep44: an expanded ed25519 secret key is 64 bytes")
	}
	s, err := edwards25519.NewScalar().SetBytesWithClamping(secret[:32])
	if err != nil {
		return nil, err
	}
	k := &Key{scalar: s}
	copy(k.expanded[:], secret)
	copy(k.public[:], new(edwards25519.Point).ScalarBaseMult(s).Bytes())
	return k, nil
}

// PublicKey returns the 32-byte public key (BEP44's k).
func (k *Key) PublicKey() [32]byte { return k.public }

// Expanded returns the 64-byte secret key as grenache-cli stores it.
func (k *Key) Expanded() [64]byte { return k.expanded }

// Public implements crypto.Signer.
func (k *Key) Public() crypto.PublicKey { return ed25519.PublicKey(k.public[:]) }

// Sign implements crypto.Signer for pure ed25519 (opts.HashFunc() must be
// 0, as for ed25519.PrivateKey); rand is unused, signatures are
// deterministic.
func (k *Key) Sign(_ io.Reader, msg []byte, opts crypto.SignerOpts) ([]byte, error) {
	if opts != nil && opts.HashFunc() != 0 {
		return nil, errors.New("bep44: ed25519 signs the message itself, not a digest")
	}
	return k.sign(msg), nil
}

// sign is RFC 8032 §5.1.6 from the expanded key: r = H(prefix ‖ M),
// R = rB, S = r + H(R ‖ A ‖ M)·s.
func (k *Key) sign(msg []byte) []byte {
	mh := sha512.New()
	mh.Write(k.expanded[32:])
	mh.Write(msg)
	r, _ := edwards25519.NewScalar().SetUniformBytes(mh.Sum(nil)) // 64 bytes: cannot fail
	R := new(edwards25519.Point).ScalarBaseMult(r).Bytes()

	kh := sha512.New()
	kh.Write(R)
	kh.Write(k.public[:])
	kh.Write(msg)
	h, _ := edwards25519.NewScalar().SetUniformBytes(kh.Sum(nil))
	S := edwards25519.NewScalar().MultiplyAdd(h, k.scalar, r)

	sig := make([]byte, 0, ed25519.SignatureSize)
	sig = append(sig, R...)
	return append(sig, S.Bytes()...)
}

// SignItem signs a mutable item (salt, seq, v) with any ed25519 signer.
func SignItem(s crypto.Signer, salt []byte, seq int64, v []byte) ([]byte, error) {
	return s.Sign(rand.Reader, SignatureBuffer(salt, seq, v), crypto.Hash(0))
}
