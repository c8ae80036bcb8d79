package grape

import "strings"

// Endpoint names as Node grapes resolve them.
const (
	epAnnounce = "Announce"
	epLookup   = "Lookup"
	epPut      = "Put"
	epGet      = "Get"
	// epUnannounce is a Go grape extension (Node answers ERR_REQ_NOTFOUND).
	epUnannounce = "Unannounce"
)

// resolveEndpoint maps a raw request target (path plus any query string,
// unparsed) to an endpoint name the way grenache-grape does: strip the first
// character, prefix "-", run lodash-like camelCase, upper-case the first
// letter, and look for a handler of that name. So "/lookup", "/Lookup" and
// "/-lookup" work, while "/LOOKUP", "/lookup?x=1" and "/lookup/" do not.
// It returns "" when no handler exists.
func resolveEndpoint(target string) string {
	switch target { // what every client sends: skip the string work
	case "/lookup":
		return epLookup
	case "/announce":
		return epAnnounce
	case "/put":
		return epPut
	case "/get":
		return epGet
	case "/unannounce":
		return epUnannounce
	}
	if len(target) > 0 {
		target = target[1:]
	}
	name := upperFirst(camelCase("-" + target))
	switch name {
	case epAnnounce, epLookup, epPut, epGet, epUnannounce:
		return name
	}
	return ""
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isSpace(c byte) bool {
	return c == ' ' || c >= '\t' && c <= '\r'
}

// camelCase mirrors grenache-grape's helper: a global regex replace of
// /(?:^\w|[A-Z]|\b\w|-\w|_\w)/ (lower-case when the match starts at 0,
// upper-case elsewhere), then removal of runs of whitespace, '_' and '-'.
// Only ASCII is treated as word or upper-case characters.
func camelCase(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		n := 0
		switch {
		case isWord(c) && i == 0,
			c >= 'A' && c <= 'Z',
			isWord(c) && !isWord(s[i-1]):
			n = 1
		case (c == '-' || c == '_') && i+1 < len(s) && isWord(s[i+1]):
			n = 2
		}
		if n == 0 {
			b.WriteByte(c)
			i++
			continue
		}
		if i == 0 {
			b.WriteString(strings.ToLower(s[i : i+n]))
		} else {
			b.WriteString(strings.ToUpper(s[i : i+n]))
		}
		i += n
	}
	out := b.String()
	var r strings.Builder
	for i := 0; i < len(out); i++ {
		if c := out[i]; !(isSpace(c) || c == '_' || c == '-') {
			r.WriteByte(c)
		}
	}
	return r.String()
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
