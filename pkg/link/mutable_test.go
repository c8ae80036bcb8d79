package link

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/grenache-go/grenache/grape/grapetest"
	"github.com/grenache-go/grenache/pkg/bep44"
)

func linkTo(t *testing.T, urls ...string) *Link {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Grapes = urls
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// A mutable item put through one Go grape is read, verified, from every
// grape; a higher seq replaces it, a lower one and a wrong CAS are refused,
// and a plain ed25519.PrivateKey signs as well as a grenache-cli key.
func TestPutMutableReadableFromEveryGoGrape(t *testing.T) {
	gs := grapetest.Cluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	key, err := bep44.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	put := linkTo(t, gs[0].APIURL())
	target, err := put.PutMutable(ctx, key, "first", MutableOptions{Salt: "s1", Seq: 1})
	if err != nil {
		t.Fatal(err)
	}
	pub := key.PublicKey()
	if want := bep44.MutableTarget(&pub, []byte("s1")); target != hex.EncodeToString(want[:]) {
		t.Fatalf("target %s, want %x", target, want)
	}
	for i, g := range gs {
		it, err := linkTo(t, g.APIURL()).Get(ctx, target, "s1")
		if err != nil || it.V != "first" || it.Seq == nil || *it.Seq != 1 || it.K != hex.EncodeToString(pub[:]) || it.Salt != "s1" {
			t.Fatalf("grape %d: get %+v %v", i, it, err)
		}
	}
	if _, err := put.PutMutable(ctx, key, "second", MutableOptions{Salt: "s1", Seq: 2}); err != nil {
		t.Fatal(err)
	}
	it, err := linkTo(t, gs[2].APIURL()).Get(ctx, target, "s1")
	if err != nil || it.V != "second" || *it.Seq != 2 {
		t.Fatalf("after update: %+v %v", it, err)
	}
	var se *StatusError
	if _, err := put.PutMutable(ctx, key, "older", MutableOptions{Salt: "s1", Seq: 1}); !errors.As(err, &se) || se.Status != 302 {
		t.Fatalf("lower seq: %v, want status 302", err)
	}
	cas := int64(1)
	if _, err := put.PutMutable(ctx, key, "third", MutableOptions{Salt: "s1", Seq: 3, Cas: &cas}); !errors.As(err, &se) || se.Status != 301 {
		t.Fatalf("wrong cas: %v, want status 301", err)
	}

	_, std, _ := ed25519.GenerateKey(nil)
	t2, err := put.PutMutable(ctx, std, "no salt", MutableOptions{Seq: 7})
	if err != nil {
		t.Fatal(err)
	}
	if it, err := linkTo(t, gs[1].APIURL()).Get(ctx, t2, ""); err != nil || it.V != "no salt" {
		t.Fatalf("ed25519.PrivateKey item: %+v %v", it, err)
	}
	// The same target asked with another salt cannot verify: the key and
	// salt do not hash to it (a Go grape finds nothing under it).
	if _, err := linkTo(t, gs[1].APIURL()).Get(ctx, t2, "other"); !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrVerify) {
		t.Fatalf("wrong salt: %v", err)
	}
}

// A grape that changes what it returns is caught by Get, and the error
// names the check that failed.
func TestGetDetectsTampering(t *testing.T) {
	gs := grapetest.Cluster(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	honest := linkTo(t, gs[0].APIURL())
	immutable, err := honest.PutValue(ctx, "hello world")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := bep44.GenerateKey(nil)
	mutable, err := honest.PutMutable(ctx, key, "signed", MutableOptions{Salt: "s", Seq: 5})
	if err != nil {
		t.Fatal(err)
	}
	other, _ := bep44.GenerateKey(nil)
	otherPub := other.PublicKey()
	otherSig, _ := bep44.SignItem(other, []byte("s"), 5, []byte("signed"))

	edit := func(field string, val any) func(string, []byte) []byte {
		return func(endpoint string, reply []byte) []byte {
			if endpoint != "get" {
				return reply
			}
			var m map[string]any
			if err := json.Unmarshal(reply, &m); err != nil {
				return reply
			}
			if val == nil {
				delete(m, field)
			} else {
				m[field] = val
			}
			out, _ := json.Marshal(m)
			return out
		}
	}
	cases := []struct {
		name, target, salt string
		alter              func(string, []byte) []byte
		check              string
	}{
		{"immutable value changed", immutable, "", edit("v", "hello world!"), CheckValueHash},
		{"mutable value changed", mutable, "s", edit("v", "forged"), CheckSignature},
		{"seq raised", mutable, "s", edit("seq", 6), CheckSignature},
		{"signature changed", mutable, "s", edit("sig", hex.EncodeToString(otherSig)), CheckSignature},
		{"another key, its own valid signature", mutable, "s", func(ep string, r []byte) []byte {
			r = edit("k", hex.EncodeToString(otherPub[:]))(ep, r)
			return edit("sig", hex.EncodeToString(otherSig))(ep, r)
		}, CheckKeySalt},
		{"signature dropped", mutable, "s", edit("sig", nil), CheckMalformed},
		{"short key", mutable, "s", edit("k", "abcd"), CheckMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := linkTo(t, grapetest.TamperingProxy(t, gs[1].APIURL(), c.alter))
			_, err := l.Get(ctx, c.target, c.salt)
			var ve *VerifyError
			if !errors.As(err, &ve) || !errors.Is(err, ErrVerify) || ve.Check != c.check || ve.Target != c.target {
				t.Fatalf("err %v, want a VerifyError of check %q", err, c.check)
			}
		})
	}
	// Without tampering the same proxy path passes: the checks are not
	// simply failing everything.
	l := linkTo(t, grapetest.TamperingProxy(t, gs[1].APIURL(), func(_ string, r []byte) []byte { return r }))
	if it, err := l.Get(ctx, mutable, "s"); err != nil || it.V != "signed" {
		t.Fatalf("honest proxy: %+v %v", it, err)
	}
	// A put whose reply names another target is caught too.
	wrongPut := linkTo(t, grapetest.TamperingProxy(t, gs[1].APIURL(), func(ep string, r []byte) []byte {
		if ep == "put" {
			return []byte(`"` + strings.Repeat("0", 40) + `"`)
		}
		return r
	}))
	if _, err := wrongPut.PutValue(ctx, "x"); !errors.Is(err, ErrVerify) {
		t.Fatalf("wrong put target: %v", err)
	}
}

func TestPutMutableRejectsBadInputLocally(t *testing.T) {
	hits := 0
	g := newFakeGrape(t, func(string, json.RawMessage) (int, string) { hits++; return http.StatusOK, `""` })
	l := newTestLink(t, g.URL)
	key, _ := bep44.GenerateKey(nil)
	ctx := context.Background()
	for name, opts := range map[string]MutableOptions{
		"long salt":  {Salt: strings.Repeat("s", 65)},
		"utf-8 salt": {Salt: "\xff"},
	} {
		if _, err := l.PutMutable(ctx, key, "v", opts); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := l.PutMutable(ctx, key, "\xfe", MutableOptions{}); err == nil {
		t.Error("invalid UTF-8 value accepted")
	}
	if _, err := l.Get(ctx, "abc", ""); err == nil || !strings.Contains(err.Error(), "40 hex") {
		t.Errorf("short target: %v", err)
	}
	if hits != 0 {
		t.Errorf("%d requests reached the grape", hits)
	}
}
