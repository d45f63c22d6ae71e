package stripe

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/billclock/billclock/emulator/billing"
)

// params reads typed parameters from a Form, remembering which ones were
// read so that anything left over can be refused as unknown, and keeping the
// first problem met so a handler can read everything and check once.
type params struct {
	form *Form
	seen map[string]bool
	err  error
	// checked: the request passed validation, so the endpoint ran.
	checked bool
	// inline holds the prices items describe with price_data, by the
	// placeholder their Price holds until they are made (price_data.go).
	inline map[string]*priceData
}

func newParams(f *Form) *params { return &params{form: f, seen: map[string]bool{}} }

func (p *params) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// leaf returns the value of a top-level scalar parameter. An empty value
// reads as absent (Stripe's "unset").
func (p *params) leaf(name string) (string, bool) {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return "", false
	}
	if !n.leaf {
		p.fail(invalid(name, "Invalid %s: must be a string, not a hash.", name))
		return "", false
	}
	return n.value, n.value != ""
}

// present reports whether name was sent at all, even empty.
func (p *params) present(name string) bool { return p.form.lookup(name) != nil }

func (p *params) str(name string) (string, bool) { return p.leaf(name) }

func (p *params) int64(name string) (int64, bool) {
	v, ok := p.leaf(name)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		p.fail(errInvalidInteger(name, v))
		return 0, false
	}
	return i, true
}

// intIn reads an integer that must lie in [lo, hi]; ok is false when it
// was not sent or was refused.
func (p *params) intIn(name string, lo, hi int64) (int64, bool) {
	v, ok := p.int64(name)
	switch {
	case !ok:
		return 0, false
	case v < lo:
		p.fail(errTooSmall(name, lo))
		return 0, false
	case v > hi:
		p.fail(errTooLarge(name, hi, v))
		return 0, false
	}
	return v, true
}

// quantity reads a subscription item's quantity: nil when not sent.
func (p *params) quantity(name string) *int64 {
	v, ok := p.int64(name)
	switch {
	case !ok:
		return nil
	case v < 0:
		p.fail(invalid(name, "Invalid non-negative integer"))
		return nil
	case v > billing.MaxQuantity:
		p.fail(errTooLarge(name, billing.MaxQuantity, v))
		return nil
	}
	return &v
}

func (p *params) requiredInt64(name string) int64 {
	i, ok := p.int64(name)
	if !ok && p.err == nil {
		p.fail(errMissing(name))
	}
	return i
}

func (p *params) bool(name string) (bool, bool) {
	v, ok := p.leaf(name)
	if !ok {
		return false, false
	}
	switch v {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	p.fail(errInvalidBoolean(name, v))
	return false, false
}

// enum reads a string that must be one of allowed.
func (p *params) enum(name string, allowed ...string) (string, bool) {
	v, ok := p.leaf(name)
	if !ok {
		return "", false
	}
	for _, a := range allowed {
		if v == a {
			return v, true
		}
	}
	list := strings.Join(allowed[:len(allowed)-1], ", ") + ", or " + allowed[len(allowed)-1]
	if len(allowed) == 1 {
		list = allowed[0]
	}
	p.fail(invalid(name, "Invalid %s: must be one of %s", name, list))
	return "", false
}

// strings reads an array of strings sent as name[]=a or name[0]=a (or, for
// convenience, a single name=a).
func (p *params) strings(name string) []string {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil
	}
	if n.leaf {
		if n.value == "" {
			return nil
		}
		return []string{n.value}
	}
	items, ok := n.list()
	if !ok {
		p.fail(invalid(name, "Invalid array"))
		return nil
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		if !it.leaf {
			p.fail(invalid(name, "Invalid array"))
			return nil
		}
		out = append(out, it.value)
	}
	return out
}

// timestamp reads Unix seconds within billing's range of timestamps.
func (p *params) timestamp(name string) (int64, bool) {
	v, ok := p.int64(name)
	if !ok {
		return 0, false
	}
	if err := billing.CheckTimestamp(name, v); err != nil {
		p.fail(err)
		return 0, false
	}
	return v, true
}

func (p *params) requiredTimestamp(name string) int64 {
	v, ok := p.timestamp(name)
	if !ok {
		p.fail(errMissing(name)) // unless it was refused: the first problem stands
	}
	return v
}

func (n *node) leafValue() (string, bool) {
	if n == nil || !n.leaf {
		return "", false
	}
	return n.value, true
}

// check returns the first problem: an unknown parameter first (as Stripe
// does), then the first invalid or missing one.
func (p *params) check() error {
	for _, k := range p.form.Keys() {
		if !p.seen[k] {
			return errUnknown(k)
		}
	}
	p.checked = p.err == nil
	return p.err
}

// expand reads expand[] against the paths the endpoint can expand, then
// checks the whole request (see check). It returns the paths asked for.
func (p *params) expand(allowed ...string) error {
	for _, path := range p.strings("expand") {
		ok := false
		for _, a := range allowed {
			ok = ok || a == path
		}
		if !ok {
			p.fail(invalid("expand", "This property cannot be expanded (%s).", path))
		}
	}
	return p.check()
}

// metadata reads a metadata hash: metadata[key]=value, where an empty value
// deletes the key (returned as "" for callers to merge), and metadata=
// (empty) clears every key (cleared is true).
func (p *params) metadata(name string) (m map[string]string, cleared bool) {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil, false
	}
	if n.leaf {
		if n.value != "" {
			p.fail(invalid(name, "Invalid %s: must be a hash of string keys and values.", name))
		}
		return nil, n.value == ""
	}
	m = map[string]string{}
	for _, k := range n.keys {
		kid := n.kids[k]
		if !kid.leaf {
			p.fail(invalid(name+"["+k+"]", "Invalid %s: values must be strings.", name))
			return nil, false
		}
		// Stripe counts characters, not bytes.
		if n := utf8.RuneCountInString(k); n > maxMetadataKey {
			p.fail(invalid(name, "Metadata keys can have up to %d characters; the key %q has %d.", maxMetadataKey, k, n))
		}
		if utf8.RuneCountInString(kid.value) > maxMetadataValue {
			p.fail(invalid(name+"["+k+"]", "Metadata values can have up to %d characters.", maxMetadataValue))
		}
		m[k] = kid.value
	}
	if len(m) > maxMetadataKeys {
		p.fail(invalid(name, "You can have up to %d metadata keys.", maxMetadataKeys))
	}
	return m, false
}

// expansions reads expand[] against the paths the endpoint can expand
// and checks the whole request, like expand, returning the set asked for.
func (p *params) expansions(allowed ...string) (map[string]bool, error) {
	set := map[string]bool{}
	// In the order sent, so that the first bad path is the one named.
	for _, path := range p.strings("expand") {
		path = strings.TrimPrefix(path, "data.") // list endpoints expand data.x
		set[path] = true
		if !slices.Contains(allowed, path) {
			p.fail(invalid("expand", "This property cannot be expanded (%s).", path))
		}
	}
	p.seen["expand"] = true
	return set, p.check()
}

// applyMetadata applies a request's metadata to m: cleared (metadata=)
// drops every key first, then the update merges as in billing.MergeMetadata.
func applyMetadata(m, update map[string]string, cleared bool) map[string]string {
	if cleared {
		m = nil
	}
	return billing.MergeMetadata(m, update)
}

// paymentBehavior reads payment_behavior.
func (p *params) paymentBehavior() billing.PaymentBehavior {
	b, _ := p.enum("payment_behavior", "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete")
	return billing.PaymentBehavior(b)
}

// sub returns a reader for the hash parameter name (such as recurring or
// product_data) whose keys are read by their full names ("recurring[interval]"),
// so that errors name them as Stripe does. ok is false when name was not sent
// or was sent empty. The caller passes sub.check() to p.fail once it has read
// every key it knows, so unknown keys are refused too.
func (p *params) sub(name string) (sub *params, ok bool) {
	p.seen[name] = true
	sub = newParams(&Form{root: newHash()})
	n := p.form.lookup(name)
	if n == nil {
		return sub, false
	}
	if n.leaf {
		if n.value != "" {
			p.fail(invalid(name, "Invalid %s: must be a hash.", name))
		}
		return sub, false
	}
	for _, k := range n.keys {
		full := name + "[" + k + "]"
		sub.form.root.keys = append(sub.form.root.keys, full)
		sub.form.root.kids[full] = n.kids[k]
	}
	return sub, true
}

// cannotUnset refuses an empty value for a parameter that must keep one.
func (p *params) cannotUnset(name string) {
	if v, ok := p.form.lookup(name).leafValue(); ok && v == "" {
		p.fail(invalid(name, "You passed an empty string for '%s'. We assume empty values are an attempt to unset a parameter; "+
			"however '%s' cannot be unset. You should remove '%s' from your request or supply a non-empty value.", name, name, name))
	}
}

// clearable reads a string parameter that may be cleared: nil when not
// sent, a pointer to "" when sent empty.
func (p *params) clearable(name string) *string {
	v, _ := p.str(name)
	if !p.present(name) {
		return nil
	}
	return &v
}

// Length limits of string parameters, in characters: the maxLength of
// Stripe's OpenAPI spec, and for metadata its documented limits.
const (
	maxCustomerName            = 256
	maxEmail                   = 512
	maxDescription             = 5000 // customers, webhook endpoints
	maxProductName             = 5000
	maxProductDescription      = 40000
	maxNickname                = 5000
	maxLookupKey               = 200
	maxSubscriptionDescription = 500
	maxMetadataKey             = 40
	maxMetadataValue           = 500
	maxMetadataKeys            = 50
)

// text reads a string parameter of at most max characters.
func (p *params) text(name string, max int) (string, bool) {
	v, ok := p.str(name)
	if err := billing.CheckLength(name, v, max); err != nil {
		p.fail(err)
		return "", false
	}
	return v, ok
}

// clearableText is clearable for a string of at most max characters.
func (p *params) clearableText(name string, max int) *string {
	v := p.clearable(name)
	if v == nil {
		return nil
	}
	if err := billing.CheckLength(name, *v, max); err != nil {
		p.fail(err)
		return nil
	}
	return v
}

// hashElem is one element of an array of hashes: its parameter
// ("items[0]") and a reader of its own keys ("price"), whose errors
// nestError names within param.
type hashElem struct {
	param string
	p     *params
}

// hashes reads the array of hashes name (items[0][price]=...); nil when
// it was not sent, or was refused: not an array, or an element not a
// hash.
func (p *params) hashes(name string) []hashElem {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil
	}
	elems, ok := n.list()
	if !ok {
		p.fail(invalid(name, "Invalid array"))
		return nil
	}
	out := make([]hashElem, 0, len(elems))
	for i, el := range elems {
		param := fmt.Sprintf("%s[%d]", name, i)
		if el.leaf {
			p.fail(invalid(param, "Invalid %s: must be a hash.", param))
			return nil
		}
		out = append(out, hashElem{param: param, p: newParams(&Form{root: el})})
	}
	return out
}

// nestError names the parameter of err, an error of a hash's own
// parameters ("price_data[currency]"), within the hash param
// ("items[0]"): "items[0][price_data][currency]", in its message too.
func nestError(param string, err error) error {
	e, ok := err.(*Error)
	if !ok || e.Param == "" {
		return err
	}
	e2 := *e
	e2.Param = nestName(param, e.Param)
	e2.Message = replaceName(e.Message, e.Param, e2.Param)
	return &e2
}

// nestName is the full name of the parameter name ("price_data[currency]")
// within the hash param ("items[0]"): "items[0][price_data][currency]";
// name itself when param is "".
func nestName(param, name string) string {
	if param == "" {
		return name
	}
	head, rest, _ := strings.Cut(name, "[")
	full := param + "[" + head + "]"
	if rest != "" {
		full += "[" + rest
	}
	return full
}

// replaceName replaces name in msg with full where it stands alone: "id"
// is not to change in "Invalid", nor the second "id" of "idid". It works
// on bytes, so names that are not UTF-8 are replaced too.
func replaceName(msg, name, full string) string {
	part := func(c byte) bool {
		return c == '_' || c == '[' || c == ']' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	var b strings.Builder
	from := 0
	for {
		i := strings.Index(msg[from:], name)
		if i < 0 || name == "" {
			b.WriteString(msg[from:])
			return b.String()
		}
		i += from
		end := i + len(name)
		alone := (i == 0 || !part(msg[i-1])) && (end == len(msg) || !part(msg[end]) || msg[end] == ']')
		b.WriteString(msg[from:i])
		if alone {
			b.WriteString(full)
		} else {
			b.WriteString(name)
		}
		from = end
	}
}
