package dht

import (
	"strconv"

	"github.com/anacrolix/torrent/bencode"
)

// The hand-written encoder for msg. The reflection-based library encoder
// showed up in the grape's CPU and heap profiles under load (every walk
// step encodes a query, every query we answer encodes a reply), so msg is
// written out directly: one size pass, one exactly sized allocation. The
// output is byte for byte what bencode.Marshal produces for the struct tags
// in krpc.go, including the library's omitempty rules (pointers and slices
// are omitted only when nil, strings when empty); tests check this against
// the library, which remains the fallback for anything unusual.

// appendMsg appends the bencoding of m to dst: the same bytes, and the same
// error, as bencode.Marshal(m).
func appendMsg(dst []byte, m *msg) ([]byte, error) {
	if m == nil {
		m = &msg{} // the library encodes a nil *msg as the zero msg
	}
	if _, ok := msgSize(m); ok {
		return appendMsgFast(dst, m), nil
	}
	b, err := bencode.Marshal(m)
	if err != nil {
		return dst, err
	}
	return append(dst, b...), nil
}

// msgSize returns the encoded length of m, or false when m holds something
// only the library handles: an e item other than int64 or string, or a
// non-nil empty v (which the library refuses to encode).
func msgSize(m *msg) (int, bool) {
	n := 2 // d ... e
	if m.A != nil {
		s, ok := argsSize(m.A)
		if !ok {
			return 0, false
		}
		n += keySize("a") + s
	}
	if m.E != nil {
		n += keySize("e") + 2
		for _, it := range m.E {
			switch v := it.(type) {
			case int64:
				n += intSize(v)
			case string:
				n += strSize(v)
			default:
				return 0, false
			}
		}
	}
	if m.Q != "" {
		n += keySize("q") + strSize(m.Q)
	}
	if m.R != nil {
		s, ok := replySize(m.R)
		if !ok {
			return 0, false
		}
		n += keySize("r") + s
	}
	n += keySize("t") + strSize(m.T) + keySize("y") + strSize(m.Y)
	return n, true
}

func argsSize(a *args) (int, bool) {
	if a.V != nil && len(a.V) == 0 {
		return 0, false
	}
	n := 2 + intPtrSize("cas", a.Cas) + keySize("id") + strSize(a.ID) +
		intPtrSize("implied_port", a.ImpliedPort) + strPtrSize("info_hash", a.InfoHash) +
		strPtrSize("k", a.K) + intPtrSize("port", a.Port) + strPtrSize("salt", a.Salt) +
		intPtrSize("seq", a.Seq) + strPtrSize("sig", a.Sig) + strPtrSize("target", a.Target) +
		strPtrSize("token", a.Token)
	if a.V != nil {
		n += keySize("v") + len(a.V)
	}
	return n, true
}

func replySize(r *reply) (int, bool) {
	if r.V != nil && len(r.V) == 0 {
		return 0, false
	}
	n := 2 + keySize("id") + strSize(r.ID) + strPtrSize("k", r.K) + strPtrSize("nodes", r.Nodes) +
		intPtrSize("seq", r.Seq) + strPtrSize("sig", r.Sig) + strPtrSize("token", r.Token)
	if r.V != nil {
		n += keySize("v") + len(r.V)
	}
	if r.Values != nil {
		n += keySize("values") + 2
		for _, v := range r.Values {
			n += strSize(v)
		}
	}
	return n, true
}

// appendMsgFast writes m; msgSize must have accepted it.
func appendMsgFast(b []byte, m *msg) []byte {
	b = append(b, 'd')
	if m.A != nil {
		b = appendArgs(appendStr(b, "a"), m.A)
	}
	if m.E != nil {
		b = append(appendStr(b, "e"), 'l')
		for _, it := range m.E {
			switch v := it.(type) {
			case int64:
				b = appendInt(b, v)
			case string:
				b = appendStr(b, v)
			}
		}
		b = append(b, 'e')
	}
	if m.Q != "" {
		b = appendStr(appendStr(b, "q"), m.Q)
	}
	if m.R != nil {
		b = appendReply(appendStr(b, "r"), m.R)
	}
	b = appendStr(appendStr(b, "t"), m.T)
	b = appendStr(appendStr(b, "y"), m.Y)
	return append(b, 'e')
}

// appendArgs writes the "a" dict, keys in sorted order.
func appendArgs(b []byte, a *args) []byte {
	b = append(b, 'd')
	b = appendIntPtr(b, "cas", a.Cas)
	b = appendStr(appendStr(b, "id"), a.ID)
	b = appendIntPtr(b, "implied_port", a.ImpliedPort)
	b = appendStrPtr(b, "info_hash", a.InfoHash)
	b = appendStrPtr(b, "k", a.K)
	b = appendIntPtr(b, "port", a.Port)
	b = appendStrPtr(b, "salt", a.Salt)
	b = appendIntPtr(b, "seq", a.Seq)
	b = appendStrPtr(b, "sig", a.Sig)
	b = appendStrPtr(b, "target", a.Target)
	b = appendStrPtr(b, "token", a.Token)
	if a.V != nil {
		b = append(appendStr(b, "v"), a.V...) // already bencoded
	}
	return append(b, 'e')
}

// appendReply writes the "r" dict, keys in sorted order.
func appendReply(b []byte, r *reply) []byte {
	b = append(b, 'd')
	b = appendStr(appendStr(b, "id"), r.ID)
	b = appendStrPtr(b, "k", r.K)
	b = appendStrPtr(b, "nodes", r.Nodes)
	b = appendIntPtr(b, "seq", r.Seq)
	b = appendStrPtr(b, "sig", r.Sig)
	b = appendStrPtr(b, "token", r.Token)
	if r.V != nil {
		b = append(appendStr(b, "v"), r.V...)
	}
	if r.Values != nil {
		b = append(appendStr(b, "values"), 'l')
		for _, v := range r.Values {
			b = appendStr(b, v)
		}
		b = append(b, 'e')
	}
	return append(b, 'e')
}

func appendStr(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

func appendInt(b []byte, v int64) []byte {
	b = append(b, 'i')
	b = strconv.AppendInt(b, v, 10)
	return append(b, 'e')
}

func appendStrPtr(b []byte, key string, p *string) []byte {
	if p == nil {
		return b
	}
	return appendStr(appendStr(b, key), *p)
}

func appendIntPtr(b []byte, key string, p *int64) []byte {
	if p == nil {
		return b
	}
	return appendInt(appendStr(b, key), *p)
}

// decLen is the number of decimal digits of u.
func decLen(u uint64) int {
	n := 1
	for u >= 10 {
		u /= 10
		n++
	}
	return n
}

func strSize(s string) int { return decLen(uint64(len(s))) + 1 + len(s) }

func keySize(k string) int { return strSize(k) }

func intSize(v int64) int {
	if v < 0 {
		return 3 + decLen(uint64(-v)) // uint64(-MinInt64) is still 1<<63
	}
	return 2 + decLen(uint64(v))
}

func strPtrSize(key string, p *string) int {
	if p == nil {
		return 0
	}
	return keySize(key) + strSize(*p)
}

func intPtrSize(key string, p *int64) int {
	if p == nil {
		return 0
	}
	return keySize(key) + intSize(*p)
}
