// Package bep44 holds the pure parts of BEP44 (storing arbitrary data in
// the DHT) that a grape and a client must compute identically: targets, the
// byte string a mutable item's signature covers, and signature checks. It
// has no I/O, so pkg/link can verify what a grape returns without pulling
// in the DHT engine, and pkg/dht uses the same code to verify what nodes
// store.
package bep44

import (
	"crypto/ed25519"
	"crypto/sha1"
	"strconv"
)

// Limits of BEP44, also enforced by bittorrent-dht and pkg/dht.
const (
	// MaxValueLen bounds the bencoded value ("<len>:<bytes>") a node stores.
	MaxValueLen = 1000
	// MaxSaltLen bounds a mutable item's salt.
	MaxSaltLen = 64
)

// ImmutableTarget is the address of an immutable value:
// sha1(bencode(v)) = sha1("<len>:<v>").
func ImmutableTarget(v []byte) [20]byte { return sha1.Sum(bencodeString(v)) }

// MutableTarget is the address of a mutable item: sha1(k ‖ salt).
func MutableTarget(k *[32]byte, salt []byte) [20]byte {
	h := sha1.New()
	h.Write(k[:])
	h.Write(salt)
	var t [20]byte
	copy(t[:], h.Sum(nil))
	return t
}

// SignatureBuffer is the byte string a mutable item's signature covers:
// "4:salt<len>:<salt>3:seqi<seq>e1:v<len>:<v>", the salt part only when a
// salt is used. Node's bittorrent-dht, grenache-cli's grenache-put and
// anacrolix/dht/v2/bep44 build the same bytes (tests compare them).
func SignatureBuffer(salt []byte, seq int64, v []byte) []byte {
	b := make([]byte, 0, len(salt)+len(v)+48)
	if len(salt) > 0 {
		b = append(b, "4:salt"...)
		b = appendString(b, salt)
	}
	b = append(b, "3:seqi"...)
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, "e1:v"...)
	return appendString(b, v)
}

// Verify reports whether sig is k's ed25519 signature of the item (salt,
// seq, v). A k of the wrong length is not a valid key.
func Verify(k []byte, salt []byte, seq int64, v []byte, sig []byte) bool {
	if len(k) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	return ed25519.Verify(k, SignatureBuffer(salt, seq, v), sig)
}

// bencodeString is v as a bencoded byte string.
func bencodeString(v []byte) []byte { return appendString(make([]byte, 0, len(v)+5), v) }

func appendString(b, v []byte) []byte {
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}
