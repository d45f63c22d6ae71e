package stripe

import (
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

// FuzzParseForm checks that no input panics the decoder, and that whatever
// decodes has a canonical form that decodes no differently when re-read
// through the params reader.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"frozen_time=1732320000&name=x", "items[0][price]=p&items[0][quantity]=2", "expand[]=a&expand[]=b",
		"a[][b]=1&a[][b]=2", "a[b=1", "%zz", "metadata[k]=&x=%20", "a=1&a[b]=2", "limit=abc&created[gte]=5",
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
			return
		}
		_ = form.Canonical()
		p := newParams(form)
		for _, k := range form.Keys() {
			p.str(k)
			p.strings(k)
			p.int64(k)
			rangeParam(p, k)
		}
		if err := p.check(); err != nil {
			if _, ok := apiError(err); !ok {
				t.Fatalf("params error is not an API error: %v", err)
			}
		}
		_ = pageParams(newParams(form))
	})
}
