package worker

import (
	"encoding/json"
)

// jobName returns the job a payload names: a registry name, jobUnknown when its top-level
// string "job" names none, or jobOther when it has no string "job" (it is echoed). It runs on every request, so it scans the
// object's top-level members instead of decoding it (no allocation); keys or names with escape
// sequences, which no real client sends, fall back to encoding/json.
func jobName(payload json.RawMessage) string {
	p := payload
	i := skipSpace(p, 0)
	if i >= len(p) || p[i] != '{' {
		return jobOther
	}
	i++
	for {
		i = skipSpace(p, i)
		if i >= len(p) || p[i] != '"' {
			return jobOther // '}' (no job member) or malformed
		}
		keyStart := i + 1
		keyEnd, escaped := scanString(p, i)
		if keyEnd < 0 {
			return jobOther
		}
		if escaped {
			return jobNameSlow(payload)
		}
		i = skipSpace(p, keyEnd+1)
		if i >= len(p) || p[i] != ':' {
			return jobOther
		}
		i = skipSpace(p, i+1)
		if string(p[keyStart:keyEnd]) == "job" {
			// encoding/json keeps the last of duplicate keys: leave such payloads to it.
			if !lastJobKey(p, i) {
				return jobNameSlow(payload)
			}
			if i < len(p) && p[i] == '"' {
				end, esc := scanString(p, i)
				switch {
				case end < 0:
					return jobOther
				case esc:
					return jobNameSlow(payload)
				}
				if name := knownJob(p[i+1 : end]); name != "" {
					return name
				}
				return jobUnknown
			}
			return jobOther
		}
		i = skipValue(p, i)
		if i < 0 {
			return jobOther
		}
		i = skipSpace(p, i)
		if i >= len(p) {
			return jobOther
		}
		switch p[i] {
		case ',':
			i++
		default:
			return jobOther // '}' ends the object without a string job
		}
	}
}

// lastJobKey reports whether no second top-level "job" can follow position i; it is
// conservative: any later occurrence of the bytes "job" sends us to the slow path.
func lastJobKey(p []byte, i int) bool {
	for ; i+4 < len(p); i++ {
		if p[i] == '"' && p[i+1] == 'j' && p[i+2] == 'o' && p[i+3] == 'b' && p[i+4] == '"' {
			return false
		}
	}
	return true
}

// knownJob returns the registry's name equal to b, or "". Comparing string(b) does not
// allocate, and the registry is a handful of entries.
func knownJob(b []byte) string {
	for _, j := range jobs {
		if j.name == string(b) {
			return j.name
		}
	}
	return ""
}

// jobField returns the raw "job" member of payload, for error messages.
func jobField(payload json.RawMessage) json.RawMessage {
	var head struct {
		Job json.RawMessage `json:"job"`
	}
	_ = json.Unmarshal(payload, &head)
	return head.Job
}

// jobNameSlow is the exact definition: decode the top-level "job" member with encoding/json.
func jobNameSlow(payload json.RawMessage) string {
	var head struct {
		Job json.RawMessage `json:"job"`
	}
	if json.Unmarshal(payload, &head) != nil || len(head.Job) == 0 || head.Job[0] != '"' {
		return jobOther
	}
	var name string
	if json.Unmarshal(head.Job, &name) != nil {
		return jobOther
	}
	if n := knownJob([]byte(name)); n != "" {
		return n
	}
	return jobUnknown
}

func skipSpace(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// scanString takes p[i] == '"' and returns the index of the closing quote (-1 if none) and
// whether the string contains escapes.
func scanString(p []byte, i int) (int, bool) {
	escaped := false
	for i++; i < len(p); i++ {
		switch p[i] {
		case '\\':
			escaped = true
			i++
		case '"':
			return i, escaped
		}
	}
	return -1, escaped
}

// skipValue returns the index just past the JSON value starting at p[i], or -1 if malformed.
// It tracks nesting and strings only; the transport has already validated the JSON.
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		end, _ := scanString(p, i)
		if end < 0 {
			return -1
		}
		return end + 1
	case '{', '[':
		depth := 0
		for ; i < len(p); i++ {
			switch p[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			case '"':
				end, _ := scanString(p, i)
				if end < 0 {
					return -1
				}
				i = end
			}
		}
		return -1
	default: // number, true, false, null
		for ; i < len(p); i++ {
			switch p[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}
