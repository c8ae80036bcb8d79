package grape

import (
	"sync"
	"unicode/utf8"
)

// parseFast recognises the body nearly every Grenache client sends,
// {"data":"name"} or {"rid":"…","data":"…"}: one object whose values are
// all strings without escapes. It returns data's string and true; for any
// other shape it returns false and the caller takes the exact Node-compatible
// path (parseBody + prop), so this is only a shortcut, never a second
// grammar: what it accepts JSON.parse reads the same way (last duplicate
// key wins in both).
func parseFast(b []byte) (string, bool) {
	if !utf8.Valid(b) {
		return "", false // Node would replace bytes: leave that to decodeUTF8
	}
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return "", false
	}
	var data []byte
	found := false
	for {
		key, j, ok := plainString(b, skipWS(b, i+1))
		if !ok {
			return "", false
		}
		j = skipWS(b, j)
		if j >= len(b) || b[j] != ':' {
			return "", false
		}
		val, k, ok := plainString(b, skipWS(b, j+1))
		if !ok {
			return "", false
		}
		if string(key) == "data" {
			data, found = val, true
		}
		i = skipWS(b, k)
		if i >= len(b) {
			return "", false
		}
		if b[i] == '}' {
			break
		}
		if b[i] != ',' {
			return "", false
		}
	}
	if !found || skipWS(b, i+1) != len(b) {
		return "", false
	}
	return string(data), true
}

// skipWS skips JSON whitespace (the same four bytes in JS and Go).
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string starting at b[i] that has no escapes and
// no control characters, returning its contents and the index after it.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

// bodyPool recycles request body buffers: a lookup body is ~60 bytes and
// io.ReadAll would allocate (and grow) a fresh one per request.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledBody keeps one huge body from pinning memory in the pool.
const maxPooledBody = 16 << 10
