package transport

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzSplitArray checks the hand-rolled splitter against encoding/json on
// any valid JSON input: same element count (up to 3) and the same bytes
// for each element, and never a panic.
func FuzzSplitArray(f *testing.F) {
	for _, s := range []string{
		`["rid","key","payload"]`, `[]`, `[1]`, ` [ "a\"b" , {"x":[1,"]"]} , null ] `,
		`["r","k",{"a":[{"b":"}"}]},"extra",4]`, `[true,false,-1.5e3]`, `{"a":1}`, `"s"`, `[[],[[]],{}]`,
		`["\u005d",  "\\"  ]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var el [3][]byte
		n, err := splitArray(b, el[:])
		var want []json.RawMessage
		if json.Unmarshal(b, &want) != nil || bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
			if err == nil {
				t.Fatalf("%q: splitter accepted a non-array", b)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if n != min(len(want), 3) {
			t.Fatalf("%q: %d elements, want %d", b, n, min(len(want), 3))
		}
		for i := range n {
			if !bytes.Equal(bytes.TrimSpace(el[i]), bytes.TrimSpace(want[i])) {
				t.Fatalf("%q: element %d = %q, want %q", b, i, el[i], want[i])
			}
		}
	})
}

func TestJSONStringAndQuoting(t *testing.T) {
	for _, s := range []string{"plain", `quo"te`, "back\\slash", "nl\n\ttab", "ctl\x01", "ünï", "\xff bad utf8"} {
		q := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(q, &back); err != nil {
			t.Fatalf("%q -> %s: %v", s, q, err)
		}
		want := s
		if s == "\xff bad utf8" {
			want = "\uFFFD bad utf8"
		}
		if back != want {
			t.Fatalf("%q round-tripped to %q", s, back)
		}
		got, ok := jsonString(q)
		if !ok || got != want {
			t.Fatalf("jsonString(%s) = %q %v", q, got, ok)
		}
	}
	if _, ok := jsonString([]byte(`12`)); ok {
		t.Fatal("number accepted as string")
	}
}

func TestNewRIDIsUUIDv4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		r := newRID()
		if len(r) != 36 || r[8] != '-' || r[13] != '-' || r[14] != '4' || r[18] != '-' || r[23] != '-' ||
			!bytes.ContainsAny([]byte{r[19]}, "89ab") {
			t.Fatalf("not a uuidv4: %s", r)
		}
		if seen[r] {
			t.Fatalf("duplicate rid %s", r)
		}
		seen[r] = true
	}
}

// A Node client takes the reply's error slot as an error exactly when it is
// truthy in JavaScript; so does ours.
func TestReplyErrorSlotFollowsJSTruthiness(t *testing.T) {
	const rid = "r1"
	success := []string{`null`, `false`, `""`, `0`, `-0`, `0.0`, `0e5`, `-0.00E-3`}
	failure := map[string]string{
		`"boom"`: "boom", `"false"`: "false", `"0"`: "0", `true`: "true",
		`1`: "1", `0.5`: "0.5", `-2e3`: "-2e3", `[]`: "[]", `{}`: "{}",
	}
	for _, slot := range success {
		res, err := parseReply("a", rid, []byte(`["r1",`+slot+`,42]`))
		if err != nil || string(res) != "42" {
			t.Errorf("error slot %s: got %s, %v; want success with 42", slot, res, err)
		}
	}
	for slot, msg := range failure {
		_, err := parseReply("a", rid, []byte(`["r1",`+slot+`,42]`))
		var re *RemoteError
		if !errors.As(err, &re) || re.Msg != msg {
			t.Errorf("error slot %s: got %v; want a RemoteError %q", slot, err, msg)
		}
	}
}

// The fast path for `["rid",null,result]` takes every canonical success
// reply, and wherever it answers it agrees with the general parse,
// including on near misses of the canonical frame.
func TestPlainSuccessAgreesWithGeneralParse(t *testing.T) {
	const rid = "r1"
	canonical := []string{`["r1",null,{"a":1}]`, `["r1",null,null]`, `["r1",null,"x"]`, `["r1",null,[1,2]]`}
	nearMisses := []string{
		`["r1",null,{"a":1} ]`, `["r1",null,{"a":]`, `["r1",null,1,2]`, `["r2",null,1]`,
		`["r1",null,]`, `["r1" ,null,1]`, `["r1",nul,1]`, `["r1",null,1`, `["r1",null]`,
		`["r1","boom",null]`, `["r1",null,1]]`, `[["r1",null,1]`, `["r1",null,"a"]x]`, `["r1",null, 1]`, `["r1",null,1\n]`,
	}
	for _, reply := range canonical {
		if _, ok := plainSuccess(rid, []byte(reply)); !ok {
			t.Errorf("%s: canonical success reply missed by the fast path", reply)
		}
	}
	for _, reply := range append(canonical, nearMisses...) {
		fastRes, fast := plainSuccess(rid, []byte(reply))
		res, err := parseReplyGeneral("a", rid, []byte(reply))
		if fast && (err != nil || !bytes.Equal(res, fastRes)) {
			t.Errorf("%s: fast path says %s, general parse %s, %v", reply, fastRes, res, err)
		}
	}
}
