package grape

import (
	"context"
	"encoding/hex"
	"strconv"

	"github.com/grenache-go/grenache/pkg/dht"
)

// get handles /get: data is a hex target or {hash, salt}. A miss is an empty
// 200 body, as in Node.
func (g *Grape) get(ctx context.Context, data any) reply {
	var hashv, saltv any
	switch x := data.(type) {
	case nil, undefinedT:
		return rawError(jsTypeError(data, "salt"))
	case string:
		hashv, saltv = x, undefinedValue
	default:
		hashv, saltv = prop(data, "hash"), prop(data, "salt")
	}
	var salt []byte
	if truthy(saltv) {
		var msg string
		if salt, msg = bufferFrom(saltv); msg != "" {
			return rawError(msg)
		}
	}
	hs, ok := hashv.(string)
	if !ok {
		return appError("ERR_GRAPE_GENERIC")
	}
	raw := hexPrefix(hs)
	if len(raw) != len(dht.Target{}) {
		// No node stores anything under a target of another length.
		return replyEmpty
	}
	var target dht.Target
	copy(target[:], raw)
	res, found, err := g.node.Get(ctx, target, salt)
	if err != nil {
		return dhtErrorReply(err)
	}
	if !found {
		return replyEmpty
	}
	return okJSON(encodeGetResult(res, salt))
}

// encodeGetResult writes the object a Node grape sends, in its key order:
// a local hit is {id, token:null, v[, sig, k, seq]}; a remote one carries
// the decoded KRPC reply's keys in bencode order {id[, k, seq, sig], token,
// v} plus the requested salt at the end.
func encodeGetResult(res dht.GetResult, salt []byte) []byte {
	b := []byte(`{"id":`)
	b = append(b, jsonString(hex.EncodeToString(res.From[:]))...)
	it := res.Item
	mutable := it.Sig != nil && it.K != nil
	field := func(name string, val []byte) {
		b = append(b, ',')
		b = append(b, jsonString(name)...)
		b = append(b, ':')
		b = append(b, val...)
	}
	v := jsonString(string(decodeUTF8(it.V)))
	if res.Local {
		field("token", []byte("null"))
		field("v", v)
		if mutable {
			field("sig", jsonString(hex.EncodeToString(it.Sig[:])))
			field("k", jsonString(hex.EncodeToString(it.K[:])))
			field("seq", strconv.AppendInt(nil, it.Seq, 10))
		}
		return append(b, '}')
	}
	if mutable {
		field("k", jsonString(hex.EncodeToString(it.K[:])))
		field("seq", strconv.AppendInt(nil, it.Seq, 10))
		field("sig", jsonString(hex.EncodeToString(it.Sig[:])))
	}
	if res.Token != nil {
		field("token", jsonString(hex.EncodeToString(res.Token)))
	}
	field("v", v)
	if len(salt) > 0 {
		field("salt", jsonString(string(decodeUTF8(salt))))
	}
	return append(b, '}')
}
