package link

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// Put stores a BEP44 item through the grape and returns its target as 40
// hex characters. data is the grape's /put "data" object as is, e.g.
// map[string]any{"v": "hello"}; nothing is signed or checked here (use
// PutValue and PutMutable for that). A reply that is a string but not a
// 40-hex target is a grape error ("opts.v not given", "No nodes to query",
// ...), reported as *GrapeError rather than handed back as a hash the way
// Node's link does.
func (l *Link) Put(ctx context.Context, data any) (string, error) {
	reply, err := l.post(ctx, "put", data)
	if err != nil {
		return "", err
	}
	var s string
	if err := jsonUnmarshalString(reply, &s); err != nil {
		return "", err
	}
	if !isHex40(s) {
		return "", &GrapeError{Token: s}
	}
	return s, nil
}

// PutValue stores the immutable value v (data {"v": v}) and returns its
// target, after checking that the grape answered sha1(bencode(v)), as
// grenache-put does. v must be valid UTF-8: the grape API carries values
// as JSON strings, so other bytes could not come back unchanged.
func (l *Link) PutValue(ctx context.Context, v string) (string, error) {
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("link: put: value is not valid UTF-8, which the grape API cannot carry")
	}
	got, err := l.Put(ctx, map[string]string{"v": v})
	if err != nil {
		return "", err
	}
	return got, checkTarget(got, bep44.ImmutableTarget([]byte(v)))
}

// MutableOptions are the BEP44 fields of a mutable put besides the value.
type MutableOptions struct {
	// Salt selects one of several items under one key (at most 64 bytes,
	// UTF-8: the grape reads it as a string).
	Salt string
	// Seq is the item's sequence number; a node keeps the highest it saw
	// and refuses lower ones (status 302). grenache-put uses the current
	// time in microseconds.
	Seq int64
	// Cas, when set, makes the put succeed only where the stored item has
	// this seq (status 301 otherwise).
	Cas *int64
}

// PutMutable signs (salt, seq, v) with key per BEP44, the bytes Node's
// bittorrent-dht and grenache-cli sign, stores the item through the grape
// and returns its target sha1(k ‖ salt) after checking the grape answered
// that. key is an ed25519 signer: an ed25519.PrivateKey, or a *bep44.Key
// read from a grenache-cli key file.
//
// Only Go grapes store mutable items: Node grapes (grenache-grape ≥ 0.9.12)
// have no ed25519 verifier and answer "All queries failed".
func (l *Link) PutMutable(ctx context.Context, key crypto.Signer, v string, opts MutableOptions) (string, error) {
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok || len(pub) != ed25519.PublicKeySize {
		return "", fmt.Errorf("link: put: key is %T, not an ed25519 key", key.Public())
	}
	switch {
	case !utf8.ValidString(v):
		return "", fmt.Errorf("link: put: value is not valid UTF-8, which the grape API cannot carry")
	case !utf8.ValidString(opts.Salt):
		return "", fmt.Errorf("link: put: salt is not valid UTF-8, which the grape API cannot carry")
	case len(opts.Salt) > bep44.MaxSaltLen:
		return "", fmt.Errorf("link: put: salt is %d bytes; BEP44 allows at most %d", len(opts.Salt), bep44.MaxSaltLen)
	}
	sig, err := bep44.SignItem(key, []byte(opts.Salt), opts.Seq, []byte(v))
	if err != nil {
		return "", fmt.Errorf("link: put: signing: %w", err)
	}
	if !bep44.Verify(pub, []byte(opts.Salt), opts.Seq, []byte(v), sig) {
		return "", fmt.Errorf("link: put: the key's signature does not verify under its own public key")
	}
	data := mutablePut{V: v, K: hex.EncodeToString(pub), Sig: hex.EncodeToString(sig), Seq: opts.Seq, Salt: opts.Salt, Cas: opts.Cas}
	got, err := l.Put(ctx, data)
	if err != nil {
		return "", err
	}
	var k [32]byte
	copy(k[:], pub)
	return got, checkTarget(got, bep44.MutableTarget(&k, []byte(opts.Salt)))
}

// mutablePut is the /put data of a signed item, in grenache-put's key order.
type mutablePut struct {
	V    string `json:"v"`
	K    string `json:"k"`
	Sig  string `json:"sig"`
	Seq  int64  `json:"seq"`
	Salt string `json:"salt,omitempty"`
	Cas  *int64 `json:"cas,omitempty"`
}

// checkTarget compares the target a grape answered with the one computed
// here; a grape that stored something else must not pass unnoticed.
func checkTarget(got string, want [20]byte) error {
	if w := hex.EncodeToString(want[:]); !strings.EqualFold(got, w) {
		return &VerifyError{Target: w, Check: CheckTarget, Detail: "the grape answered target " + got}
	}
	return nil
}

// Item is a verified /get reply: the node that held the value, the token it
// issued (nil when the grape answered from its own store) and the value;
// mutable items also carry K, Sig, Seq and Salt (hex, hex, number, text).
// Raw is the grape's reply as it came.
type Item struct {
	ID    string          `json:"id"`
	Token *string         `json:"token"`
	V     string          `json:"v"`
	K     string          `json:"k,omitempty"`
	Sig   string          `json:"sig,omitempty"`
	Seq   *int64          `json:"seq,omitempty"`
	Salt  string          `json:"salt,omitempty"`
	Raw   json.RawMessage `json:"-"`
}

// Mutable reports whether the item is a signed one.
func (it *Item) Mutable() bool { return it.K != "" || it.Sig != "" }

// Get fetches the BEP44 item at target (40 hex characters; salt "" for
// none) and verifies it before returning it: an immutable value must hash
// to the target, a mutable item's key and salt must hash to it and its
// signature must verify. A failed check is a *VerifyError (errors.Is
// ErrVerify) naming the check, so a grape or DHT node that changes a value
// is caught. An empty reply (how grapes say "unknown") is ErrNotFound.
func (l *Link) Get(ctx context.Context, target, salt string) (*Item, error) {
	raw, err := hex.DecodeString(target)
	if err != nil || len(raw) != 20 {
		return nil, fmt.Errorf("link: get: target %q is not 40 hex characters", target)
	}
	var query any = target
	if salt != "" {
		query = map[string]string{"hash": target, "salt": salt}
	}
	reply, err := l.post(ctx, "get", query)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(reply)) == 0 {
		return nil, ErrNotFound
	}
	var it Item
	if err := decodeTyped(reply, &it); err != nil {
		return nil, err
	}
	it.Raw = reply
	if err := verifyItem(&it, [20]byte(raw), salt); err != nil {
		return nil, err
	}
	it.Salt = salt
	return &it, nil
}

func isHex40(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func jsonUnmarshalString(reply []byte, s *string) error {
	if err := json.Unmarshal(bytes.TrimSpace(reply), s); err != nil {
		return fmt.Errorf("link: unexpected grape reply %.200q: %w", reply, err)
	}
	return nil
}
