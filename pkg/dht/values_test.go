package dht

import (
	"bytes"
	"crypto/ed25519"
	"testing"

	"github.com/anacrolix/dht/v2/bep44"
)

// signed builds a mutable item signed with priv.
func signed(priv ed25519.PrivateKey, v string, seq int64, salt string) Item {
	var k [32]byte
	copy(k[:], priv.Public().(ed25519.PublicKey))
	var sig [64]byte
	copy(sig[:], ed25519.Sign(priv, SignatureBuffer([]byte(salt), seq, []byte(v))))
	it := Item{V: []byte(v), K: &k, Sig: &sig, Seq: seq}
	if salt != "" {
		it.Salt = []byte(salt)
	}
	return it
}

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, 32))
}

func TestTargets(t *testing.T) {
	if got := ImmutableTarget([]byte("hello world")).String(); got != "6d33adc2b6b2c14c3036feefb7fedbca1a880527" {
		t.Fatalf("immutable target %s (protocol B.3)", got)
	}
	priv := testKey(1)
	it := signed(priv, "x", 1, "mysalt")
	if it.Target() != Target(bep44.MakeMutableTarget(*it.K, []byte("mysalt"))) {
		t.Fatal("mutable target must be sha1(k ‖ salt) as in anacrolix/dht bep44")
	}
}

func TestSignatureBufferMatchesBEP44(t *testing.T) {
	if got := string(SignatureBuffer([]byte("mysalt"), 1, []byte("mutable hello"))); got != "4:salt6:mysalt3:seqi1e1:v13:mutable hello" {
		t.Fatalf("with salt: %q", got)
	}
	if got := string(SignatureBuffer(nil, 42, []byte("x"))); got != "3:seqi42e1:v1:x" {
		t.Fatalf("without salt: %q", got)
	}
	priv := testKey(2)
	ours := signed(priv, "mutable hello", 7, "s")
	theirs := bep44.Sign(priv, []byte("s"), 7, bencodeString([]byte("mutable hello")))
	if !bytes.Equal(ours.Sig[:], theirs) {
		t.Fatal("signature differs from anacrolix/dht bep44.Sign")
	}
}

func TestValueStoreRules(t *testing.T) {
	s := newValueStore(10, 1<<30)
	// Immutable.
	tg, err := s.put(Item{V: []byte("hello world")})
	if err != nil || tg != ImmutableTarget([]byte("hello world")) {
		t.Fatal(err)
	}
	if it, ok := s.get(tg); !ok || string(it.V) != "hello world" {
		t.Fatal("get immutable")
	}
	if _, err := s.put(Item{V: bytes.Repeat([]byte("x"), 1001)}); err == nil || err.Code != 205 {
		t.Fatalf("too large: %v", err)
	}
	if _, err := s.put(Item{V: bytes.Repeat([]byte("x"), 1000)}); err != nil {
		t.Fatalf("1000 bytes is accepted by a storing node (Node checks > 1000): %v", err)
	}

	priv := testKey(3)
	m1 := signed(priv, "v1", 1, "salt")
	if _, err := s.put(m1); err != nil {
		t.Fatal(err)
	}
	// Bad signature.
	bad := signed(priv, "v2", 2, "salt")
	bad.V = []byte("tampered")
	if _, err := s.put(bad); err == nil || err.Code != 206 {
		t.Fatalf("bad sig: %v", err)
	}
	// Signature by another key does not verify under k.
	other := signed(testKey(4), "v2", 2, "salt")
	other.K = m1.K
	if _, err := s.put(other); err == nil || err.Code != 206 {
		t.Fatalf("foreign sig: %v", err)
	}
	// Same seq, different value: 302. Same seq, same value: refresh.
	if _, err := s.put(signed(priv, "other", 1, "salt")); err == nil || err.Code != 302 {
		t.Fatalf("same seq: %v", err)
	}
	if _, err := s.put(signed(priv, "v1", 1, "salt")); err != nil {
		t.Fatalf("identical re-put: %v", err)
	}
	// Older seq: 302.
	if _, err := s.put(signed(priv, "v0", 0, "salt")); err == nil || err.Code != 302 {
		t.Fatalf("older seq: %v", err)
	}
	// CAS must name the stored seq.
	m2 := signed(priv, "v2", 2, "salt")
	wrong := int64(5)
	m2.Cas = &wrong
	if _, err := s.put(m2); err == nil || err.Code != 301 {
		t.Fatalf("cas mismatch: %v", err)
	}
	right := int64(1)
	m2.Cas = &right
	if _, err := s.put(m2); err != nil {
		t.Fatalf("cas ok: %v", err)
	}
	if it, _ := s.get(m1.Target()); string(it.V) != "v2" || it.Seq != 2 {
		t.Fatalf("stored %q seq %d", it.V, it.Seq)
	}
	// Salt over 64 bytes: 207.
	long := signed(priv, "v", 1, string(bytes.Repeat([]byte("s"), 65)))
	if _, err := s.put(long); err == nil || err.Code != 207 {
		t.Fatalf("salt too big: %v", err)
	}
	// A different salt is a different target.
	if _, err := s.put(signed(priv, "v", 1, "")); err != nil {
		t.Fatal(err)
	}
}

func TestValueStoreLRUBound(t *testing.T) {
	s := newValueStore(2, 1<<30)
	a, _ := s.put(Item{V: []byte("a")})
	b, _ := s.put(Item{V: []byte("b")})
	s.get(a) // a is now most recent
	s.put(Item{V: []byte("c")})
	if _, ok := s.get(b); ok {
		t.Fatal("least recently used evicted")
	}
	if _, ok := s.get(a); !ok || s.len() != 2 {
		t.Fatal("a kept")
	}
}
