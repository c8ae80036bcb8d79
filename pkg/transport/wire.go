package transport

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"unicode/utf8"
)

// Hand-rolled framing for the [a, b, c] triples. The body is validated once
// with json.Valid (a non-reflective scanner), then split into raw elements
// without decoding them: rid is echoed byte-for-byte, the payload goes to
// the handler untouched. This avoids encoding/json's reflection on the hot
// path.

var errNotArray = errors.New("not a JSON array")

// splitArray returns up to len(out) top-level elements of the JSON array in
// b, which must already be valid JSON, and the number of elements found.
// Elements beyond len(out) are ignored, like Node ignores extra elements.
func splitArray(b []byte, out [][]byte) (int, error) {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return 0, errNotArray
	}
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, nil
	}
	n := 0
	for i < len(b) {
		start := i
		i = skipValue(b, i)
		if n < len(out) {
			out[n] = b[start:i]
		}
		n++
		i = skipWS(b, i)
		if i >= len(b) || b[i] == ']' {
			break
		}
		i = skipWS(b, i+1) // the comma
	}
	if n > len(out) {
		n = len(out)
	}
	return n, nil
}

func skipWS(b []byte, i int) int {
	for i < len(b) && isJSONSpace(b[i]) {
		i++
	}
	return i
}

// isJSONSpace reports whether c is one of JSON's four whitespace bytes.
func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the valid JSON value starting at i.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '[', '{':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '[', '{':
				depth++
			case ']', '}':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // number, true, false, null
		for i < len(b) {
			switch b[i] {
			case ',', ']', '}', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// jsonString decodes a raw JSON element as a string. ok is false when the
// element is not a string; the fast path avoids encoding/json when the
// string has no escapes.
func jsonString(raw []byte) (s string, ok bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	for _, c := range inner {
		if c == '\\' {
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", false
			}
			return s, true
		}
	}
	return string(inner), true
}

// appendJSONString appends s as a JSON string literal.
func appendJSONString(dst []byte, s string) []byte {
	if !utf8.ValidString(s) {
		b, _ := json.Marshal(s) // replaces invalid bytes with U+FFFD
		return append(dst, b...)
	}
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

var nullJSON = []byte("null")

// jsFalsy reports whether a raw JSON element is falsy in JavaScript, which
// is how a Node client decides that a reply's error slot means success:
// null, false, the empty string and any spelling of zero. The strings
// "false" and "0" are truthy there, so they are errors here too.
func jsFalsy(raw []byte) bool {
	switch string(raw) {
	case "null", "false", `""`:
		return true
	}
	if len(raw) == 0 || raw[0] == '"' || raw[0] == '[' || raw[0] == '{' || raw[0] == 't' {
		return false
	}
	// A number: zero when every digit of its mantissa is 0 (-0, 0.0, 0e5).
	for _, c := range raw {
		switch {
		case c == 'e' || c == 'E':
			return true
		case c >= '1' && c <= '9':
			return false
		}
	}
	return true
}

// appendReply appends the reply triple [rid, err|null, result]. rid is the
// raw JSON of the request's rid (echoed exactly); nil means null.
func appendReply(dst, rid []byte, errMsg string, hasErr bool, result []byte) []byte {
	if rid == nil {
		rid = nullJSON
	}
	if result == nil {
		result = nullJSON
	}
	dst = append(dst, '[')
	dst = append(dst, rid...)
	dst = append(dst, ',')
	if hasErr {
		dst = appendJSONString(dst, errMsg)
	} else {
		dst = append(dst, nullJSON...)
	}
	dst = append(dst, ',')
	dst = append(dst, result...)
	return append(dst, ']')
}

// newRID returns a random UUIDv4 string. Request ids only need to be unique
// among one client's in-flight calls, not unpredictable, so the fast
// math/rand/v2 generator replaces crypto/rand on this hot path.
func newRID() string {
	var u [16]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	const hex = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[c>>4], hex[c&0xf]
		j += 2
	}
	return string(s[:])
}

// encodeResult turns a handler result into raw JSON.
func encodeResult(v any) ([]byte, error) {
	switch r := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		if len(r) == 0 {
			return nil, nil
		}
		if !json.Valid(r) {
			return nil, errors.New("invalid json.RawMessage result")
		}
		return r, nil
	default:
		return json.Marshal(v)
	}
}
