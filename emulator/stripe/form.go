package stripe

import (
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Form is a decoded Stripe request: form-encoded keys with nested brackets
// (a[b][0][c]=v) turned into a tree. Arrays come as a[]=x (appended in
// order) or a[0]=x (indexed); both read back as lists. An empty value is
// kept as an empty leaf, which Stripe treats as "unset" or "clear".
type Form struct {
	root *node
}

// node is a leaf (value) or a hash (children by key, in first-seen order).
type node struct {
	leaf  bool
	value string
	keys  []string
	kids  map[string]*node
	// next is one past the largest array index among keys, where a[]
	// appends; full means that index would be past MaxInt.
	next int
	full bool
}

func newHash() *node { return &node{kids: map[string]*node{}} }

// maxFormDepth bounds nesting, so hostile input cannot build deep trees.
const maxFormDepth = 8

// FormError is a request body or query string that cannot be decoded.
type FormError struct{ Msg string }

func (e *FormError) Error() string { return e.Msg }

// ParseForm decodes one or more form-encoded strings (query string, body);
// later ones override earlier ones on the same key.
func ParseForm(raws ...string) (*Form, error) {
	f := &Form{root: newHash()}
	for _, raw := range raws {
		for _, pair := range strings.Split(raw, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			key, err := url.QueryUnescape(k)
			if err != nil {
				return nil, &FormError{Msg: fmt.Sprintf("Invalid request: could not decode the parameter name %q.", k)}
			}
			val, err := url.QueryUnescape(v)
			if err != nil {
				return nil, &FormError{Msg: fmt.Sprintf("Invalid request: could not decode the value of %s.", key)}
			}
			if err := f.set(key, val); err != nil {
				return nil, err
			}
		}
	}
	return f, nil
}

// splitKey turns "a[b][][c]" into ["a", "b", "", "c"].
func splitKey(key string) ([]string, bool) {
	i := strings.IndexByte(key, '[')
	if i < 0 {
		return []string{key}, key != "" && !strings.Contains(key, "]")
	}
	segs := []string{key[:i]}
	if segs[0] == "" || strings.Contains(segs[0], "]") {
		return nil, false
	}
	rest := key[i:]
	for rest != "" {
		if rest[0] != '[' {
			return nil, false
		}
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return nil, false
		}
		seg := rest[1:j]
		if strings.ContainsAny(seg, "[") {
			return nil, false
		}
		segs = append(segs, seg)
		rest = rest[j+1:]
	}
	return segs, true
}

func (f *Form) set(key, val string) error {
	segs, ok := splitKey(key)
	if !ok {
		return &FormError{Msg: fmt.Sprintf("Invalid parameter name: %s", key)}
	}
	if len(segs) > maxFormDepth {
		return &FormError{Msg: fmt.Sprintf("Invalid parameter name: %s (nested too deeply)", key)}
	}
	n := f.root
	for i, seg := range segs {
		last := i == len(segs)-1
		if seg == "" {
			// a[]: append, or for a[][k] fill the last element unless it
			// already has k (Rack's rule, which Stripe follows).
			next, ok := n.nextIndex()
			if !ok {
				return &FormError{Msg: fmt.Sprintf("Invalid parameter name: %s (no array index after the largest)", key)}
			}
			seg = next
			if !last && len(n.keys) > 0 {
				prev := n.kids[n.keys[len(n.keys)-1]]
				if !prev.leaf {
					if _, taken := prev.kids[segs[i+1]]; !taken {
						seg = n.keys[len(n.keys)-1]
					}
				}
			}
		}
		child, exists := n.kids[seg]
		if last {
			if exists && !child.leaf {
				return &FormError{Msg: fmt.Sprintf("Invalid hash: %s is both a value and a hash.", pathOf(segs[:i+1]))}
			}
			if !exists {
				n.addKey(seg)
			}
			n.kids[seg] = &node{leaf: true, value: val}
			return nil
		}
		if !exists {
			child = newHash()
			n.kids[seg] = child
			n.addKey(seg)
		} else if child.leaf {
			return &FormError{Msg: fmt.Sprintf("Invalid hash: %s is both a value and a hash.", pathOf(segs[:i+1]))}
		}
		n = child
	}
	return nil
}

// nextIndex is the key a[] appends under: one past the largest index the
// hash already has, so that appending never overwrites an element sent as
// a[i]. ok is false when the largest is already MaxInt.
func (n *node) nextIndex() (string, bool) {
	return strconv.Itoa(n.next), !n.full
}

// addKey records a new key of n, keeping track of where a[] appends.
func (n *node) addKey(k string) {
	n.keys = append(n.keys, k)
	if i, err := strconv.Atoi(k); err == nil && i >= n.next {
		if i == math.MaxInt {
			n.full = true
		} else {
			n.next = i + 1
		}
	}
}

func pathOf(segs []string) string {
	var b strings.Builder
	b.WriteString(segs[0])
	for _, s := range segs[1:] {
		b.WriteString("[" + s + "]")
	}
	return b.String()
}

// Keys lists the top-level parameter names in the order first seen.
func (f *Form) Keys() []string { return f.root.keys }

// Canonical is a stable rendering of the whole form, used to tell whether two
// requests carried the same parameters.
func (f *Form) Canonical() string {
	var b strings.Builder
	f.root.canonical(&b)
	return b.String()
}

func (n *node) canonical(b *strings.Builder) {
	if n.leaf {
		b.WriteString(strconv.Quote(n.value))
		return
	}
	keys := append([]string(nil), n.keys...)
	sort.Strings(keys)
	b.WriteByte('{')
	for _, k := range keys {
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		n.kids[k].canonical(b)
		b.WriteByte(',')
	}
	b.WriteByte('}')
}

// lookup returns the node at a top-level key, or nil.
func (f *Form) lookup(name string) *node { return f.root.kids[name] }

// list returns the elements of an array-like hash (keys "0", "1", ... or
// appended with []), ordered by index; ok is false if n is not such a hash.
func (n *node) list() ([]*node, bool) {
	if n.leaf {
		return nil, false
	}
	type item struct {
		i int
		n *node
	}
	items := make([]item, 0, len(n.keys))
	for _, k := range n.keys {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 {
			return nil, false
		}
		items = append(items, item{i, n.kids[k]})
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].i < items[b].i })
	out := make([]*node, len(items))
	for j, it := range items {
		out[j] = it.n
	}
	return out, true
}
