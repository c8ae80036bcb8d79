package grape

import (
	"encoding/json"
	"testing"
)

func TestDecodeUTF8LikeNode(t *testing.T) {
	// Node 20: Buffer.from([0xe2,0x82,0x41,0xff,0xf0,0x9f,0x98]).toString()
	got := string(decodeUTF8([]byte{0xe2, 0x82, 0x41, 0xff, 0xf0, 0x9f, 0x98}))
	if want := "\uFFFDA\uFFFD\uFFFD"; got != want {
		t.Errorf("decodeUTF8 = %q, want %q", got, want)
	}
	if got := string(decodeUTF8([]byte("héllo"))); got != "héllo" {
		t.Errorf("valid input changed: %q", got)
	}
	if got := string(decodeUTF8([]byte{0xed, 0xa0, 0x80})); got != "\uFFFD\uFFFD\uFFFD" {
		t.Errorf("surrogate bytes: %q", got)
	}
}

func TestJSONStringLikeStringify(t *testing.T) {
	// Node 20: JSON.stringify("a\u2028b<>&\x7f\x1f\b\f")
	got := string(jsonString("a\u2028b<>&\x7f\x1f\b\f"))
	if want := "\"a\u2028b<>&\x7f\\u001f\\b\\f\""; got != want {
		t.Errorf("jsonString = %q, want %q", got, want)
	}
}

func TestJSValues(t *testing.T) {
	for in, want := range map[string]bool{`0`: false, `-0`: false, `0.0e3`: false, `""`: false, `"0"`: true, `[]`: true, `{}`: true, `null`: false, `false`: false, `1e400`: true} {
		v, ok := parseBody([]byte(in))
		if !ok {
			t.Fatalf("parse %s failed", in)
		}
		if truthy(v) != want {
			t.Errorf("truthy(%s) = %v", in, !want)
		}
	}
	for in, want := range map[string]bool{`1`: true, `1.0`: true, `1e3`: true, `1.5`: false, `1e400`: false, `-7`: true} {
		if isInteger(json.Number(in)) != want {
			t.Errorf("isInteger(%s) != %v", in, want)
		}
	}
	if _, ok := parseBody([]byte("\xef\xbb\xbf{}")); ok {
		t.Error("a BOM must not parse, JSON.parse rejects it")
	}
	if v, ok := parseBody([]byte(" {\"data\":\"\xff\"} ")); !ok || prop(v, "data") != "\uFFFD" {
		t.Errorf("invalid UTF-8 inside a string must become U+FFFD, got %#v", v)
	}
	if got := hexPrefix("6d3zab"); len(got) != 1 || got[0] != 0x6d {
		t.Errorf("hexPrefix stops at the first bad pair: %x", got)
	}
	if got := bufferFromArray([]any{json.Number("257"), json.Number("-1"), true, "5", nil}); string(got) != "\x01\xff\x01\x05\x00" {
		t.Errorf("bufferFromArray = %x", got)
	}
}
