package grape

import (
	"context"
	"encoding/hex"
	"math"

	"github.com/grenache-go/grenache/pkg/dht"
)

// put handles /put: data is {v[, k, sig, seq, salt, cas]} or a bare string
// (Node wraps a string as {v}). Validation messages and their order are the
// ones bittorrent-dht throws, which Node grapes pass on as JSON strings.
func (g *Grape) put(ctx context.Context, data any) reply {
	switch data.(type) {
	case nil, undefinedT:
		return rawError(jsTypeError(data, "k"))
	case string:
		data = map[string]any{"v": data}
	}
	item, errRep := buildItem(data)
	if errRep != nil {
		return *errRep
	}
	target, err := g.node.Put(ctx, item)
	if err != nil {
		return dhtErrorReply(err)
	}
	return okJSON(jsonString(hex.EncodeToString(target[:])))
}

// buildItem checks a /put request the way bittorrent-dht's put() does.
func buildItem(data any) (dht.Item, *reply) {
	fail := func(msg string) (dht.Item, *reply) { r := appError(msg); return dht.Item{}, &r }
	throw := func(msg string) (dht.Item, *reply) { r := rawError(msg); return dht.Item{}, &r }

	kv, sigv, saltv := prop(data, "k"), prop(data, "sig"), prop(data, "salt")
	mutable := truthy(kv)
	var k, sig, salt []byte
	var msg string
	if mutable {
		// The grape converts k, sig and salt before put() validates.
		if k, msg = hexArg(kv); msg != "" {
			return throw(msg)
		}
		if truthy(sigv) {
			if sig, msg = hexArg(sigv); msg != "" {
				return throw(msg)
			}
		}
		if truthy(saltv) {
			if salt, msg = bufferFrom(saltv); msg != "" {
				return throw(msg)
			}
		}
	}

	v := prop(data, "v")
	var value string
	switch x := v.(type) {
	case undefinedT:
		return fail("opts.v not given")
	case nil:
		return fail("Cannot read properties of null (reading 'length')")
	case string:
		if utf16Len(x) >= 1000 {
			return fail("v must be less than 1000 bytes in put()")
		}
		value = x
	case []any:
		if len(x) >= 1000 {
			return fail("v must be less than 1000 bytes in put()")
		}
		return fail("opts.v must be a string")
	default:
		// Node would bencode numbers and objects as such; BEP44 values here
		// are byte strings only.
		return fail("opts.v must be a string")
	}
	item := dht.Item{V: []byte(value)}
	if !mutable {
		return item, nil
	}

	cas := prop(data, "cas")
	if _, isUndef := cas.(undefinedT); !isUndef {
		if _, isNum := cas.(jsonNumber); !isNum {
			return fail("opts.cas must be an integer if provided")
		}
	}
	if len(k) != 32 {
		return fail("opts.k ed25519 public key must be 32 bytes")
	}
	if sig == nil {
		return fail("opts.sign function or options.sig signature is required for mutable put")
	}
	if len(salt) > 64 {
		return fail("opts.salt is > 64 bytes long")
	}
	seqv := prop(data, "seq")
	if _, isUndef := seqv.(undefinedT); isUndef {
		return fail("opts.seq not provided for a mutable update")
	}
	if !isInteger(seqv) || math.Abs(number(seqv.(jsonNumber))) > 1<<53 {
		return fail("opts.seq not an integer")
	}
	if len(sig) != 64 {
		// Node would send it and get no reply from any node.
		return fail("opts.sig ed25519 signature must be 64 bytes")
	}
	var kk [32]byte
	var ss [64]byte
	copy(kk[:], k)
	copy(ss[:], sig)
	item.K, item.Sig = &kk, &ss
	item.Seq = int64(number(seqv.(jsonNumber)))
	item.Salt = salt
	if c, isNum := cas.(jsonNumber); isNum {
		if !isInteger(c) || math.Abs(number(c)) > 1<<53 {
			return fail("opts.cas must be an integer if provided")
		}
		n := int64(number(c))
		item.Cas = &n
	}
	return item, nil
}

// hexArg is the grape's conversion of k and sig: a string is hex (decoded up
// to the first bad pair), an array gives its bytes, anything else throws.
func hexArg(v any) ([]byte, string) {
	switch x := v.(type) {
	case string:
		return hexPrefix(x), ""
	case []any:
		return bufferFromArray(x), ""
	}
	return nil, bufferFromError(v)
}
