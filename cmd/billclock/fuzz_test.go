package main

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzParseTimestamp: any input is either a timestamp or a clear error.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"1732320000", "-1", "2024-11-23T00:00:00Z", "2024-11-23T00:00:00+01:00", "", "soon", "9999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := parseTimestamp(s); err != nil && !strings.Contains(err.Error(), "invalid timestamp") {
			t.Fatalf("parseTimestamp(%q): unclear error %v", s, err)
		}
	})
}

// FuzzFixture: a fixture file of any content is either refused with an
// error or encodes into parameters, with references resolved or reported,
// and never panics.
func FuzzFixture(f *testing.F) {
	f.Add(`{"_meta":{"template_version":0},"fixtures":[{"name":"c","path":"/v1/customers","method":"post","params":{"email":"a@b.c","metadata":{"k":"v"},"items":[{"price":"${p:id}"}]}}]}`)
	f.Add(`{"fixtures":[{"name":"x","path":"/v1/x/${c:items.data[0].id|none}","method":"get","params":{"n":1.5,"b":true,"z":null}}]}`)
	f.Add(`{"_meta":{"template_version":7}}`)
	f.Add(`[]`)
	f.Fuzz(func(t *testing.T, raw string) {
		fx, err := parseFixture([]byte(raw))
		if err != nil {
			return
		}
		r := &fixtureRunner{getenv: func(string) string { return "" },
			responses: map[string]any{"c": map[string]any{"id": "cus_1", "items": map[string]any{"data": []any{map[string]any{"id": "si_1"}}}}}}
		for _, step := range fx.Steps {
			r.resolve(step.Path)
			for k, v := range step.Params {
				r.encodeParams(url.Values{}, k, v)
			}
		}
	})
}
