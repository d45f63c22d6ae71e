package stripe

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
)

// pagesFixture is a surface with a Checkout Session, a portal session and
// a finalized invoice, and the addresses of their pages.
type pagesFixture struct {
	s    *Surface
	send func(method, target, contentType, body string) *httptest.ResponseRecorder
	// urls are the pages' paths: checkout, portal, invoice, pdf.
	urls map[string]string
	ids  map[string]string
}

func newPagesFixture(t testing.TB) *pagesFixture {
	t.Helper()
	wall := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s, r := newSurface(t, clockwork.Options{Now: func() time.Time { return wall }, AdvanceDelay: time.Hour},
		Options{PublicURL: "http://billclock.test"})
	const key = "sk_test_pages"
	fx := &pagesFixture{s: s, urls: map[string]string{}, ids: map[string]string{}}
	fx.send = func(method, target, contentType, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://billclock.test"+target, strings.NewReader(body))
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if strings.HasPrefix(target, "/v1/") || strings.HasPrefix(target, "/_billclock/checkout") {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	create := func(path string, params url.Values) map[string]any {
		w := fx.send("POST", path, "application/x-www-form-urlencoded", params.Encode())
		var out map[string]any
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out))
		require.Equal(t, http.StatusOK, w.Code, "POST %s: %s", path, w.Body)
		return out
	}
	path := func(u any) string {
		s, ok := u.(string)
		require.True(t, ok, "no url: %v", u)
		return strings.TrimPrefix(s, "http://billclock.test")
	}
	prod := create("/v1/products", url.Values{"name": {"Seats"}})["id"].(string)
	price := create("/v1/prices", url.Values{"product": {prod}, "currency": {"usd"}, "unit_amount": {"1500"},
		"recurring[interval]": {"month"}})["id"].(string)
	cust := create("/v1/customers", url.Values{"email": {"a@example.com"}, "payment_method": {"pm_card_chargeCustomerFail"}})["id"].(string)
	cs := create("/v1/checkout/sessions", url.Values{"mode": {"subscription"}, "line_items[0][price]": {price},
		"line_items[0][quantity]": {"2"}, "line_items[0][adjustable_quantity][enabled]": {"true"},
		"allow_promotion_codes": {"true"}, "success_url": {"https://example.com/ok"}})
	fx.urls["checkout"], fx.ids["cs"] = path(cs["url"]), cs["id"].(string)
	sub := create("/v1/subscriptions", url.Values{"customer": {cust}, "items[0][price]": {price}})
	fx.ids["sub"], fx.ids["cus"] = sub["id"].(string), cust
	inv := create("/v1/invoices/"+sub["latest_invoice"].(string)+"/void", nil)
	_ = inv
	sub2 := create("/v1/subscriptions", url.Values{"customer": {cust}, "items[0][price]": {price}})
	w := fx.send("GET", "/v1/invoices/"+sub2["latest_invoice"].(string), "", "")
	var open map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &open))
	require.Equal(t, "open", open["status"], "the card declines: the first invoice stays open")
	fx.urls["invoice"], fx.urls["pdf"] = path(open["hosted_invoice_url"]), path(open["invoice_pdf"])
	fx.ids["in"] = open["id"].(string)
	ps := create("/v1/billing_portal/sessions", url.Values{"customer": {cust}})
	fx.urls["portal"] = path(ps["url"])
	return fx
}

func TestPageTokens(t *testing.T) {
	fx := newPagesFixture(t)
	for name, u := range fx.urls {
		w := fx.send("GET", u, "", "")
		require.Equal(t, http.StatusOK, w.Code, "%s %s: %s", name, u, w.Body)
	}
	assert.Equal(t, "application/pdf", fx.send("GET", fx.urls["pdf"], "", "").Header().Get("Content-Type"))

	tok := pageToken("sk_test_pages", pageInvoice, fx.ids["in"])
	assert.Equal(t, tok, pageToken("sk_test_pages", pageInvoice, fx.ids["in"]), "an invoice's address never changes")
	assert.NotEqual(t, tok, pageToken("sk_test_other", pageInvoice, fx.ids["in"]), "the mac is the key's")
	assert.NotEqual(t, tok, pageToken("sk_test_pages", pageCheckout, fx.ids["in"]), "and the page kind's")
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(tok, "test_"))
	require.NoError(t, err)
	parts := strings.Split(string(raw), ":")
	require.Len(t, parts, 3)
	assert.Len(t, parts[2], 40, "160 bits of mac")
	assert.NotContains(t, string(raw), "sk_test_pages", "the key is not in the address")

	// Every way of getting the token wrong gives the same not-found page.
	acct := accountID("sk_test_pages")
	forge := func(fields ...string) string {
		return "test_" + base64.RawURLEncoding.EncodeToString([]byte(strings.Join(fields, ":")))
	}
	otherMac := pageMAC("sk_test_other", pageInvoice, fx.ids["in"])
	for what, u := range map[string]string{
		"no prefix":          "/i/" + acct + "/" + strings.TrimPrefix(tok, "test_"),
		"not base64":         "/i/" + acct + "/test_%25%25",
		"another key's mac":  "/i/" + acct + "/" + forge(acct, fx.ids["in"], otherMac),
		"a mac cut short":    "/i/" + acct + "/" + forge(acct, fx.ids["in"], parts[2][:39]),
		"another object":     "/i/" + acct + "/" + forge(acct, fx.ids["cs"], parts[2]),
		"another account":    "/i/acct_0000000000000000/" + tok,
		"a checkout's token": "/i/" + acct + "/" + pageToken("sk_test_pages", pageCheckout, fx.ids["in"]),
		"the portal's kind":  "/p/session/" + strings.TrimPrefix(fx.urls["invoice"], "/i/"+acct+"/"),
		"a missing session":  "/c/pay/" + pageToken("sk_test_pages", pageCheckout, "cs_test_nope"),
		"pdf, another mac":   "/invoice/" + acct + "/" + forge(acct, fx.ids["in"], otherMac) + "/pdf",
	} {
		w := fx.send("GET", u, "", "")
		assert.Equal(t, http.StatusNotFound, w.Code, what)
		assert.Contains(t, w.Body.String(), "This link is not valid", what)
		assert.NotContains(t, w.Body.String(), fx.ids["in"], what)
	}
	// A key the server does not take has no pages.
	s2, r2 := newSurface(t, clockwork.Options{DB: fx.s.db, APIKeys: []string{"sk_test_onlyme"}}, Options{PublicURL: "http://billclock.test"})
	_ = s2
	w := httptest.NewRecorder()
	r2.ServeHTTP(w, httptest.NewRequest("GET", "http://billclock.test"+fx.urls["invoice"], nil))
	assert.Equal(t, http.StatusNotFound, w.Code)
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string][2]int64{"12 / 34": {12, 34}, "01/2031": {1, 2031}, "0930": {9, 30}, "1-29": {1, 29}} {
		m, y, ok := parseExpiry(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, [2]int64{m, y}, in)
	}
	for _, in := range []string{"", "12", "ab/cd", "12/3", "12/345", "1/2/3"} {
		_, _, ok := parseExpiry(in)
		assert.False(t, ok, in)
	}
}

// FuzzPages sends any form to the pages' forms and the control route, and
// any token to every page: answers are pages (or Stripe's envelope on the
// control route) with a 2xx, 3xx or 4xx status, never a 500 or a panic.
func FuzzPages(f *testing.F) {
	fx := newPagesFixture(f)
	targets := []struct{ method, path, ct string }{
		{"POST", fx.urls["checkout"], "application/x-www-form-urlencoded"},
		{"POST", fx.urls["portal"], "application/x-www-form-urlencoded"},
		{"POST", fx.urls["invoice"], "application/x-www-form-urlencoded"},
		{"POST", "/_billclock/checkout/sessions/" + fx.ids["cs"] + "/complete", "application/x-www-form-urlencoded"},
		{"GET", "/c/pay/", ""},
		{"GET", "/p/session/", ""},
		{"GET", "/i/" + accountID("sk_test_pages") + "/", ""},
		{"GET", "/invoice/" + accountID("sk_test_pages") + "/", ""},
	}
	for i, seed := range []string{
		"card=4242424242424242&exp=12%2F34&cvc=123&quantity_0=3&promotion_code=X",
		"card=4000000000000002",
		"action=update_subscription&subscription=" + fx.ids["sub"] + "&item=si_x&quantity=-1",
		"action=cancel_subscription&subscription=" + fx.ids["sub"],
		"action=update_payment_method&card=tok_visa",
		"card=pm_card_visa&line_items[0][quantity]=99999999999",
		strings.TrimPrefix(fx.urls["invoice"], "/i/"+accountID("sk_test_pages")+"/"),
		"test_" + base64.RawURLEncoding.EncodeToString([]byte("acct_x:in_y:z")),
	} {
		f.Add(uint8(i), seed)
	}
	f.Fuzz(func(t *testing.T, target uint8, input string) {
		tg := targets[int(target)%len(targets)]
		var w *httptest.ResponseRecorder
		if tg.method == "GET" {
			suffix := url.PathEscape(input)
			if strings.HasPrefix(tg.path, "/invoice/") {
				suffix += "/pdf"
			}
			w = fx.send("GET", tg.path+suffix, "", "")
		} else {
			w = fx.send(tg.method, tg.path, tg.ct, input)
		}
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", tg.method, tg.path, input, w.Code, w.Body)
		}
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code/100 == 3, strings.HasPrefix(ct, "text/html"), ct == "application/pdf":
		case strings.HasPrefix(tg.path, "/_billclock/") && strings.HasPrefix(ct, "application/json"):
		case strings.HasPrefix(ct, "application/json") && (w.Code == http.StatusNotFound || w.Code == http.StatusUnauthorized):
			// a path the input made that no page has (an empty token):
			// the router's answer in Stripe's envelope
		default:
			t.Fatalf("%s %s %q: %d with Content-Type %q", tg.method, tg.path, input, w.Code, ct)
		}
	})
}
