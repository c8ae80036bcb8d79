package grape

import (
	"testing"
)

// checkFastAgreesWithSlow: whenever the shortcut accepts a body, the exact
// Node path must read the same data string from it.
func checkFastAgreesWithSlow(t *testing.T, body []byte) (string, bool) {
	t.Helper()
	got, ok := parseFast(body)
	if !ok {
		return "", false
	}
	msg, valid := parseBody(body)
	if !valid {
		t.Fatalf("fast path accepted %q, which JSON.parse rejects", body)
	}
	if s, isStr := prop(msg, "data").(string); !isStr || s != got {
		t.Fatalf("fast path read %q from %q, slow path %#v", got, body, prop(msg, "data"))
	}
	return got, true
}

func TestParseFast(t *testing.T) {
	for _, c := range []struct {
		body string
		want string
		ok   bool
	}{
		{`{"data":"svc"}`, "svc", true},
		{`{"rid":"c1450059-ae6d-44ee-a64a-d1085e75991d","data":"rest:net:util"}`, "rest:net:util", true},
		{" \r\n\t{ \"data\" : \"a b\" , \"rid\":\"x\" }\n ", "a b", true},
		{`{"data":"first","data":"last"}`, "last", true}, // JS: last wins
		{`{"data":"héllo ✓"}`, "héllo ✓", true},
		{`{"data":""}`, "", true},
		// Everything else goes the slow, exact way.
		{`{"data":"a\"b"}`, "", false},
		{`{"data":"\u0041"}`, "", false},
		{`{"data":["svc",1]}`, "", false},
		{`{"data":1}`, "", false},
		{`{"rid":1,"data":"x"}`, "", false},
		{`{"rid":"x"}`, "", false},
		{`{}`, "", false},
		{`null`, "", false},
		{`"svc"`, "", false},
		{`{"data":"svc"} x`, "", false},
		{`{"data":"svc"`, "", false},
		{`{"data":"svc",}`, "", false},
		{`{"data" "svc"}`, "", false},
		{"{\"data\":\"a\tb\"}", "", false},            // raw control char: invalid JSON
		{"{\"data\":\"\xff\"}", "", false},            // Node replaces the byte
		{"\xef\xbb\xbf{\"data\":\"svc\"}", "", false}, // BOM: JSON.parse throws
		{"{\"data\":\"svc\"}\x00", "", false},
	} {
		got, ok := checkFastAgreesWithSlow(t, []byte(c.body))
		if ok != c.ok || got != c.want {
			t.Errorf("parseFast(%q) = %q, %v; want %q, %v", c.body, got, ok, c.want, c.ok)
		}
	}
}

// FuzzParseFast: the shortcut never disagrees with the exact path.
func FuzzParseFast(f *testing.F) {
	for _, s := range []string{`{"data":"svc"}`, `{"rid":"x","data":"y"}`, `{"data":["a",1]}`, ` {"data" : "z" } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkFastAgreesWithSlow(t, body) })
}
