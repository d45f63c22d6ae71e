package chargebee

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/billclock/billclock/emulator/billing"
)

// This file is the codec: Chargebee's requests are form-encoded (the body
// of a POST, the query of a GET), with keys such as card[number],
// subscription_items[item_price_id][0] or status[in], whose array
// operators (in, not_in, between) carry a JSON array as their value
// (status[in]=["paid","payment_due"]). Parameters Chargebee would ignore,
// or that billclock does not emulate, are ignored.

// Bounds of what a request may carry.
const (
	maxParams    = 1000
	maxKeyLen    = 200
	maxListItems = 250 // entries of an indexed list such as subscription_items
	maxJSONItems = 250 // elements of a JSON array filter
	maxTextLen   = 2000
)

// params are a request's parameters, by their names as sent; a name sent
// twice keeps its last value. The first problem met reading them is kept
// (fail) and returned by check, so that handlers read every parameter
// before they look.
type params struct {
	vals map[string]string
	err  *Error
}

// parseParams decodes form-encoded strings (the query, then the body).
func parseParams(raws ...string) (*params, error) {
	p := &params{vals: map[string]string{}}
	for _, raw := range raws {
		for _, pair := range strings.Split(raw, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				return nil, errInvalid("", fmt.Sprintf("the parameter name %q could not be decoded", k))
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, errParam(key, "could not be decoded")
			}
			if key == "" || len(key) > maxKeyLen || !utf8.ValidString(key) {
				return nil, errInvalid("", fmt.Sprintf("invalid parameter name %q", truncate(key, 40)))
			}
			if _, seen := p.vals[key]; !seen && len(p.vals) >= maxParams {
				return nil, errInvalid("", fmt.Sprintf("a request may carry at most %d parameters", maxParams))
			}
			p.vals[key] = val
		}
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// fail records e, unless a problem was recorded before.
func (p *params) fail(e *Error) {
	if p.err == nil {
		p.err = e
	}
}

// check returns the first problem met, if any.
func (p *params) check() error {
	if p.err != nil {
		return p.err
	}
	return nil
}

// str returns parameter name and whether it was sent.
func (p *params) str(name string) (string, bool) {
	v, ok := p.vals[name]
	return v, ok
}

// text returns parameter name, at most max characters; an empty value
// reads as not sent.
func (p *params) text(name string, max int) (string, bool) {
	v, ok := p.vals[name]
	if !ok || v == "" {
		return "", false
	}
	if utf8.RuneCountInString(v) > max {
		p.fail(errParam(name, fmt.Sprintf("cannot be longer than %d characters", max)))
		return "", false
	}
	return v, true
}

// required is text that must be sent.
func (p *params) required(name string, max int) string {
	v, ok := p.text(name, max)
	if !ok && p.err == nil {
		p.fail(errRequired(name))
	}
	return v
}

// int64 reads an integer parameter within [min, max].
func (p *params) int64(name string, min, max int64) (int64, bool) {
	v, ok := p.vals[name]
	if !ok || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		p.fail(errParam(name, "invalid value, must be an integer"))
		return 0, false
	}
	if n < min || n > max {
		p.fail(errParam(name, fmt.Sprintf("must be between %d and %d", min, max)))
		return 0, false
	}
	return n, true
}

// timestamp reads a time in Unix seconds, within the range billclock
// takes.
func (p *params) timestamp(name string) (int64, bool) {
	return p.int64(name, billing.MinTimestamp, billing.MaxTimestamp)
}

// boolean reads true or false.
func (p *params) boolean(name string) (bool, bool) {
	v, ok := p.vals[name]
	if !ok || v == "" {
		return false, false
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.fail(errParam(name, "invalid value, must be true or false"))
	return false, false
}

// enum reads a parameter that must be one of values.
func (p *params) enum(name string, values ...string) (string, bool) {
	v, ok := p.text(name, 100)
	if !ok {
		return "", false
	}
	for _, w := range values {
		if v == w {
			return v, true
		}
	}
	p.fail(errParam(name, fmt.Sprintf("invalid value, must be one of %s", strings.Join(values, ", "))))
	return "", false
}

// list reads an indexed list sent as prefix[field][i] (the SDKs' encoding
// of subscription_items: [{item_price_id, quantity}]), as one map of
// fields per index, in index order. Indexes need not be contiguous.
func (p *params) list(prefix string) []map[string]string {
	byIndex := map[int]map[string]string{}
	for k, v := range p.vals {
		rest, ok := strings.CutPrefix(k, prefix+"[")
		if !ok {
			continue
		}
		field, idx, ok := strings.Cut(rest, "][")
		if !ok || !strings.HasSuffix(idx, "]") || field == "" {
			p.fail(errParam(k, "invalid parameter name: expected "+prefix+"[field][index]"))
			continue
		}
		i, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
		if err != nil || i < 0 || i >= maxListItems {
			p.fail(errParam(k, fmt.Sprintf("invalid index: must be from 0 to %d", maxListItems-1)))
			continue
		}
		if byIndex[i] == nil {
			byIndex[i] = map[string]string{}
		}
		byIndex[i][field] = v
	}
	idx := make([]int, 0, len(byIndex))
	for i := range byIndex {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	out := make([]map[string]string, len(idx))
	for n, i := range idx {
		out[n] = byIndex[i]
		out[n]["\x00index"] = strconv.Itoa(i)
	}
	return out
}

// listParam names field of entry e of a list, as sent.
func listParam(prefix, field string, e map[string]string) string {
	return prefix + "[" + field + "][" + e["\x00index"] + "]"
}

// hash reads the parameters sent as prefix[field] (card[number]), by
// field.
func (p *params) hash(prefix string) map[string]string {
	out := map[string]string{}
	for k, v := range p.vals {
		if rest, ok := strings.CutPrefix(k, prefix+"["); ok && strings.HasSuffix(rest, "]") && !strings.Contains(rest, "[") {
			out[strings.TrimSuffix(rest, "]")] = v
		}
	}
	return out
}

// jsonObject reads a parameter that carries a JSON object (meta_data), as
// compact JSON.
func (p *params) jsonObject(name string) (json.RawMessage, bool) {
	v, ok := p.text(name, 64<<10)
	if !ok {
		return nil, false
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(v), &obj); err != nil || obj == nil {
		p.fail(errParam(name, "invalid value, must be a JSON object"))
		return nil, false
	}
	raw, err := json.Marshal(obj)
	if err != nil {
		p.fail(errParam(name, "invalid value, must be a JSON object"))
		return nil, false
	}
	return raw, true
}

// parseJSONArray decodes the value of an array operator (in, not_in,
// between): a JSON array of strings or numbers, each read as its text.
func parseJSONArray(param, v string) ([]string, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal([]byte(v), &raw); err != nil || raw == nil {
		return nil, errParam(param, `invalid value, must be a JSON array such as ["a","b"]`)
	}
	if len(raw) > maxJSONItems {
		return nil, errParam(param, fmt.Sprintf("at most %d values", maxJSONItems))
	}
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			out = append(out, s)
			continue
		}
		var n json.Number
		if err := json.Unmarshal(r, &n); err == nil {
			out = append(out, n.String())
			continue
		}
		return nil, errParam(param, "invalid value, the array's values must be strings or numbers")
	}
	return out, nil
}

// strFilter is a list filter on a text field: name[is], name[is_not],
// name[in] and name[not_in]; unset operators are nil.
type strFilter struct {
	is, isNot *string
	in, notIn []string
	hasIn     bool
	hasNotIn  bool
}

// set reports whether any operator was given.
func (f strFilter) set() bool { return f.is != nil || f.isNot != nil || f.hasIn || f.hasNotIn }

// match reports whether v passes every operator given.
func (f strFilter) match(v string) bool {
	if f.is != nil && v != *f.is || f.isNot != nil && v == *f.isNot {
		return false
	}
	if f.hasIn && !contains(f.in, v) || f.hasNotIn && contains(f.notIn, v) {
		return false
	}
	return true
}

func contains(list []string, v string) bool {
	for _, w := range list {
		if w == v {
			return true
		}
	}
	return false
}

// operators returns the operators sent for filter name, by operator.
func (p *params) operators(name string) map[string]string {
	ops := map[string]string{}
	for k, v := range p.vals {
		if rest, ok := strings.CutPrefix(k, name+"["); ok {
			op, ok := strings.CutSuffix(rest, "]")
			if !ok || strings.ContainsAny(op, "[]") {
				p.fail(errParam(k, "invalid filter"))
				continue
			}
			ops[op] = v
		}
	}
	return ops
}

// strFilter reads filter name's text operators; values must be among
// allowed when it is not nil.
func (p *params) strFilter(name string, allowed []string) strFilter {
	var f strFilter
	for op, v := range p.operators(name) {
		param := name + "[" + op + "]"
		check := func(vals ...string) bool {
			for _, v := range vals {
				if allowed != nil && !contains(allowed, v) {
					p.fail(errParam(param, fmt.Sprintf("invalid value %q, must be one of %s", truncate(v, 40), strings.Join(allowed, ", "))))
					return false
				}
			}
			return true
		}
		switch op {
		case "is", "is_not":
			if !check(v) {
				continue
			}
			val := v
			if op == "is" {
				f.is = &val
			} else {
				f.isNot = &val
			}
		case "in", "not_in":
			vals, err := parseJSONArray(param, v)
			if err != nil {
				p.fail(err.(*Error))
				continue
			}
			if !check(vals...) {
				continue
			}
			if op == "in" {
				f.in, f.hasIn = vals, true
			} else {
				f.notIn, f.hasNotIn = vals, true
			}
		default:
			p.fail(errParam(param, "unsupported filter operator: "+truncate(op, 40)))
		}
	}
	return f
}

// timeFilter is a list filter on a time: name[after], name[before],
// name[on] and name[between] (a JSON array of two times), in Unix
// seconds.
type timeFilter struct {
	after, before, on *int64
	from, to          *int64
}

func (f timeFilter) set() bool {
	return f.after != nil || f.before != nil || f.on != nil || f.from != nil
}

// match reports whether t passes every operator given. between is
// inclusive, as at Chargebee.
func (f timeFilter) match(t int64) bool {
	return (f.after == nil || t > *f.after) && (f.before == nil || t < *f.before) &&
		(f.on == nil || t == *f.on) && (f.from == nil || t >= *f.from && t <= *f.to)
}

// timeFilter reads filter name's time operators.
func (p *params) timeFilter(name string) timeFilter {
	var f timeFilter
	for op, v := range p.operators(name) {
		param := name + "[" + op + "]"
		switch op {
		case "after", "before", "on":
			t, err := parseTime(param, v)
			if err != nil {
				p.fail(err)
				continue
			}
			switch op {
			case "after":
				f.after = &t
			case "before":
				f.before = &t
			default:
				f.on = &t
			}
		case "between":
			vals, err := parseJSONArray(param, v)
			if err != nil {
				p.fail(err.(*Error))
				continue
			}
			if len(vals) != 2 {
				p.fail(errParam(param, "invalid value, must be a JSON array of two times"))
				continue
			}
			from, err1 := parseTime(param, vals[0])
			to, err2 := parseTime(param, vals[1])
			if err1 != nil || err2 != nil {
				p.fail(errParam(param, "invalid value, must be a JSON array of two times"))
				continue
			}
			f.from, f.to = &from, &to
		default:
			p.fail(errParam(param, "unsupported filter operator: "+truncate(op, 40)))
		}
	}
	return f
}

func parseTime(param, v string) (int64, *Error) {
	t, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || t < 0 || t > math.MaxInt64/2 {
		return 0, errParam(param, "invalid value, must be a time in Unix seconds")
	}
	return t, nil
}

// sortBy reads sort_by[asc]=field or sort_by[desc]=field, with field one
// of fields; the default is the first field, descending.
func (p *params) sortBy(fields ...string) (field string, desc bool) {
	field, desc = fields[0], true
	ops := p.operators("sort_by")
	if len(ops) > 1 {
		p.fail(errParam("sort_by", "give one of sort_by[asc] and sort_by[desc]"))
		return
	}
	for op, v := range ops {
		if op != "asc" && op != "desc" {
			p.fail(errParam("sort_by["+truncate(op, 40)+"]", "must be sort_by[asc] or sort_by[desc]"))
			return
		}
		if !contains(fields, v) {
			p.fail(errParam("sort_by["+op+"]", fmt.Sprintf("invalid value, must be one of %s", strings.Join(fields, ", "))))
			return
		}
		field, desc = v, op == "desc"
	}
	return
}

// page reads limit (1 to 100, default 10) and offset, the next_offset of
// the page before.
func (p *params) page() (limit int, offset string) {
	n, ok := p.int64("limit", 1, 100)
	if !ok {
		n = 10
	}
	offset, _ = p.text("offset", 1000)
	return int(n), offset
}
