package commet

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file is Commet's wire codec: JSON request bodies (and query
// strings for GET), read field by field with every problem collected as a
// validation_error detail, and times as ISO 8601 strings.

// maxText is the longest text field billclock takes (names, emails, ids).
const maxText = 500

// params are a request's fields: a JSON object body, or the query string
// of a GET (where every value is a string).
type params struct {
	fields  map[string]any
	query   bool
	prefix  string
	details *[]Detail
}

// decodeBody reads a JSON request body: nothing, or a JSON object. Numbers
// are kept exact (json.Number).
func decodeBody(raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	if !utf8.Valid(raw) {
		return nil, invalidField("body", "The body must be UTF-8 JSON.")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidField("body", "The body is not valid JSON: %s.", strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return nil, invalidField("body", "The body must hold one JSON object.")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, invalidField("body", "The body must be a JSON object.")
	}
	return obj, nil
}

func newParams(fields map[string]any) *params {
	return &params{fields: fields, details: &[]Detail{}}
}

// queryParams are the fields of a query string; a field given twice keeps
// its first value.
func queryParams(q url.Values) *params {
	fields := map[string]any{}
	for k, vs := range q {
		if len(vs) > 0 {
			fields[k] = vs[0]
		}
	}
	p := newParams(fields)
	p.query = true
	return p
}

// name is field's full name in details; an empty key is written "".
func (p *params) name(field string) string {
	if field == "" {
		field = `""`
	}
	return p.prefix + field
}

// fail records a problem with field.
func (p *params) fail(field, format string, args ...any) {
	*p.details = append(*p.details, Detail{Field: p.name(field), Message: fmt.Sprintf(format, args...)})
}

// check is the validation error of every problem found, or nil.
func (p *params) check() error {
	if len(*p.details) == 0 {
		return nil
	}
	return validation(*p.details...)
}

// value is field's value; JSON null counts as absent.
func (p *params) value(field string) (any, bool) {
	v, ok := p.fields[field]
	return v, ok && v != nil
}

// present reports whether field was given (and not null).
func (p *params) present(field string) bool {
	_, ok := p.value(field)
	return ok
}

// str reads a string of at most max characters.
func (p *params) str(field string, max int) (string, bool) {
	v, ok := p.value(field)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	switch {
	case !isStr:
		p.fail(field, "Expected a string.")
		return "", false
	case !utf8.ValidString(s):
		p.fail(field, "Expected UTF-8 text.")
		return "", false
	case utf8.RuneCountInString(s) > max:
		p.fail(field, "Must be at most %d characters.", max)
		return "", false
	}
	return s, true
}

// requiredStr reads a string that must be given and not empty.
func (p *params) requiredStr(field string, max int) string {
	s, ok := p.str(field, max)
	if !ok && !p.failed(field) {
		p.fail(field, "Required.")
	} else if ok && strings.TrimSpace(s) == "" {
		p.fail(field, "Must not be empty.")
	}
	return s
}

// failed reports whether field already has a problem recorded.
func (p *params) failed(field string) bool {
	for _, d := range *p.details {
		if d.Field == p.name(field) {
			return true
		}
	}
	return false
}

// int reads an integer in [min, max].
func (p *params) int(field string, min, max int64) (int64, bool) {
	v, ok := p.value(field)
	if !ok {
		return 0, false
	}
	n, err := asInt(v, p.query)
	if err != nil {
		p.fail(field, "Expected an integer.")
		return 0, false
	}
	if n < min || n > max {
		p.fail(field, "Must be an integer from %d to %d.", min, max)
		return 0, false
	}
	return n, true
}

// asInt reads an integer from a JSON number (or, in a query, a string)
// without rounding: 1.0 is 1, 1.5 is refused.
func asInt(v any, query bool) (int64, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		if !query {
			return 0, fmt.Errorf("not a number")
		}
		s = x
	default:
		return 0, fmt.Errorf("not a number")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer")
	}
	return int64(f), nil
}

// bool reads a boolean (in a query, "true" or "false").
func (p *params) bool(field string) (bool, bool) {
	v, ok := p.value(field)
	if !ok {
		return false, false
	}
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		if p.query && (x == "true" || x == "false") {
			return x == "true", true
		}
	}
	p.fail(field, "Expected a boolean.")
	return false, false
}

// object reads a nested object, whose fields are named field.sub.
func (p *params) object(field string) (*params, bool) {
	v, ok := p.value(field)
	if !ok {
		return nil, false
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		p.fail(field, "Expected an object.")
		return nil, false
	}
	return &params{fields: m, prefix: p.name(field) + ".", details: p.details}, true
}

// counts reads an object of integer counts by code ({"seats": 6}), each in
// [min, max], in the codes' order.
func (p *params) counts(field string, min, max int64) ([]codeCount, bool) {
	obj, ok := p.object(field)
	if !ok {
		return nil, false
	}
	codes := make([]string, 0, len(obj.fields))
	for k := range obj.fields {
		codes = append(codes, k)
	}
	sort.Strings(codes)
	out := make([]codeCount, 0, len(codes))
	good := true
	for _, code := range codes {
		if code == "" || len(code) > maxText {
			obj.fail(code, "Invalid feature code.")
			good = false
			continue
		}
		if !obj.present(code) {
			obj.fail(code, "Expected an integer.")
			good = false
			continue
		}
		n, ok := obj.int(code, min, max)
		good = good && ok
		out = append(out, codeCount{Code: code, Count: n})
	}
	return out, good
}

// codeCount is a count given for a feature code.
type codeCount struct {
	Code  string
	Count int64
}

// strs reads an array of strings.
func (p *params) strs(field string, max int) ([]string, bool) {
	v, ok := p.value(field)
	if !ok {
		return nil, false
	}
	arr, isArr := v.([]any)
	if !isArr {
		p.fail(field, "Expected an array of strings.")
		return nil, false
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
			p.fail(fmt.Sprintf("%s[%d]", field, i), "Expected a string of at most %d characters.", max)
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// raw reads any JSON value (metadata), re-encoded.
func (p *params) raw(field string) (json.RawMessage, bool) {
	v, ok := p.value(field)
	if !ok {
		return nil, false
	}
	if _, isObj := v.(map[string]any); !isObj {
		p.fail(field, "Expected an object.")
		return nil, false
	}
	b, err := json.Marshal(v)
	if err != nil || len(b) > 16<<10 {
		p.fail(field, "Must be a JSON object of at most 16 KiB.")
		return nil, false
	}
	return b, true
}

// isoLayout is how Commet writes times: ISO 8601 in UTC, milliseconds.
const isoLayout = "2006-01-02T15:04:05.000Z"

// iso writes Unix seconds as an ISO 8601 time.
func iso(t int64) string { return time.Unix(t, 0).UTC().Format(isoLayout) }

// isoPtr is iso, or nil for 0.
func isoPtr(t int64) *string {
	if t == 0 {
		return nil
	}
	s := iso(t)
	return &s
}

// parseTime reads an ISO 8601 time: a date and time with a zone (Z or
// ±hh:mm, seconds' fractions allowed), a date and time without one (UTC),
// or a date alone (midnight UTC). Fractions of a second are dropped.
func parseTime(s string) (int64, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if t.Year() < 1970 || t.Year() > 2099 {
				return 0, fmt.Errorf("out of range")
			}
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("not an ISO 8601 time")
}

// timeOf is Unix seconds as a UTC time.
func timeOf(t int64) time.Time { return time.Unix(t, 0).UTC() }
