package stripe

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// TestStringLimitsCountCharacters: every length limit counts characters,
// as Stripe does, so a name of multi-byte characters gets the whole limit,
// and a refusal echoes whole characters only.
func TestStringLimitsCountCharacters(t *testing.T) {
	a := newAPI(t, nil, Options{})
	prod := a.ok("POST", "/v1/products", url.Values{"name": {"Pro"}})["id"].(string)
	price := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"100"}, "product": {prod},
		"recurring[interval]": {"month"}})["id"].(string)
	cust := a.ok("POST", "/v1/customers", nil)["id"].(string)
	sub := a.ok("POST", "/v1/subscriptions", url.Values{"customer": {cust}, "items[0][price]": {price}})["id"].(string)
	we := a.ok("POST", "/v1/webhook_endpoints", url.Values{"url": {"https://example.com/hook"}, "enabled_events[]": {"*"}})["id"].(string)

	tooLong := func(s string, max int) string {
		r := []rune(s)
		return "Invalid string: " + string(r[:10]) + "..." + string(r[len(r)-10:]) + "; must be at most " + itoa(max) + " characters"
	}
	cases := []struct {
		path, param string
		max         int
		extra       url.Values // other parameters the call needs
		// specWrong: Stripe's spec gives the object's field a shorter
		// maxLength than the request's (5000, its default, see
		// stripe/openapi#51), so the answer is not checked against it.
		specWrong bool
	}{
		{"/v1/test_helpers/test_clocks", "name", 300, url.Values{"frozen_time": {"1732320000"}}, false},
		{"/v1/customers", "name", 256, nil, false},
		{"/v1/customers", "email", 512, nil, false},
		{"/v1/customers", "description", 5000, nil, false},
		{"/v1/customers/" + cust, "name", 256, nil, false},
		{"/v1/customers/" + cust, "description", 5000, nil, false},
		{"/v1/products", "name", 5000, nil, false},
		{"/v1/products", "description", 40000, url.Values{"name": {"x"}}, true},
		{"/v1/products/" + prod, "name", 5000, nil, false},
		{"/v1/products/" + prod, "description", 40000, nil, true},
		{"/v1/prices", "nickname", 5000, url.Values{"currency": {"usd"}, "unit_amount": {"1"}, "product": {prod}}, false},
		{"/v1/prices", "lookup_key", 200, url.Values{"currency": {"usd"}, "unit_amount": {"1"}, "product": {prod}}, false},
		{"/v1/prices", "product_data[name]", 5000, url.Values{"currency": {"usd"}, "unit_amount": {"1"}}, false},
		{"/v1/prices/" + price, "nickname", 5000, nil, false},
		{"/v1/prices/" + price, "lookup_key", 200, url.Values{"transfer_lookup_key": {"true"}}, false},
		{"/v1/subscriptions/" + sub, "description", 500, nil, false},
		{"/v1/webhook_endpoints", "description", 5000, url.Values{"url": {"https://example.com/h"}, "enabled_events[]": {"*"}}, false},
		{"/v1/webhook_endpoints/" + we, "description", 5000, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.path+" "+tc.param, func(t *testing.T) {
			a := *a
			a.t = t
			if tc.specWrong {
				a.spec = nil
			}
			with := func(v string) url.Values {
				p := url.Values{tc.param: {v}}
				for k, vs := range tc.extra {
					p[k] = vs
				}
				return p
			}
			// Each "é" is two bytes: max of them is over max bytes but
			// within max characters.
			at := strings.Repeat("é", tc.max)
			a.ok("POST", tc.path, with(at))
			over := "€" + strings.Repeat("é", tc.max-1) + "日"
			a.fails("POST", tc.path, with(over), http.StatusBadRequest, tc.param, "", tooLong(over, tc.max))
		})
	}

	// Metadata: keys up to 40 characters, values up to 500.
	a.ok("POST", "/v1/customers/"+cust, url.Values{"metadata[" + strings.Repeat("ключ", 10) + "]": {strings.Repeat("日", 500)}})
	got := a.ok("GET", "/v1/customers/"+cust, nil)["metadata"].(map[string]any)
	assert.Equal(t, strings.Repeat("日", 500), got[strings.Repeat("ключ", 10)])
	longKey := strings.Repeat("ключ", 10) + "!"
	a.fails("POST", "/v1/customers/"+cust, url.Values{"metadata[" + longKey + "]": {"v"}}, http.StatusBadRequest, "metadata", "",
		`Metadata keys can have up to 40 characters; the key "`+longKey+`" has 41.`)
	a.fails("POST", "/v1/customers/"+cust, url.Values{"metadata[k]": {strings.Repeat("日", 501)}}, http.StatusBadRequest,
		"metadata[k]", "", "Metadata values can have up to 500 characters.")
	status, body := a.do("POST", "/v1/customers/"+cust, url.Values{"metadata[\xff\xfe" + strings.Repeat("k", 40) + "]": {"v"}})
	assert.Equal(t, http.StatusBadRequest, status)
	assert.True(t, utf8.ValidString(body["error"].(map[string]any)["message"].(string)))
}

func itoa(n int) string { return strconv.Itoa(n) }
