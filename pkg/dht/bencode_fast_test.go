package dht

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/anacrolix/torrent/bencode"
)

// libDecode is decodeMsg as it was before the fast path: the library's
// reflection decoder, the reference the fast decoder must agree with.
func libDecode(b []byte) (m msg, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = msg{}, fmt.Errorf("%w: %v", errBadPacket, r)
		}
	}()
	if len(b) == 0 || b[0] != 'd' {
		return msg{}, errBadPacket
	}
	if err := bencode.Unmarshal(b, &m); err != nil {
		return msg{}, err
	}
	return m, nil
}

// fastCaseMsgs is every message shape the node sends or receives: each
// query type with its options, replies with nodes, values (0, 1 and 100),
// tokens, BEP44 items of every v type, and every error code.
func fastCaseMsgs() map[string]*msg {
	id := strings.Repeat("\xab", 20)
	tok := "\xa5\xf6\xcaJ8\xa5!\xd3\xb8\x1fh[\x97n\x95(\x8f\x08\x16\x99"
	nodes := strings.Repeat("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x7f\x00\x00\x01N!", 8)
	k := strings.Repeat("k", 32)
	sig := strings.Repeat("s", 64)
	vals := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("\x7f\x00\x00\x01%c%c", byte(i>>8), byte(i))
		}
		return out
	}
	raw := func(v any) bencode.Bytes { return bencode.MustMarshal(v) }
	r := func(rp *reply) *msg { rp.ID = id; return &msg{T: "\x00\x07", Y: "r", R: rp} }
	qm := func(q string, a *args) *msg { a.ID = id; return &msg{T: "\x12\x34", Y: "q", Q: q, A: a} }
	ms := map[string]*msg{
		"ping":                        qm("ping", &args{}),
		"find_node":                   qm("find_node", &args{Target: strPtr(id)}),
		"get_peers":                   qm("get_peers", &args{InfoHash: strPtr("rpc_test")}),
		"get_peers empty hash":        qm("get_peers", &args{InfoHash: strPtr("")}),
		"announce_peer":               qm("announce_peer", &args{InfoHash: strPtr("rpc_test"), Port: i64Ptr(1337), Token: &tok}),
		"announce_peer implied 0":     qm("announce_peer", &args{InfoHash: strPtr("rpc_test"), ImpliedPort: i64Ptr(0), Port: i64Ptr(1337), Token: &tok}),
		"announce_peer implied 1":     qm("announce_peer", &args{InfoHash: strPtr("rpc_test"), ImpliedPort: i64Ptr(1), Port: i64Ptr(65535), Token: &tok}),
		"get":                         qm("get", &args{Target: strPtr(id)}),
		"get seq":                     qm("get", &args{Target: strPtr(id), Seq: i64Ptr(4)}),
		"put immutable":               qm("put", &args{Token: &tok, V: raw("Hello World!")}),
		"put mutable":                 qm("put", &args{Token: &tok, V: raw("hi"), K: &k, Sig: &sig, Seq: i64Ptr(1)}),
		"put mutable cas salt":        qm("put", &args{Token: &tok, V: raw("hi"), K: &k, Sig: &sig, Seq: i64Ptr(math.MaxInt64), Cas: i64Ptr(0), Salt: strPtr("salt")}),
		"put negative seq":            qm("put", &args{Token: &tok, V: raw(""), K: &k, Sig: &sig, Seq: i64Ptr(math.MinInt64), Cas: i64Ptr(-1)}),
		"put empty id":                {T: "", Y: "q", Q: "put", A: &args{Token: strPtr("")}},
		"unknown method":              qm("vote", &args{}),
		"ping reply":                  r(&reply{}),
		"find_node reply":             r(&reply{Nodes: &nodes}),
		"get_peers reply nodes":       r(&reply{Nodes: &nodes, Token: &tok}),
		"get_peers reply values0":     r(&reply{Token: &tok, Values: []string{}}),
		"get_peers reply values1":     r(&reply{Token: &tok, Values: vals(1)}),
		"get_peers reply values100":   r(&reply{Token: &tok, Values: vals(100)}),
		"get_peers reply empty value": r(&reply{Token: &tok, Values: []string{"", "x"}}),
		"get reply string":            r(&reply{Token: &tok, Nodes: &nodes, V: raw("Hello World!")}),
		"get reply int":               r(&reply{Token: &tok, V: raw(-42)}),
		"get reply list":              r(&reply{Token: &tok, V: raw([]any{"a", int64(1), []any{}, map[string]any{}})}),
		"get reply dict":              r(&reply{Token: &tok, V: raw(map[string]any{"a": "b", "c": []any{int64(0)}, "d": map[string]any{"e": int64(-7)}})}),
		"get reply mutable":           r(&reply{Token: &tok, V: raw("hi"), K: &k, Sig: &sig, Seq: i64Ptr(9)}),
		"zero msg":                    {},
	}
	for _, code := range []int{codeGeneric, codeServer, codeProtocol, codeMethod, codeTooLarge, codeInvalidSig, codeSaltTooBig, codeCasMismatch, codeSeqTooOld} {
		ms[fmt.Sprintf("error %d", code)] = &msg{T: "\x00\x09", Y: "e", E: krpcError(code, fmt.Sprintf("error %d text", code))}
	}
	ms["error empty list"] = &msg{T: "x", Y: "e", E: errList{}}
	ms["error odd items"] = &msg{T: "x", Y: "e", E: errList{"first a string", int64(-5), ""}}
	return ms
}

// The encoder writes exactly the library's bytes, in one exactly sized
// allocation, and the fast decoder reads them back to exactly what the
// library decodes.
func TestFastCodecMatchesLibrary(t *testing.T) {
	for name, m := range fastCaseMsgs() {
		want, err := bencode.Marshal(m)
		if err != nil {
			t.Fatalf("%s: library marshal: %v", name, err)
		}
		got, err := appendMsg([]byte("prefix"), m)
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Errorf("%s: appendMsg\n got %q (%v)\nwant prefix%q", name, got, err, want)
		}
		enc, err := encodeMsg(m)
		if err != nil || !bytes.Equal(enc, want) || cap(enc) != len(enc) {
			t.Errorf("%s: encodeMsg len %d cap %d err %v\n got %q\nwant %q", name, len(enc), cap(enc), err, enc, want)
		}
		fm, ok := decodeMsgFast(want)
		if !ok {
			t.Errorf("%s: fast decoder refused %q", name, want)
			continue
		}
		lm, err := libDecode(want)
		if err != nil {
			t.Fatalf("%s: library decode: %v", name, err)
		}
		if !reflect.DeepEqual(fm, lm) {
			t.Errorf("%s: decoded differently\nfast %#v\n lib %#v", name, fm, lm)
		}
	}
}

// What the fast encoder does not handle goes through the library, which
// gives the same bytes or the same refusal.
func TestEncodeFallback(t *testing.T) {
	for name, m := range map[string]*msg{
		"int item":      {T: "x", Y: "e", E: errList{201, "int not int64"}},
		"bytes item":    {T: "x", Y: "e", E: errList{int64(201), []byte("bytes")}},
		"nested item":   {T: "x", Y: "e", E: errList{[]any{int64(1)}}},
		"nil item":      {T: "x", Y: "e", E: errList{nil}},
		"empty args v":  {T: "x", Y: "q", Q: "put", A: &args{V: bencode.Bytes{}}},
		"empty reply v": {T: "x", Y: "r", R: &reply{V: bencode.Bytes{}}},
		"nil msg":       nil,
	} {
		want, wantErr := bencode.Marshal(m)
		got, err := encodeMsg(m)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Errorf("%s: got %q, %v; library %q, %v", name, got, err, want, wantErr)
		}
		app, err := appendMsg(nil, m)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(app, want) {
			t.Errorf("%s: appendMsg got %q, %v; library %q, %v", name, app, err, want, wantErr)
		}
	}
}

// fastMalformed are packets the fast decoder must leave to the library:
// each is either an error there or read in a way the strict subset does
// not cover.
var fastMalformed = map[string]string{
	"empty":                 "",
	"not a dict":            "li1ee",
	"truncated":             "d1:ad2:id20:abc",
	"truncated length":      "d1:t12",
	"no end":                "d1:t2:ab1:y1:q",
	"trailing bytes":        "d1:t2:ab1:y1:qeXX",
	"second message":        "d1:t2:ab1:y1:qed1:t2:ab1:y1:qe",
	"unsorted keys":         "d1:y1:q1:t2:abe",
	"duplicate keys":        "d1:t2:ab1:t2:cd1:y1:qe",
	"unsorted args":         "d1:ad2:id1:a6:target1:b4:porti1eee1:q4:ping1:t2:ab1:y1:qe",
	"duplicate args":        "d1:ad2:id1:a2:id1:bee1:q4:ping1:t2:ab1:y1:qe",
	"unsorted unknown":      "d1:t2:ab1:xd1:bi1e1:ai2ee1:y1:qe",
	"leading zero int":      "d1:ad2:id1:a4:porti01eee1:q4:ping1:t2:ab1:y1:qe",
	"minus zero":            "d1:ad2:id1:a4:porti-0eee1:q4:ping1:t2:ab1:y1:qe",
	"empty int":             "d1:ad2:id1:a4:portieee1:q4:ping1:t2:ab1:y1:qe",
	"minus only":            "d1:ad2:id1:a4:porti-eee1:q4:ping1:t2:ab1:y1:qe",
	"plus int":              "d1:ad2:id1:a4:porti+1eee1:q4:ping1:t2:ab1:y1:qe",
	"int overflow":          "d1:ad2:id1:a3:seqi9223372036854775808eee1:q3:put1:t2:ab1:y1:qe",
	"int underflow":         "d1:ad2:id1:a3:seqi-9223372036854775809eee1:q3:put1:t2:ab1:y1:qe",
	"huge unknown int":      "d1:t2:ab1:xi99999999999999999999999e1:y1:qe",
	"leading zero length":   "d1:t02:ab1:y1:qe",
	"huge length":           "d1:t99999999999999999999999:ab1:y1:qe",
	"length past end":       "d1:t9:ab1:y1:qe",
	"string for int":        "d1:ad2:id1:a4:port4:1337ee1:q4:ping1:t2:ab1:y1:qe",
	"int for string":        "d1:ti5e1:y1:qe",
	"singleton list t":      "d1:tl2:abe1:y1:qe",
	"singleton list a":      "d1:ald2:id1:aee1:q4:ping1:t2:ab1:y1:qe",
	"list for args":         "d1:ali1ee1:q4:ping1:t2:ab1:y1:qe",
	"int for reply":         "d1:ri1e1:t2:ab1:y1:re",
	"values not a list":     "d1:rd2:id1:a6:values6:abcdefe1:t2:ab1:y1:re",
	"values with int":       "d1:rd2:id1:a6:valuesli1eee1:t2:ab1:y1:re",
	"values nested":         "d1:rd2:id1:a6:valuesl6:abcdefl6:abcdefeee1:t2:ab1:y1:re",
	"e not a list":          "d1:ei201e1:t2:ab1:y1:ee",
	"e nested":              "d1:eli201eli1eee1:t2:ab1:y1:ee",
	"e big int":             "d1:eli99999999999999999999e3:abce1:t2:ab1:y1:ee",
	"e dict":                "d1:eld1:ai1eee1:t2:ab1:y1:ee",
	"int key":               "di1e1:a1:t2:ab1:y1:qe",
	"key missing value":     "d1:t2:ab1:ye",
	"unknown missing value": "d1:t2:ab1:xe",
	"v missing":             "d1:ad1:vee1:q3:put1:t2:ab1:y1:qe",
	"v loose int":           "d1:ad1:vi01ee1:q3:put1:t2:ab1:y1:qe",
	"v loose length":        "d1:ad1:v02:hie1:q3:put1:t2:ab1:y1:qe",
	"v unsorted dict":       "d1:ad1:vd1:bi1e1:ai1eee1:q3:put1:t2:ab1:y1:qe",
	"v int key":             "d1:ad1:vdi1ei1eee1:q3:put1:t2:ab1:y1:qe",
	"bad type byte":         "d1:tx1:y1:qe",
	"deep":                  "d1:x" + strings.Repeat("l", 100) + strings.Repeat("e", 100) + "1:y1:qe",
	"fast depth bound":      "d1:t2:ab1:x" + strings.Repeat("l", fastMaxDepth) + strings.Repeat("e", fastMaxDepth) + "1:y1:qe",
}

// fastAccepted are odd but strictly formed packets the fast decoder takes,
// with unknown keys at every level, and must read as the library does.
var fastAccepted = map[string]string{
	"unknown keys":      "d1:ad2:id1:a2:zzd1:xli1e2:abee3:zzzi-3ee1:q4:ping1:t2:ab1:v4:LT011:y1:q2:zzlee",
	"empty key":         "d0:i1e1:t2:ab1:y1:qe",
	"empty strings":     "d1:ad0:0:2:id0:e1:q0:1:t0:1:y0:e",
	"v string":          "d1:rd2:id1:a1:v5:helloe1:t2:ab1:y1:re",
	"v empty string":    "d1:rd2:id1:a1:v0:e1:t2:ab1:y1:re",
	"v nested":          "d1:rd2:id1:a1:vd1:ali1eli2eee1:bd1:cdeee6:valueslee1:t2:ab1:y1:re",
	"extreme ints":      "d1:ad3:casi-9223372036854775808e2:id1:a3:seqi9223372036854775807ee1:q3:put1:t2:ab1:y1:qe",
	"zero ints":         "d1:ad2:id1:a12:implied_porti0e4:porti0ee1:q13:announce_peer1:t2:ab1:y1:qe",
	"e empty":           "d1:ele1:t2:ab1:y1:ee",
	"e int and strings": "d1:eli-1e0:2:abi0ee1:t2:ab1:y1:ee",
	"just under depth":  "d1:t2:ab1:x" + strings.Repeat("l", fastMaxDepth-1) + strings.Repeat("e", fastMaxDepth-1) + "1:y1:qe",
	"no t and y":        "de",
}

func TestFastDecoderLeavesOddInputToLibrary(t *testing.T) {
	for name, s := range fastMalformed {
		if m, ok := decodeMsgFast([]byte(s)); ok {
			t.Errorf("%s: fast decoder accepted %q as %#v", name, s, m)
		}
		// decodeMsg still answers exactly as the library alone did.
		got, gotErr := decodeMsg([]byte(s))
		want, wantErr := libDecode([]byte(s))
		if (gotErr != nil) != (wantErr != nil) || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: decodeMsg %#v, %v; library %#v, %v", name, got, gotErr, want, wantErr)
		}
	}
	for name, s := range fastAccepted {
		fm, ok := decodeMsgFast([]byte(s))
		lm, err := libDecode([]byte(s))
		if !ok || err != nil || !reflect.DeepEqual(fm, lm) {
			t.Errorf("%s: fast %#v (ok %v); library %#v (%v)", name, fm, ok, lm, err)
		}
	}
}

// Decoded values must not alias the packet: the caller may reuse it.
func TestFastDecodeCopies(t *testing.T) {
	m := fastCaseMsgs()["get reply mutable"]
	m.R.Values = []string{"abcdef", "ghijkl"}
	b := bencode.MustMarshal(m)
	got, ok := decodeMsgFast(b)
	if !ok {
		t.Fatal("refused")
	}
	for i := range b {
		b[i] = 'X'
	}
	if !reflect.DeepEqual(&got, m) {
		t.Fatalf("decoded msg changed with the packet: %#v", got)
	}
}

// The point of the fast path: one allocation to encode, a handful (not one
// per field or per peer) to decode.
func TestFastCodecAllocs(t *testing.T) {
	m := fastCaseMsgs()["get_peers reply values100"]
	if n := testing.AllocsPerRun(100, func() { _, _ = encodeMsg(m) }); n != 1 {
		t.Errorf("encode: %v allocs, want 1", n)
	}
	b := bencode.MustMarshal(m)
	// replyBox, id, token, values arena, values slice, t
	if n := testing.AllocsPerRun(100, func() { _, _ = decodeMsgFast(b) }); n > 6 {
		t.Errorf("decode: %v allocs, want <= 6", n)
	}
}

// FuzzDecodeMsgFast: the fast decoder never panics; whatever it accepts
// the library reads the same way without error (so the fast path never
// changes what a packet means); and the encoder writes what it decoded as
// the library would, and that decodes back to the same msg.
func FuzzDecodeMsgFast(f *testing.F) {
	for _, m := range fastCaseMsgs() {
		f.Add(bencode.MustMarshal(m))
	}
	for _, s := range fastMalformed {
		f.Add([]byte(s))
	}
	for _, s := range fastAccepted {
		f.Add([]byte(s))
	}
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzDecodeKRPC/*")
	for _, p := range seeds {
		if raw, err := os.ReadFile(p); err == nil {
			if s, ok := strings.CutPrefix(string(raw), "go test fuzz v1\n[]byte("); ok {
				if q, err := strconv.Unquote(strings.TrimSuffix(strings.TrimSpace(s), ")")); err == nil {
					f.Add([]byte(q))
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fm, ok := decodeMsgFast(b)
		lm, err := libDecode(b)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("fast decoder accepted what the library rejects (%v): %q", err, b)
		}
		if !reflect.DeepEqual(fm, lm) {
			t.Fatalf("decoded differently from %q\nfast %#v\n lib %#v", b, fm, lm)
		}
		enc, err := encodeMsg(&fm)
		want, wantErr := bencode.Marshal(&fm)
		if (err != nil) != (wantErr != nil) || !bytes.Equal(enc, want) {
			t.Fatalf("encode of %#v: %q, %v; library %q, %v", fm, enc, err, want, wantErr)
		}
		if err != nil {
			return
		}
		again, ok := decodeMsgFast(enc)
		if !ok || !reflect.DeepEqual(again, fm) {
			t.Fatalf("round trip of %q: %#v (ok %v), want %#v", enc, again, ok, fm)
		}
	})
}
