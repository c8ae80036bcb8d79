package grape

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The grape API was defined by what a JavaScript program does with
// JSON.parse output, so request data is handled as JS values: nil is JSON
// null, undefinedValue is a missing property, numbers stay json.Number
// (JSON.parse never fails on range, Go's float64 decoding would).
type undefinedT struct{}

var undefinedValue any = undefinedT{}

// parseBody does what Node's `JSON.parse(buf.toString())` does: decode the
// bytes as UTF-8 with WHATWG replacement, then parse exactly one JSON value.
func parseBody(body []byte) (any, bool) {
	text := decodeUTF8(body)
	if !json.Valid(text) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// prop reads obj[name] the way JS does for JSON values: only objects have
// own properties; reading from null is the caller's TypeError to raise.
func prop(obj any, name string) any {
	if m, ok := obj.(map[string]any); ok {
		if v, ok := m[name]; ok {
			return v
		}
	}
	return undefinedValue
}

// number returns the float64 a JS engine would hold for a JSON number.
func number(n json.Number) float64 {
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

// isInteger is Number.isInteger.
func isInteger(v any) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	f := number(n)
	return !math.IsInf(f, 0) && !math.IsNaN(f) && f == math.Trunc(f)
}

// truthy is JS truthiness for JSON values.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil, undefinedT:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case json.Number:
		f := number(x)
		return f != 0 && !math.IsNaN(f)
	default:
		return true
	}
}

// jsTypeError is the message V8 gives for reading a property of null or
// undefined, which Node grapes send as a raw 500 body.
func jsTypeError(v any, property string) string {
	what := "undefined"
	if v == nil {
		what = "null"
	}
	return "Cannot read properties of " + what + " (reading '" + property + "')"
}

// bufferFromError is Node's message for Buffer.from(v) with an unusable v.
func bufferFromError(v any) string {
	const prefix = "The first argument must be of type string or an instance of Buffer, ArrayBuffer, or Array or an Array-like Object. Received "
	switch x := v.(type) {
	case nil:
		return prefix + "null"
	case undefinedT:
		return prefix + "undefined"
	case bool:
		return prefix + "type boolean (" + strconv.FormatBool(x) + ")"
	case json.Number:
		return prefix + "type number (" + jsNumberString(x) + ")"
	default:
		return prefix + "an instance of Object"
	}
}

// jsNumberString formats a number like JS String(n) for the common cases.
func jsNumberString(n json.Number) string {
	f := number(n)
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	default:
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
}

// bufferFromArray is Buffer.from(array): each element becomes ToUint8 of its
// numeric value (non-numbers count as 0 here, a simplification).
func bufferFromArray(a []any) []byte {
	out := make([]byte, len(a))
	for i, e := range a {
		var f float64
		switch x := e.(type) {
		case json.Number:
			f = number(x)
		case bool:
			if x {
				f = 1
			}
		case string:
			if p, err := strconv.ParseFloat(strings.TrimSpace(x), 64); err == nil {
				f = p
			}
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			f = 0
		}
		out[i] = byte(int64(math.Trunc(math.Mod(f, 256))))
	}
	return out
}

// jsonString encodes s like JSON.stringify: only '"', '\\' and control
// characters are escaped (Go's encoder also escapes <, >, & and U+2028/9).
func jsonString(s string) []byte {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\b':
			b = append(b, '\\', 'b')
		case c == '\f':
			b = append(b, '\\', 'f')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// decodeUTF8 is the WHATWG UTF-8 decode Node's Buffer#toString does: each
// maximal invalid subpart becomes one U+FFFD. Valid input is returned as is.
func decodeUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			out = append(out, c)
			i++
			continue
		}
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 2
		case c == 0xED:
			need, hi = 2, 0x9F
		case c == 0xF0:
			need, lo = 3, 0x90
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		case c == 0xF4:
			need, hi = 3, 0x8F
		default:
			out = append(out, "\uFFFD"...)
			i++
			continue
		}
		j := i + 1
		ok := true
		for k := 0; k < need; k++ {
			if j >= len(b) || b[j] < lo || b[j] > hi {
				ok = false
				break
			}
			lo, hi = 0x80, 0xBF
			j++
		}
		if !ok {
			out = append(out, "\uFFFD"...)
			i = j
			continue
		}
		out = append(out, b[i:j]...)
		i = j
	}
	return out
}

// hexPrefix decodes hex like Node's Buffer.from(s, 'hex'): it stops at the
// first pair that is not two hex digits.
func hexPrefix(s string) []byte {
	out := make([]byte, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		h, ok1 := unhex(s[i])
		l, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			break
		}
		out = append(out, h<<4|l)
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// utf16Len is JS string.length for a Go string.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// jsonNumber is the JSON number type request data carries.
type jsonNumber = json.Number
