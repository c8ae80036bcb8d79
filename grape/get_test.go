package grape

import (
	"strings"
	"testing"

	"github.com/grenache-go/grenache/pkg/dht"
)

// Key order of /get replies follows Node: a local hit comes from
// createGetResponse {id, token, v[, sig, k, seq]}; a remote hit is the
// bencode-decoded reply {id[, k, seq, sig], token, v} plus the asked salt.
func TestEncodeGetResultShapes(t *testing.T) {
	var k [32]byte
	var sig [64]byte
	k[0], sig[0] = 0xaa, 0xbb
	id := dht.NodeID{1}
	hexID := "01" + strings.Repeat("00", 19)
	kh, sh := "aa"+strings.Repeat("00", 31), "bb"+strings.Repeat("00", 63)
	cases := []struct {
		res  dht.GetResult
		salt string
		want string
	}{
		{dht.GetResult{From: id, Local: true, Item: dht.Item{V: []byte("hi")}}, "",
			`{"id":"` + hexID + `","token":null,"v":"hi"}`},
		{dht.GetResult{From: id, Local: true, Item: dht.Item{V: []byte("hi"), K: &k, Sig: &sig, Seq: 3}}, "s",
			`{"id":"` + hexID + `","token":null,"v":"hi","sig":"` + sh + `","k":"` + kh + `","seq":3}`},
		{dht.GetResult{From: id, Token: []byte{0xcd}, Item: dht.Item{V: []byte("hi")}}, "",
			`{"id":"` + hexID + `","token":"cd","v":"hi"}`},
		{dht.GetResult{From: id, Token: []byte{0xcd}, Item: dht.Item{V: []byte("hi\xff"), K: &k, Sig: &sig, Seq: 3}}, "s",
			`{"id":"` + hexID + `","k":"` + kh + `","seq":3,"sig":"` + sh + `","token":"cd","v":"hi` + "\ufffd" + `","salt":"s"}`},
	}
	for i, c := range cases {
		if got := string(encodeGetResult(c.res, []byte(c.salt))); got != c.want {
			t.Errorf("case %d:\n got %s\nwant %s", i, got, c.want)
		}
	}
}
