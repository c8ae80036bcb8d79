package bep44

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	anacrolix "github.com/anacrolix/dht/v2/bep44"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vectors of BEP44 that grenache-cli's tests/sign-test-vector-{1,2}.sh
// check grc-sign against: its expanded secret key (the format of
// ~/.grenache-cli/key), its public key (key.pub), the buffer grenache-put
// builds and the signature grc-sign must print.
const (
	cliSecret = "e06d3183d14159228433ed599221b80bd0a5ce8352e4bdf0262f76786ef1c74d" +
		"b7e7a9fea2c0eb269d61e3b38e450a22e754941ac78479d6c54e1faf6037881d"
	cliPublic = "77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548"
)

func TestGrenacheCLIVectors(t *testing.T) {
	key, err := KeyFromExpanded(unhex(t, cliSecret))
	if err != nil {
		t.Fatal(err)
	}
	if pub := key.PublicKey(); hex.EncodeToString(pub[:]) != cliPublic {
		t.Fatalf("public key derived from the secret: %x, want %s", pub, cliPublic)
	}
	cases := []struct {
		salt, buf, sig, target string
	}{
		{"", "3:seqi1e1:v12:Hello World!",
			"305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01",
			"4a533d47ec9c7d95b1ad75f576cffc641853b750"},
		{"foobar", "4:salt6:foobar3:seqi1e1:v12:Hello World!",
			"6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08",
			"411eba73b6f087ca51a3795d9c8c938d365e32c1"},
	}
	v := []byte("Hello World!")
	for _, c := range cases {
		buf := SignatureBuffer([]byte(c.salt), 1, v)
		if string(buf) != c.buf {
			t.Errorf("salt %q: buffer %q, want %q", c.salt, buf, c.buf)
		}
		sig, err := SignItem(key, []byte(c.salt), 1, v)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(sig) != c.sig {
			t.Errorf("salt %q: signature %x, want grenache-cli's %s", c.salt, sig, c.sig)
		}
		if !Verify(unhex(t, cliPublic), []byte(c.salt), 1, v, unhex(t, c.sig)) {
			t.Errorf("salt %q: grenache-cli's signature does not verify", c.salt)
		}
		pub := key.PublicKey()
		if tg := MutableTarget(&pub, []byte(c.salt)); hex.EncodeToString(tg[:]) != c.target {
			t.Errorf("salt %q: target %x, want %s", c.salt, tg, c.target)
		}
	}
	// The immutable target of the protocol notes (§2.7, observed on a Node grape).
	if tg := ImmutableTarget([]byte("hello world")); hex.EncodeToString(tg[:]) != "6d33adc2b6b2c14c3036feefb7fedbca1a880527" {
		t.Errorf("immutable target %x", tg)
	}
}

// A key generated here signs exactly as crypto/ed25519 and anacrolix's
// bep44 package do from the same seed, and each verifies the others.
func TestSignaturesMatchAnacrolixBEP44(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, 32)
	ours, err := KeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	std := ed25519.NewKeyFromSeed(seed)
	if pub := ours.PublicKey(); !bytes.Equal(pub[:], std.Public().(ed25519.PublicKey)) {
		t.Fatalf("public keys differ: %x vs %x", pub, std.Public())
	}
	for _, c := range []struct {
		salt string
		seq  int64
		v    string
	}{{"", 0, ""}, {"", 1, "Hello World!"}, {"s", 42, "x"}, {"a salt of some length", 1 << 50, "ünïcödé value"}} {
		item, err := anacrolix.NewItem(c.v, []byte(c.salt), c.seq, 0, std)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := SignItem(ours, []byte(c.salt), c.seq, []byte(c.v))
		if err != nil {
			t.Fatal(err)
		}
		viaStd, err := SignItem(std, []byte(c.salt), c.seq, []byte(c.v))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mine, item.Sig[:]) || !bytes.Equal(viaStd, item.Sig[:]) {
			t.Errorf("%+v: signatures differ:\n ours %x\n std  %x\n anacrolix %x", c, mine, viaStd, item.Sig)
		}
		pub := ours.PublicKey()
		bv := bencodeString([]byte(c.v))
		if !anacrolix.Verify(pub[:], []byte(c.salt), c.seq, bv, mine) {
			t.Errorf("%+v: anacrolix does not verify our signature", c)
		}
		if !Verify(pub[:], []byte(c.salt), c.seq, []byte(c.v), item.Sig[:]) {
			t.Errorf("%+v: we do not verify anacrolix's signature", c)
		}
		if tg, want := MutableTarget(&pub, []byte(c.salt)), item.Target(); tg != want {
			t.Errorf("%+v: mutable target %x, anacrolix %x", c, tg, want)
		}
		imm := anacrolix.Put{V: c.v}
		if tg, want := ImmutableTarget([]byte(c.v)), imm.Target(); tg != want {
			t.Errorf("%q: immutable target %x, anacrolix %x", c.v, tg, want)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	key, err := KeyFromSeed(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	sig, _ := SignItem(key, []byte("s"), 3, []byte("v"))
	if !Verify(pub[:], []byte("s"), 3, []byte("v"), sig) {
		t.Fatal("own signature rejected")
	}
	for name, ok := range map[string]bool{
		"other value": Verify(pub[:], []byte("s"), 3, []byte("w"), sig),
		"other seq":   Verify(pub[:], []byte("s"), 4, []byte("v"), sig),
		"other salt":  Verify(pub[:], []byte("t"), 3, []byte("v"), sig),
		"no salt":     Verify(pub[:], nil, 3, []byte("v"), sig),
		"short key":   Verify(pub[:31], []byte("s"), 3, []byte("v"), sig),
		"short sig":   Verify(pub[:], []byte("s"), 3, []byte("v"), sig[:63]),
	} {
		if ok {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := KeyFromExpanded(make([]byte, 63)); err == nil {
		t.Error("63-byte secret accepted")
	}
	if _, err := KeyFromSeed(make([]byte, 31)); err == nil {
		t.Error("31-byte seed accepted")
	}
}

// Signing from the expanded key costs what crypto/ed25519 costs from the
// seed (one base-point multiplication each).
func BenchmarkSign(b *testing.B) {
	key, _ := KeyFromSeed(make([]byte, 32))
	std := ed25519.NewKeyFromSeed(make([]byte, 32))
	v := bytes.Repeat([]byte("x"), 900)
	b.Run("expanded", func(b *testing.B) {
		for b.Loop() {
			_, _ = SignItem(key, []byte("salt"), 1, v)
		}
	})
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			_, _ = SignItem(std, []byte("salt"), 1, v)
		}
	})
	sig, _ := SignItem(key, []byte("salt"), 1, v)
	pub := key.PublicKey()
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			Verify(pub[:], []byte("salt"), 1, v, sig)
		}
	})
}
