package dht

import (
	"bytes"
	"crypto/sha1"
	"net/netip"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	clk := newFakeClock()
	tk := newTokens(clk.Now())
	ip := netip.MustParseAddr("127.0.0.1")
	other := netip.MustParseAddr("10.0.0.1")

	tok := tk.issue(ip, clk.Now())
	want := sha1.Sum(append([]byte("127.0.0.1"), tk.cur[:]...))
	if !bytes.Equal(tok, want[:]) {
		t.Fatal("token must be sha1(dotted IP ‖ secret)")
	}
	if !tk.valid(tok, ip, clk.Now()) || tk.valid(tok, other, clk.Now()) {
		t.Fatal("token is bound to the IP only")
	}
	if !tk.valid(tok, netip.MustParseAddr("::ffff:127.0.0.1"), clk.Now()) {
		t.Fatal("4in6 is the same IP")
	}
	clk.Advance(4*time.Minute + 59*time.Second)
	if !tk.valid(tok, ip, clk.Now()) {
		t.Fatal("current secret")
	}
	clk.Advance(time.Second) // rotation: tok is now from the previous secret
	if !tk.valid(tok, ip, clk.Now()) {
		t.Fatal("previous secret must be accepted")
	}
	tok2 := tk.issue(ip, clk.Now())
	if bytes.Equal(tok, tok2) {
		t.Fatal("new secret, new token")
	}
	clk.Advance(5 * time.Minute) // tok is two secrets old
	if tk.valid(tok, ip, clk.Now()) {
		t.Fatal("older than previous must be rejected")
	}
	if !tk.valid(tok2, ip, clk.Now()) {
		t.Fatal("tok2 is from the previous secret")
	}
	clk.Advance(time.Hour)
	if tk.valid(tok2, ip, clk.Now()) {
		t.Fatal("after a long pause both secrets are fresh")
	}
	if tk.valid(nil, ip, clk.Now()) || tk.valid([]byte("short"), ip, clk.Now()) {
		t.Fatal("garbage token")
	}
}
