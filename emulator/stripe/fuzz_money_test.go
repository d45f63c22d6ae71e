package stripe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// moneyFuzzRoutes are the routes FuzzMoneyAPI sends requests to: those
// that read coupons, promotion codes, tax rates and discounts ({x} is the
// id of an object of kind x made before fuzzing starts).
var moneyFuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/coupons"},
	{"POST", "/v1/coupons/{coupon}"},
	{"GET", "/v1/coupons"},
	{"GET", "/v1/coupons/{coupon}"},
	{"POST", "/v1/promotion_codes"},
	{"POST", "/v1/promotion_codes/{promo}"},
	{"GET", "/v1/promotion_codes"},
	{"POST", "/v1/tax_rates"},
	{"POST", "/v1/tax_rates/{txr}"},
	{"GET", "/v1/tax_rates"},
	{"POST", "/v1/customers"},
	{"POST", "/v1/customers/{customer}"},
	{"POST", "/v1/subscriptions"},
	{"POST", "/v1/subscriptions/{subscription}"},
	{"POST", "/v1/subscription_items/{item}"},
	{"DELETE", "/v1/customers/{customer}/discount"},
	{"DELETE", "/v1/subscriptions/{subscription}/discount"},
	{"POST", "/v1/invoices"},
	{"POST", "/v1/invoices/{draft}"},
	{"POST", "/v1/invoices/{draft}/add_lines"},
	{"POST", "/v1/invoiceitems"},
	{"POST", "/v1/invoiceitems/{invoiceitem}"},
	{"POST", "/v1/invoices/create_preview"},
}

// FuzzMoneyAPI sends any query string and body to the routes of coupons,
// promotion codes, tax rates and discounts, and to those of invoices,
// invoice items and previews that take them, over a surface holding one of
// each, a discounted, taxed subscription and a discounted, taxed draft
// with an item of its own terms: every answer is a success or
// a Stripe error envelope with a 4xx status, never a 500, a panic, or
// something that is not JSON.
func FuzzMoneyAPI(f *testing.F) {
	db, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"), &store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	wall := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	_, r := newSurface(f, clockwork.Options{DB: db, Now: func() time.Time { return wall }, AdvanceDelay: time.Hour}, Options{})
	send := func(method, path, query, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://billclock"+path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer sk_test_fuzzmoney")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	create := func(path string, params url.Values) map[string]any {
		w := send("POST", path, "", params.Encode())
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK {
			f.Fatalf("POST %s: %d %s", path, w.Code, w.Body)
		}
		return out
	}
	ids := map[string]string{}
	ids["coupon"] = create("/v1/coupons", url.Values{"percent_off": {"25"}, "duration": {"forever"}})["id"].(string)
	ids["promo"] = create("/v1/promotion_codes", url.Values{"promotion[type]": {"coupon"}, "promotion[coupon]": {ids["coupon"]},
		"code": {"FUZZ"}})["id"].(string)
	ids["txr"] = create("/v1/tax_rates", url.Values{"display_name": {"VAT"}, "percentage": {"20"}, "inclusive": {"true"}})["id"].(string)
	prod := create("/v1/products", url.Values{"name": {"Seats"}})["id"].(string)
	price := create("/v1/prices", url.Values{"product": {prod}, "currency": {"usd"}, "unit_amount": {"1500"},
		"recurring[interval]": {"month"}})["id"].(string)
	ids["customer"] = create("/v1/customers", url.Values{"coupon": {ids["coupon"]}, "payment_method": {"pm_card_visa"}})["id"].(string)
	sub := create("/v1/subscriptions", url.Values{"customer": {ids["customer"]}, "items[0][price]": {price},
		"items[0][tax_rates][0]": {ids["txr"]}, "discounts[0][promotion_code]": {ids["promo"]}})
	ids["subscription"] = sub["id"].(string)
	ids["item"] = sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	ids["draft"] = create("/v1/invoices", url.Values{"customer": {ids["customer"]}, "discounts[0][coupon]": {ids["coupon"]},
		"default_tax_rates[0]": {ids["txr"]}})["id"].(string)
	ids["invoiceitem"] = create("/v1/invoiceitems", url.Values{"invoice": {ids["draft"]}, "amount": {"1000"}, "currency": {"usd"},
		"discounts[0][coupon]": {ids["coupon"]}, "tax_rates[0]": {ids["txr"]}})["id"].(string)

	for i, seed := range []struct{ query, body string }{
		{"", "percent_off=33.3333&duration=repeating&duration_in_months=1200&applies_to[products][0]=" + prod},
		{"", "amount_off=99999999&currency=usd&redeem_by=1793534400&max_redemptions=1&id=X-1&name=%C3%A9"},
		{"", "promotion[type]=coupon&promotion[coupon]=" + ids["coupon"] + "&restrictions[minimum_amount]=5000&restrictions[minimum_amount_currency]=usd&expires_at=1793534400"},
		{"", "display_name=GST&percentage=0.0001&inclusive=false&tax_type=gst&country=AU"},
		{"", "discounts[0][coupon]=" + ids["coupon"] + "&discounts[1][discount]=di_x&default_tax_rates[]=" + ids["txr"]},
		{"", "discounts=&default_tax_rates=&automatic_tax[enabled]=false&items[0][tax_rates]="},
		{"active=true&code=fuzz&limit=3", ""},
		{"", "coupon=&promotion_code=" + ids["promo"]},
		{"", "customer=" + ids["customer"] + "&discounts[0][discount]=di_x&default_tax_rates[0]=" + ids["txr"] + "&automatic_tax[enabled]=true"},
		{"", "lines[0][amount]=5&lines[0][discounts][0][promotion_code]=" + ids["promo"] + "&lines[0][tax_rates][]=" + ids["txr"]},
		{"", "subscription=" + ids["subscription"] + "&subscription_details[items][0][id]=" + ids["item"] +
			"&subscription_details[items][0][tax_rates]=&subscription_details[default_tax_rates][0]=" + ids["txr"]},
	} {
		f.Add(uint8(i), seed.query, seed.body)
	}
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		rt := moneyFuzzRoutes[int(route)%len(moneyFuzzRoutes)]
		path := rt.path
		for kind, id := range ids {
			path = strings.ReplaceAll(path, "{"+kind+"}", id)
		}
		w := send(rt.method, path, query, body)
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s?%s %q: %d, body not JSON: %s", rt.method, path, query, body, w.Code, w.Body)
		}
		switch w.Code {
		case http.StatusOK:
			return
		case http.StatusBadRequest, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s %s?%s %q: status %d: %s", rt.method, path, query, body, w.Code, w.Body)
		}
		e, _ := out["error"].(map[string]any)
		if e == nil || e["message"] == "" || e["type"] == "" {
			t.Fatalf("%s %s?%s %q: %d without Stripe's error envelope: %s", rt.method, path, query, body, w.Code, w.Body)
		}
	})
}
