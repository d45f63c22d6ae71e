package stripe

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dump renders a form as nested Go values for comparison: leaves as
// strings, hashes as maps.
func dump(n *node) any {
	if n.leaf {
		return n.value
	}
	m := map[string]any{}
	for _, k := range n.keys {
		m[k] = dump(n.kids[k])
	}
	return m
}

func TestParseForm(t *testing.T) {
	cases := []struct {
		name string
		raw  []string
		want map[string]any
	}{
		{"flat", []string{"a=1&b=two"}, map[string]any{"a": "1", "b": "two"}},
		{"escaped", []string{"name=a%20b+c&x%5By%5D=%26"}, map[string]any{"name": "a b c", "x": map[string]any{"y": "&"}}},
		{"nested", []string{"items[0][price]=p1&items[0][quantity]=5&items[1][price]=p2"},
			map[string]any{"items": map[string]any{"0": map[string]any{"price": "p1", "quantity": "5"}, "1": map[string]any{"price": "p2"}}}},
		{"append", []string{"expand[]=a&expand[]=b"}, map[string]any{"expand": map[string]any{"0": "a", "1": "b"}}},
		{"append hashes", []string{"items[][price]=a&items[][qty]=1&items[][price]=b"},
			map[string]any{"items": map[string]any{"0": map[string]any{"price": "a", "qty": "1"}, "1": map[string]any{"price": "b"}}}},
		{"empty value kept", []string{"description=&metadata[a]="}, map[string]any{"description": "", "metadata": map[string]any{"a": ""}}},
		{"later wins", []string{"a=1", "a=2"}, map[string]any{"a": "2"}},
		{"query and body merge", []string{"limit=3", "name=x"}, map[string]any{"limit": "3", "name": "x"}},
		{"stray ampersands", []string{"&&a=1&"}, map[string]any{"a": "1"}},
		{"no equals", []string{"flag"}, map[string]any{"flag": ""}},
		// a[] appends after the largest index sent, overwriting none.
		{"append after an index", []string{"a[1]=x&a[]=y"}, map[string]any{"a": map[string]any{"1": "x", "2": "y"}}},
		{"append after a gap", []string{"a[5]=x&a[]=y&a[0]=z"}, map[string]any{"a": map[string]any{"5": "x", "6": "y", "0": "z"}}},
		{"append hashes after an index", []string{"a[1][b]=x&a[][b]=y"},
			map[string]any{"a": map[string]any{"1": map[string]any{"b": "x"}, "2": map[string]any{"b": "y"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseForm(tc.raw...)
			require.NoError(t, err)
			assert.Equal(t, tc.want, dump(f.root))
		})
	}
}

func TestParseFormErrors(t *testing.T) {
	for _, raw := range []string{
		"a[b=1", "a]=1", "[a]=1", "a[b]c=1", "a[[b]]=1", "%zz=1", "a=%zz",
		"a=1&a[b]=2", "a[b]=2&a=1", "a[b][c][d][e][f][g][h][i]=1",
		"a[9223372036854775807]=x&a[]=y", // no index after the largest
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := ParseForm(raw)
			var fe *FormError
			require.ErrorAs(t, err, &fe)
			assert.NotEmpty(t, fe.Msg)
		})
	}
}

func TestCanonicalIgnoresOrderAndArrayStyle(t *testing.T) {
	a, err := ParseForm("b=2&a=1&expand[0]=x")
	require.NoError(t, err)
	b, err := ParseForm("a=1&expand[]=x&b=2")
	require.NoError(t, err)
	c, err := ParseForm("a=1&expand[]=x&b=3")
	require.NoError(t, err)
	assert.Equal(t, a.Canonical(), b.Canonical())
	assert.NotEqual(t, a.Canonical(), c.Canonical())
}

// encodeForm writes a decoded form back in the wire format, every array
// index explicit: the form's canonical encoding.
func encodeForm(f *Form) string {
	var parts []string
	var walk func(n *node, key string)
	walk = func(n *node, key string) {
		if n.leaf {
			parts = append(parts, url.QueryEscape(key)+"="+url.QueryEscape(n.value))
			return
		}
		for _, k := range n.keys {
			walk(n.kids[k], key+"["+k+"]")
		}
	}
	for _, k := range f.root.keys {
		walk(f.root.kids[k], k)
	}
	return strings.Join(parts, "&")
}

// depth is how many levels of keys n holds below it.
func depth(n *node) int {
	d := 0
	for _, k := range n.keys {
		d = max(d, 1+depth(n.kids[k]))
	}
	return d
}

// show renders v with what pointers point to rather than their
// addresses, so that two reads can be compared.
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Invalid:
		return "<invalid>"
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	case reflect.Struct:
		parts := make([]string, v.NumField())
		for i := range parts {
			parts[i] = v.Type().Field(i).Name + ":" + show(v.Field(i))
		}
		return "{" + strings.Join(parts, " ") + "}"
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			return "nil"
		}
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = show(v.Index(i))
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.Map:
		if v.IsNil() {
			return "nil"
		}
		var parts []string
		for _, k := range v.MapKeys() {
			parts = append(parts, show(k)+":"+show(v.MapIndex(k)))
		}
		sort.Strings(parts)
		return "map[" + strings.Join(parts, " ") + "]"
	case reflect.String:
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v)
}

// readAll reads every top-level key of form with every params reader the
// handlers use, each on fresh params so that one problem does not hide the
// next, and returns a transcript of what each read and each problem.
func readAll(t *testing.T, form *Form) string {
	var b strings.Builder
	read := func(what string, fn func(p *params) any) {
		p := newParams(form)
		v := fn(p)
		err := p.check()
		fmt.Fprintf(&b, "%s: %s", what, show(reflect.ValueOf(v)))
		if err != nil {
			e, ok := apiError(err)
			if !ok {
				t.Fatalf("%s: params error is not an API error: %v", what, err)
			}
			if e.Status != http.StatusBadRequest {
				t.Fatalf("%s: a problem with the parameters is a 400, not %d: %v", what, e.Status, err)
			}
			if e.Message == "" {
				t.Fatalf("%s: error without a message", what)
			}
			fmt.Fprintf(&b, " -> %d %s %s %q", e.Status, e.Code, e.Param, e.Message)
		}
		b.WriteByte('\n')
	}
	for _, k := range form.Keys() {
		read("str "+k, func(p *params) any { v, ok := p.str(k); return []any{v, ok} })
		read("text "+k, func(p *params) any { v, ok := p.text(k, 40); return []any{v, ok} })
		read("clearable "+k, func(p *params) any { return p.clearable(k) })
		read("strings "+k, func(p *params) any { return p.strings(k) })
		read("int64 "+k, func(p *params) any { v, ok := p.int64(k); return []any{v, ok} })
		read("intIn "+k, func(p *params) any { v, ok := p.intIn(k, 1, 100); return []any{v, ok} })
		read("quantity "+k, func(p *params) any { return p.quantity(k) })
		read("timestamp "+k, func(p *params) any { v, ok := p.timestamp(k); return []any{v, ok} })
		read("bool "+k, func(p *params) any { v, ok := p.bool(k); return []any{v, ok} })
		read("enum "+k, func(p *params) any { v, ok := p.enum(k, "day", "month"); return []any{v, ok} })
		read("metadata "+k, func(p *params) any { m, cleared := p.metadata(k); return []any{m, cleared} })
		read("range "+k, func(p *params) any { return rangeParam(p, k) })
		read("items "+k, func(p *params) any {
			return p.itemSpecs(k, "id", "price", "quantity", "deleted", "metadata", "clear_usage")
		})
		read("sub "+k, func(p *params) any {
			sub, ok := p.sub(k)
			var got []any
			for _, sk := range sub.form.Keys() {
				v, _ := sub.str(sk)
				got = append(got, sk, v)
			}
			p.fail(sub.check())
			return []any{ok, got}
		})
	}
	read("page", func(p *params) any { return pageParams(p) })
	read("expansions", func(p *params) any { set, _ := p.expansions("customer", "latest_invoice"); return set })
	read("recurring", func(p *params) any { return readRecurring(p) })
	return b.String()
}

// FuzzParseForm checks that no input panics the decoder; that a refused
// input gets a FormError with a message; and that whatever decodes has a
// canonical form (encodeForm) that decodes to the same tree, with the same
// Canonical fingerprint, within the depth bound, and reads no differently
// through every params reader, whose problems are all Stripe 400s.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"frozen_time=1732320000&name=x", "items[0][price]=p&items[0][quantity]=2", "expand[]=a&expand[]=b",
		"a[][b]=1&a[][b]=2", "a[b=1", "%zz", "metadata[k]=&x=%20", "a=1&a[b]=2", "limit=abc&created[gte]=5",
		"a[1]=x&a[]=y", "recurring[interval]=month&recurring[interval_count]=3", "created[lte]=9223372036854775807",
		"items[0][quantity]=-1&items[1][quantity]=1000000", "metadata[%C3%A9]=%FF", "q=+1&q[0]=2",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := ParseForm(raw)
		if err != nil {
			var fe *FormError
			if !errorsAs(err, &fe) {
				t.Fatalf("ParseForm(%q) returned a non-FormError: %v", raw, err)
			}
			if fe.Msg == "" {
				t.Fatalf("ParseForm(%q): FormError without a message", raw)
			}
			return
		}
		if d := depth(form.root); d > maxFormDepth {
			t.Fatalf("ParseForm(%q) built a tree %d deep, over the bound %d", raw, d, maxFormDepth)
		}
		canonical := form.Canonical()
		if canonical != form.Canonical() {
			t.Fatalf("Canonical is not stable for %q", raw)
		}
		enc := encodeForm(form)
		again, err := ParseForm(enc)
		if err != nil {
			t.Fatalf("ParseForm(%q) decoded, but its encoding %q does not: %v", raw, enc, err)
		}
		if !reflect.DeepEqual(dump(form.root), dump(again.root)) {
			t.Fatalf("%q and its encoding %q decode differently:\n%#v\n%#v", raw, enc, dump(form.root), dump(again.root))
		}
		if again.Canonical() != canonical {
			t.Fatalf("%q and its encoding %q have different Canonical forms", raw, enc)
		}
		if !reflect.DeepEqual(form.Keys(), again.Keys()) {
			t.Fatalf("%q and its encoding %q keep keys in different orders", raw, enc)
		}
		if a, b := readAll(t, form), readAll(t, again); a != b {
			t.Fatalf("%q and its encoding %q read differently:\n%s\nvs\n%s", raw, enc, a, b)
		}
	})
}
