package stripe

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// This file reads single fields out of encoded JSON without decoding the
// rest, so that a search can test thousands of stored records quickly:
// jsonField walks an object's members, skipping the values it does not
// want, and stops at the one it wants (what follows it is not read). It
// never panics, whatever the bytes; a member it cannot reach through valid
// JSON it reports as absent.

// jsonWS reports whether c is JSON whitespace.
func jsonWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWS returns the index of the first non-space byte of b at or after i.
func skipWS(b []byte, i int) int {
	for i < len(b) && jsonWS(b[i]) {
		i++
	}
	return i
}

// skipString returns the index just past the JSON string starting at
// b[i] (a quote), or -1.
func skipString(b []byte, i int) int {
	for i++; i < len(b); {
		q := bytes.IndexByte(b[i:], '"')
		if q < 0 {
			return -1
		}
		i += q
		// The quote ends the string unless an odd number of backslashes
		// escapes it.
		n := 0
		for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 0 {
			return i + 1
		}
		i++
	}
	return -1
}

// skipValue returns the index just past the JSON value starting at b[i],
// or -1 when there is none.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	}
	// A number, true, false or null: up to the next delimiter.
	start := i
	for i < len(b) && !jsonWS(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ':' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// jsonMember returns the value of member key of the JSON object obj (its
// raw bytes), and whether obj is an object that has it.
func jsonMember(obj []byte, key string) ([]byte, bool) {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, false
	}
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil, false
	}
	for i < len(obj) {
		if obj[i] != '"' {
			return nil, false
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil, false
		}
		name := obj[i:end]
		i = skipWS(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, false
		}
		i = skipWS(obj, i+1)
		vend := skipValue(obj, i)
		if vend < 0 {
			return nil, false
		}
		if keyIs(name, key) {
			return obj[i:vend], true
		}
		i = skipWS(obj, vend)
		if i >= len(obj) || obj[i] != ',' {
			return nil, false
		}
		i = skipWS(obj, i+1)
	}
	return nil, false
}

// keyIs reports whether the encoded JSON string quoted is key, as
// encoding/json reads it (bytes that are not UTF-8 read as U+FFFD).
func keyIs(quoted []byte, key string) bool {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if string(inner) == key {
			return utf8.Valid(inner)
		}
		// Only bytes that are not UTF-8 can read as something else, and
		// then as U+FFFD.
		if !strings.ContainsRune(key, utf8.RuneError) {
			return false
		}
	}
	s, ok := jsonString(quoted)
	return ok && s == key
}

// plainString returns the bytes of an encoded JSON string that reads as
// they are (no escapes, UTF-8); ok is false for any other string, and for
// what is not a string.
func plainString(raw []byte) (inner []byte, ok bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	inner = raw[1 : len(raw)-1]
	return inner, bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner)
}

// jsonField returns the value at path (member names, outermost first) in
// the JSON object obj, and whether it is there.
func jsonField(obj []byte, path []string) ([]byte, bool) {
	v := obj
	for _, k := range path {
		var ok bool
		if v, ok = jsonMember(v, k); !ok {
			return nil, false
		}
	}
	return v, true
}

// jsonString decodes an encoded JSON string; ok is false for anything
// else.
func jsonString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	inner := raw[1 : len(raw)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}
