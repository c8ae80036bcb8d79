package gossip

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// keyN returns a deterministic test key.
func keyN(n byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = n
	return ed25519.NewKeyFromSeed(seed)
}

func pub(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// The canonical form is part of the protocol: other implementations must be
// able to rebuild it byte for byte.
func TestCanonicalFormIsFixed(t *testing.T) {
	m := &Message{Version: 1, Origin: "client-7", Seq: 42, Sent: 1800000000000, Key: "KEY",
		Hints: []Hint{{Peer: "127.0.0.1:1337", State: Degraded, Conf: 0.83, AgeMS: 1200}, {Peer: "[::1]:80", State: Healthy, Conf: 1}}}
	want := "grenache-gossip-hints/1\nclient-7\n42\n1800000000000\nKEY\n" +
		"127.0.0.1:1337 degraded 830 1200\n[::1]:80 healthy 1000 0\n"
	if got := string(m.Canonical()); got != want {
		t.Fatalf("canonical\n got %q\nwant %q", got, want)
	}
}

func TestSignedMessageSurvivesTheWire(t *testing.T) {
	clk := newClock()
	m := msg(clk, "o", 3, deg("1.2.3.4:5", 0.5))
	m.Sign(keyN(1))
	out, err := Decode(enc(t, m), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	k, err := out.Verify([]ed25519.PublicKey{pub(keyN(1))})
	if err != nil || !k.Equal(pub(keyN(1))) {
		t.Fatalf("Verify = %v, %v; want the signer's key", k, err)
	}
}

func TestTamperingBreaksTheSignature(t *testing.T) {
	clk := newClock()
	tamper := map[string]func(m *Message){
		"origin":  func(m *Message) { m.Origin = "other" },
		"seq":     func(m *Message) { m.Seq++ },
		"sent":    func(m *Message) { m.Sent++ },
		"peer":    func(m *Message) { m.Hints[0].Peer = "1.2.3.4:6" },
		"state":   func(m *Message) { m.Hints[0].State = Healthy },
		"conf":    func(m *Message) { m.Hints[0].Conf = 0.501 },
		"age":     func(m *Message) { m.Hints[0].AgeMS++ },
		"dropped": func(m *Message) { m.Hints = m.Hints[1:] },
		"reorder": func(m *Message) { m.Hints[0], m.Hints[1] = m.Hints[1], m.Hints[0] },
		"key swapped for another valid key": func(m *Message) {
			m.Key = base64.StdEncoding.EncodeToString(pub(keyN(2)))
		},
	}
	for name, f := range tamper {
		t.Run(name, func(t *testing.T) {
			m := msg(clk, "o", 3, deg("1.2.3.4:5", 0.5), ok("1.2.3.4:7", 1))
			m.Sign(keyN(1))
			f(m)
			if _, err := m.Verify(nil); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("Verify after tampering with %s = %v, want ErrBadSignature", name, err)
			}
		})
	}
}

func TestTrustPolicy(t *testing.T) {
	clk := newClock()
	signed := func(k ed25519.PrivateKey) *Message {
		m := msg(clk, "o", 1, deg("1.2.3.4:5", 1))
		m.Sign(k)
		return m
	}
	garbled := signed(keyN(1))
	garbled.Sig = "!!!"
	shortKey := signed(keyN(1))
	shortKey.Key = base64.StdEncoding.EncodeToString([]byte("short"))
	forged := signed(keyN(1))
	forged.Sig = base64.StdEncoding.EncodeToString(make([]byte, ed25519.SignatureSize))

	trusted := []ed25519.PublicKey{pub(keyN(1))}
	cases := []struct {
		name    string
		m       *Message
		trusted []ed25519.PublicKey
		want    error
	}{
		{"unsigned, no trusted keys: accepted", msg(clk, "o", 1), nil, nil},
		{"unsigned, trusted keys set: untrusted", msg(clk, "o", 1), trusted, ErrUntrusted},
		{"signed by another key, no trusted keys: accepted", signed(keyN(9)), nil, nil},
		{"signed by a trusted key: accepted", signed(keyN(1)), trusted, nil},
		{"signed by an unknown key: untrusted", signed(keyN(2)), trusted, ErrUntrusted},
		{"sig not base64: bad", garbled, nil, ErrBadSignature},
		{"key of wrong size: bad", shortKey, nil, ErrBadSignature},
		{"zero signature: bad even with a trusted key", forged, trusted, ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.m.Verify(c.trusted)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k := keyN(5)
	seed := k.Seed()
	for name, text := range map[string]string{
		"hex seed":           hex.EncodeToString(seed),
		"base64 seed":        base64.StdEncoding.EncodeToString(seed),
		"raw url b64 seed":   base64.RawURLEncoding.EncodeToString(seed),
		"hex private key":    hex.EncodeToString(k),
		"base64 private key": " " + base64.StdEncoding.EncodeToString(k) + "\n",
	} {
		got, err := ParsePrivateKey(text)
		if err != nil || !got.Equal(k) {
			t.Errorf("%s: ParsePrivateKey = %v, want the key", name, err)
		}
	}
	mismatched := append(append([]byte{}, seed...), pub(keyN(6))...)
	for name, text := range map[string]string{
		"wrong size":             hex.EncodeToString(seed[:31]),
		"not a key":              "hello world",
		"public half mismatched": hex.EncodeToString(mismatched),
	} {
		if _, err := ParsePrivateKey(text); err == nil {
			t.Errorf("%s: ParsePrivateKey accepted %q", name, text)
		}
	}

	list := hex.EncodeToString(pub(keyN(1))) + ", ," + base64.StdEncoding.EncodeToString(pub(keyN(2)))
	ks, err := ParsePublicKeys(list)
	if err != nil || len(ks) != 2 || !ks[0].Equal(pub(keyN(1))) || !ks[1].Equal(pub(keyN(2))) {
		t.Fatalf("ParsePublicKeys = %v, %v", ks, err)
	}
	if _, err := ParsePublicKeys(hex.EncodeToString(pub(keyN(1))) + "," + strings.Repeat("A", 10)); err == nil {
		t.Fatal("ParsePublicKeys accepted a 10-character key")
	}
}
