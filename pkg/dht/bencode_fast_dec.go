package dht

import (
	"bytes"
	"strings"

	"github.com/anacrolix/torrent/bencode"
)

// The hand-written decoder for msg. Every datagram the node receives is
// decoded, and the library's reflection path was ~20% of the grape's heap
// allocations under load. This decoder accepts only a strict, common
// subset of bencode and reports ok=false for everything else, so that
// decodeMsg falls back to the library and keeps its exact results and
// errors for odd input. Within that subset it must yield exactly what the
// library yields (the differential tests and FuzzDecodeMsgFast check it).
//
// Subset accepted: a top dict with strictly increasing keys (which also
// rules out duplicates; the library would let a later key overwrite an
// earlier one) and nothing after it; known keys holding the type their
// field has (the library also takes a one-element list for a scalar field,
// which goes to the fallback); integers without leading zeros or "-0"
// inside the int64 range; string lengths that fit in the input; nesting at
// most fastMaxDepth deep; e as a list of integers and strings only.

// fastMaxDepth bounds the nesting the fast decoder follows (the top dict is
// depth 1). It is well below the library's limit of 64, so anything
// accepted here is within the library's limit too, and the recursion in
// skip stays shallow.
const fastMaxDepth = 16

// fastDec reads bencode from b at i. Its methods leave i after the value
// they read; on failure i is unspecified and the whole decode is abandoned.
type fastDec struct {
	b []byte
	i int
}

// argsBox holds an args and the storage its pointer fields point to, so a
// query's arguments cost one allocation instead of one per field.
type argsBox struct {
	a                                          args
	cas, impliedPort, port, seq                int64
	infoHash, k, salt, sig, target, tokenValue string
}

// replyBox does the same for a reply.
type replyBox struct {
	r                     reply
	seq                   int64
	k, nodes, sig, tokenV string
}

// decodeMsgFast decodes b when it is in the strict subset described above;
// ok=false means "ask the library". It never panics, and it never
// allocates more than the input holds: every length is checked against
// the remaining input first. Decoded strings share no memory with b.
func decodeMsgFast(b []byte) (m msg, ok bool) {
	d := fastDec{b: b}
	if !d.open('d') {
		return msg{}, false
	}
	var it dictIter
	for {
		k, more, ok := it.next(&d)
		if !ok {
			return msg{}, false
		}
		if !more {
			break
		}
		switch string(k) {
		case "a":
			m.A, ok = d.args()
		case "e":
			m.E, ok = d.errList()
		case "q":
			var s []byte
			s, ok = d.str()
			m.Q = internQuery(s)
		case "r":
			m.R, ok = d.reply()
		case "t":
			m.T, ok = d.string()
		case "y":
			m.Y, ok = d.string()
		default:
			ok = d.skip(2)
		}
		if !ok {
			return msg{}, false
		}
	}
	if d.i != len(b) {
		return msg{}, false // the library reports trailing bytes as an error
	}
	return m, true
}

// internQuery returns the method names we know as constants, saving an
// allocation per query.
func internQuery(s []byte) string {
	switch string(s) {
	case "ping":
		return "ping"
	case "find_node":
		return "find_node"
	case "get_peers":
		return "get_peers"
	case "announce_peer":
		return "announce_peer"
	case "get":
		return "get"
	case "put":
		return "put"
	case queryUnannounce:
		return queryUnannounce
	}
	return string(s)
}

func (d *fastDec) args() (*args, bool) {
	if !d.open('d') {
		return nil, false
	}
	x := new(argsBox)
	var it dictIter
	for {
		k, more, ok := it.next(d)
		if !ok {
			return nil, false
		}
		if !more {
			return &x.a, true
		}
		switch string(k) {
		case "cas":
			ok = d.intField(&x.a.Cas, &x.cas)
		case "id":
			x.a.ID, ok = d.string()
		case "implied_port":
			ok = d.intField(&x.a.ImpliedPort, &x.impliedPort)
		case "info_hash":
			ok = d.strField(&x.a.InfoHash, &x.infoHash)
		case "k":
			ok = d.strField(&x.a.K, &x.k)
		case "port":
			ok = d.intField(&x.a.Port, &x.port)
		case "salt":
			ok = d.strField(&x.a.Salt, &x.salt)
		case "seq":
			ok = d.intField(&x.a.Seq, &x.seq)
		case "sig":
			ok = d.strField(&x.a.Sig, &x.sig)
		case "target":
			ok = d.strField(&x.a.Target, &x.target)
		case "token":
			ok = d.strField(&x.a.Token, &x.tokenValue)
		case "v":
			x.a.V, ok = d.raw(3)
		default:
			ok = d.skip(3)
		}
		if !ok {
			return nil, false
		}
	}
}

func (d *fastDec) reply() (*reply, bool) {
	if !d.open('d') {
		return nil, false
	}
	x := new(replyBox)
	var it dictIter
	for {
		k, more, ok := it.next(d)
		if !ok {
			return nil, false
		}
		if !more {
			return &x.r, true
		}
		switch string(k) {
		case "id":
			x.r.ID, ok = d.string()
		case "k":
			ok = d.strField(&x.r.K, &x.k)
		case "nodes":
			ok = d.strField(&x.r.Nodes, &x.nodes)
		case "seq":
			ok = d.intField(&x.r.Seq, &x.seq)
		case "sig":
			ok = d.strField(&x.r.Sig, &x.sig)
		case "token":
			ok = d.strField(&x.r.Token, &x.tokenV)
		case "v":
			x.r.V, ok = d.raw(3)
		case "values":
			x.r.Values, ok = d.values()
		default:
			ok = d.skip(3)
		}
		if !ok {
			return nil, false
		}
	}
}

// values reads a list of byte strings. All of them share one backing
// string (two allocations for the whole list instead of one per peer);
// callers turn them into addresses right away, so nothing big is pinned.
// An empty list is a non-nil empty slice, as the library makes it.
func (d *fastDec) values() ([]string, bool) {
	if !d.open('l') {
		return nil, false
	}
	start := d.i
	n, total := 0, 0
	for !d.at('e') {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		n++
		total += len(s)
	}
	if d.i >= len(d.b) {
		return nil, false
	}
	end := d.i + 1
	out := make([]string, 0, n)
	var sb strings.Builder
	sb.Grow(total)
	d.i = start
	for range n {
		s, _ := d.str() // validated above
		sb.Write(s)
	}
	arena := sb.String()
	d.i, total = start, 0
	for range n {
		s, _ := d.str()
		out = append(out, arena[total:total+len(s)])
		total += len(s)
	}
	d.i = end
	return out, true
}

// errList reads e as a list of int64s and strings, the only shapes KRPC
// errors take; anything else (nested values, huge integers) is left to
// the library. An empty list is a non-nil empty errList, as the library
// makes it.
func (d *fastDec) errList() (errList, bool) {
	if !d.open('l') {
		return nil, false
	}
	e := make(errList, 0, 2)
	for {
		if d.i >= len(d.b) {
			return nil, false
		}
		switch c := d.b[d.i]; {
		case c == 'e':
			d.i++
			return e, true
		case c == 'i':
			v, ok := d.int()
			if !ok {
				return nil, false
			}
			e = append(e, v)
		default:
			s, ok := d.string()
			if !ok {
				return nil, false
			}
			e = append(e, s)
		}
	}
}

// raw reads any value (strictly formed) and returns a copy of its bytes, as
// bencode.Bytes holds it. depth is the depth the value would have.
func (d *fastDec) raw(depth int) (bencode.Bytes, bool) {
	start := d.i
	if !d.skip(depth) {
		return nil, false
	}
	return bytes.Clone(d.b[start:d.i]), true
}

// skip reads one value of any type. Dict keys must be byte strings in
// strictly increasing order, as the library's generic decoder (which reads
// unknown keys) demands; integers follow int's rules.
func (d *fastDec) skip(depth int) bool {
	if d.i >= len(d.b) {
		return false
	}
	switch c := d.b[d.i]; {
	case c == 'i':
		_, ok := d.int()
		return ok
	case c >= '0' && c <= '9':
		_, ok := d.str()
		return ok
	case c == 'l':
		if depth > fastMaxDepth {
			return false
		}
		d.i++
		for !d.at('e') {
			if !d.skip(depth + 1) {
				return false
			}
		}
		if d.i >= len(d.b) {
			return false
		}
		d.i++
		return true
	case c == 'd':
		if depth > fastMaxDepth {
			return false
		}
		d.i++
		var it dictIter
		for {
			_, more, ok := it.next(d)
			if !ok {
				return false
			}
			if !more {
				return true
			}
			if !d.skip(depth + 1) {
				return false
			}
		}
	}
	return false
}

// dictIter walks the keys of a dict whose opening 'd' is consumed.
type dictIter struct {
	last    []byte
	started bool
}

// next reads the next key. more=false (with ok) means the dict ended and
// its 'e' is consumed; a key not above the previous one is not ok.
func (it *dictIter) next(d *fastDec) (k []byte, more, ok bool) {
	if d.i >= len(d.b) {
		return nil, false, false
	}
	if d.b[d.i] == 'e' {
		d.i++
		return nil, false, true
	}
	k, ok = d.str()
	if !ok || (it.started && bytes.Compare(k, it.last) <= 0) {
		return nil, false, false
	}
	it.last, it.started = k, true
	return k, true, true
}

// open consumes the container opener c.
func (d *fastDec) open(c byte) bool {
	if d.i >= len(d.b) || d.b[d.i] != c {
		return false
	}
	d.i++
	return true
}

// at reports whether the next byte is c; false at the end of input too
// (callers check the end separately).
func (d *fastDec) at(c byte) bool {
	return d.i >= len(d.b) || d.b[d.i] == c
}

// str reads a byte string and returns it aliased into the input. The
// length has no leading zeros and must fit in what is left of the input.
func (d *fastDec) str() ([]byte, bool) {
	b, i := d.b, d.i
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return nil, false
	}
	n := 0
	if b[i] == '0' {
		i++
	} else {
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			n = n*10 + int(b[i]-'0')
			if n > len(b) {
				return nil, false
			}
		}
	}
	if i >= len(b) || b[i] != ':' {
		return nil, false
	}
	i++
	if n > len(b)-i {
		return nil, false
	}
	d.i = i + n
	return b[i : i+n], true
}

// string reads a byte string into a fresh Go string.
func (d *fastDec) string() (string, bool) {
	s, ok := d.str()
	return string(s), ok
}

// int reads an integer: "0", or an optional '-' then a non-zero digit and
// more digits, within int64.
func (d *fastDec) int() (int64, bool) {
	b, i := d.b, d.i
	if i >= len(b) || b[i] != 'i' {
		return 0, false
	}
	i++
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	if i >= len(b) || b[i] < '0' || b[i] > '9' {
		return 0, false
	}
	if b[i] == '0' {
		if neg || i+1 >= len(b) || b[i+1] != 'e' {
			return 0, false
		}
		d.i = i + 2
		return 0, true
	}
	var u uint64
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if u > (1<<63)/10 {
			return 0, false
		}
		u = u*10 + uint64(b[i]-'0')
		if u > 1<<63 {
			return 0, false
		}
	}
	if i >= len(b) || b[i] != 'e' || (!neg && u > 1<<63-1) {
		return 0, false
	}
	d.i = i + 1
	if neg {
		return -int64(u), true // u == 1<<63 wraps to MinInt64, as wanted
	}
	return int64(u), true
}

// strField reads a string into *store and points *dst at it.
func (d *fastDec) strField(dst **string, store *string) bool {
	s, ok := d.string()
	*store, *dst = s, store
	return ok
}

// intField reads an integer into *store and points *dst at it.
func (d *fastDec) intField(dst **int64, store *int64) bool {
	v, ok := d.int()
	*store, *dst = v, store
	return ok
}
