package dht

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"net/netip"
	"time"
)

// tokenRotation is how often the token secret changes, as in bittorrent-dht.
// Tokens from the current and the previous secret are accepted, so a token
// lives 5..10 minutes; Node announcers cache tokens for up to 5 minutes.
const tokenRotation = 5 * time.Minute

// tokens issues and checks announce/put tokens: sha1(requester IP as dotted
// ASCII ‖ secret). Only the IP takes part, not the port or node id, so every
// grape on one host gets the same token (as with Node). Not safe for
// concurrent use; the Node guards it.
type tokens struct {
	cur, prev [20]byte
	rotatedAt time.Time
	random    func([]byte)
}

func newTokens(now time.Time) *tokens {
	t := &tokens{rotatedAt: now, random: func(b []byte) { _, _ = rand.Read(b) }}
	t.random(t.cur[:])
	t.random(t.prev[:])
	return t
}

// rotate advances the secrets lazily to now: after one period the current
// secret becomes the previous one; after two or more both are fresh.
func (t *tokens) rotate(now time.Time) {
	for i := 0; i < 2 && !now.Before(t.rotatedAt.Add(tokenRotation)); i++ {
		t.prev = t.cur
		t.random(t.cur[:])
		t.rotatedAt = t.rotatedAt.Add(tokenRotation)
	}
	if !now.Before(t.rotatedAt.Add(tokenRotation)) {
		t.rotatedAt = now // a long pause: both secrets are already fresh
	}
}

func tokenFor(ip netip.Addr, secret *[20]byte) []byte {
	h := sha1.New()
	h.Write([]byte(ip.Unmap().String()))
	h.Write(secret[:])
	return h.Sum(nil)
}

// issue returns the token for ip under the current secret.
func (t *tokens) issue(ip netip.Addr, now time.Time) []byte {
	t.rotate(now)
	return tokenFor(ip, &t.cur)
}

// valid accepts a token from the current or the previous secret.
func (t *tokens) valid(tok []byte, ip netip.Addr, now time.Time) bool {
	t.rotate(now)
	return subtle.ConstantTimeCompare(tok, tokenFor(ip, &t.cur)) == 1 ||
		subtle.ConstantTimeCompare(tok, tokenFor(ip, &t.prev)) == 1
}
