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

// fuzzRoutes are the routes FuzzAPI sends requests to; {x} stands for the
// id of an object of kind x made before fuzzing starts.
var fuzzRoutes = []struct{ method, path string }{
	{"POST", "/v1/test_helpers/test_clocks"},
	{"GET", "/v1/test_helpers/test_clocks"},
	{"POST", "/v1/test_helpers/test_clocks/{clock}/advance"},
	{"POST", "/v1/customers"},
	{"GET", "/v1/customers"},
	{"POST", "/v1/customers/{customer}"},
	{"POST", "/v1/products"},
	{"POST", "/v1/products/{product}"},
	{"GET", "/v1/products"},
	{"POST", "/v1/prices"},
	{"POST", "/v1/prices/{price}"},
	{"GET", "/v1/prices"},
	{"POST", "/v1/subscriptions"},
	{"GET", "/v1/subscriptions"},
	{"GET", "/v1/subscriptions/{subscription}"},
	{"POST", "/v1/subscriptions/{subscription}"},
	{"DELETE", "/v1/subscriptions/{subscription}"},
	{"POST", "/v1/subscription_items"},
	{"GET", "/v1/subscription_items"},
	{"POST", "/v1/subscription_items/{item}"},
	{"DELETE", "/v1/subscription_items/{item}"},
	{"GET", "/v1/invoices"},
	{"GET", "/v1/invoices/{invoice}/lines"},
	{"POST", "/v1/invoices/{invoice}/pay"},
	{"POST", "/v1/invoices/{invoice}/finalize"},
	{"POST", "/v1/invoices/{invoice}/void"},
	{"GET", "/v1/invoiceitems"},
	{"POST", "/v1/webhook_endpoints"},
	{"POST", "/v1/webhook_endpoints/{webhook}"},
	{"GET", "/v1/events"},
	{"POST", "/v1/checkout/sessions"},
	{"GET", "/v1/checkout/sessions"},
	{"POST", "/v1/billing_portal/configurations"},
	{"POST", "/v1/billing_portal/sessions"},
	{"GET", "/_billclock/test_clocks/{clock}/progress"},
	{"POST", "/v1/subscriptions/{subscription}/resume"},
	{"POST", "/v1/plans"},
	{"GET", "/v1/plans"},
	{"POST", "/v1/plans/{price}"},
	{"POST", "/v1/subscription_schedules"},
	{"GET", "/v1/subscription_schedules"},
	{"POST", "/v1/subscription_schedules/{schedule}"},
	{"POST", "/v1/subscription_schedules/{schedule}/cancel"},
	{"POST", "/v1/subscription_schedules/{schedule}/release"},
	{"POST", "/v1/setup_intents"},
	{"POST", "/v1/setup_intents/{setup}"},
	{"POST", "/v1/setup_intents/{setup}/confirm"},
	{"GET", "/v1/setup_intents"},
	{"POST", "/v1/refunds"},
	{"GET", "/v1/refunds"},
	{"GET", "/v1/customers/search"},
	{"GET", "/v1/charges/search"},
	{"GET", "/v1/invoices/search"},
	{"GET", "/v1/subscriptions/search"},
	{"POST", "/v1/invoiceitems"},
	{"POST", "/v1/invoiceitems/{invoiceitem}"},
	{"DELETE", "/v1/invoiceitems/{invoiceitem}"},
	{"POST", "/v1/invoices"},
	{"POST", "/v1/invoices/{draft}"},
	{"DELETE", "/v1/invoices/{draft}"},
	{"POST", "/v1/invoices/{draft}/send"},
	{"POST", "/v1/invoices/{invoice}/mark_uncollectible"},
	{"POST", "/v1/invoices/{draft}/add_lines"},
	{"POST", "/v1/invoices/{draft}/remove_lines"},
	{"POST", "/v1/invoices/create_preview"},
	{"POST", "/v1/customers/{customer}/sources"},
}

// FuzzAPI sends any query string and body to any route of a surface that
// holds a clock, customers, a subscription and its invoice: every answer is
// a success or a Stripe error envelope with a 4xx status and a message,
// never a 500, a panic, or something that is not JSON.
func FuzzAPI(f *testing.F) {
	db, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"), &store.Options{NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	wall := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	// A long advance delay: accepted advances are stored but never run, so
	// no background work outlives the test.
	_, r := newSurface(f, clockwork.Options{DB: db, Now: func() time.Time { return wall }, AdvanceDelay: time.Hour}, Options{})
	const key = "sk_test_fuzz"
	send := func(method, path, query, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://billclock"+path, strings.NewReader(body))
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+key)
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
	ids["clock"] = create("/v1/test_helpers/test_clocks", url.Values{"frozen_time": {"1732320000"}})["id"].(string)
	ids["product"] = create("/v1/products", url.Values{"name": {"Seats"}})["id"].(string)
	ids["price"] = create("/v1/prices", url.Values{"product": {ids["product"]}, "currency": {"usd"}, "unit_amount": {"1500"},
		"recurring[interval]": {"month"}})["id"].(string)
	create("/v1/customers", url.Values{"test_clock": {ids["clock"]}})
	ids["customer"] = create("/v1/customers", url.Values{"email": {"a@example.com"}})["id"].(string)
	sub := create("/v1/subscriptions", url.Values{"customer": {ids["customer"]}, "items[0][price]": {ids["price"]},
		"items[0][quantity]": {"3"}})
	ids["subscription"] = sub["id"].(string)
	ids["item"] = sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)["id"].(string)
	ids["invoice"] = sub["latest_invoice"].(string)
	ids["schedule"] = create("/v1/subscription_schedules", url.Values{"customer": {ids["customer"]}, "start_date": {"now"},
		"phases[0][items][0][price]": {ids["price"]}, "phases[0][iterations]": {"2"},
		"phases[1][items][0][price]": {ids["price"]}, "phases[1][items][0][quantity]": {"4"}})["id"].(string)
	ids["webhook"] = create("/v1/webhook_endpoints", url.Values{"url": {"https://example.com/hook"}, "enabled_events[]": {"*"}})["id"].(string)
	ids["setup"] = create("/v1/setup_intents", url.Values{"customer": {ids["customer"]}})["id"].(string)
	create("/v1/payment_intents", url.Values{"amount": {"2000"}, "currency": {"usd"}, "payment_method": {"pm_card_visa"},
		"confirm": {"true"}, "customer": {ids["customer"]}})
	ids["draft"] = create("/v1/invoices", url.Values{"customer": {ids["customer"]}})["id"].(string)
	ids["invoiceitem"] = create("/v1/invoiceitems", url.Values{"customer": {ids["customer"]}, "invoice": {ids["draft"]},
		"amount": {"700"}, "currency": {"usd"}})["id"].(string)

	for i, seed := range []struct{ query, body string }{
		{"", "frozen_time=1732406400"},
		{"limit=3&created[gte]=0", ""},
		{"", "items[0][id]=" + ids["item"] + "&items[0][quantity]=5&proration_behavior=always_invoice"},
		{"", "customer=" + ids["customer"] + "&items[][price]=" + ids["price"] + "&items[][quantity]=999999&trial_end=now"},
		{"expand[]=data.customer", "metadata[k]=v&description=%C3%A9"},
		{"", "unit_amount=99999999&currency=usd&product=" + ids["product"] + "&recurring[interval]=day&recurring[interval_count]=1095"},
		{"", "cancel_at=4102444799&proration_date=1793534400"},
		{"", "mode=subscription&line_items[0][price]=" + ids["price"] + "&line_items[0][quantity]=2&" +
			"line_items[0][adjustable_quantity][enabled]=true&subscription_data[trial_period_days]=7&expires_at=1793534400"},
		{"", "features[subscription_update][enabled]=true&features[subscription_update][default_allowed_updates][]=price&" +
			"customer=" + ids["customer"] + "&flow_data[type]=subscription_cancel&flow_data[subscription_cancel][subscription]=" +
			ids["subscription"]},
		{"", "backdate_start_date=1700000000&billing_cycle_anchor_config[day_of_month]=31&add_invoice_items[0][price_data][unit_amount]=5"},
		{"", "pause_collection[behavior]=void&pause_collection[resumes_at]=1893456000&billing_cycle_anchor=now"},
		{"", "phases[0][start_date]=now&phases[0][items][0][price_data][recurring][interval]=week&phases[0][duration][interval]=day&end_behavior=cancel"},
		{"", "id=plan_x&amount=100&currency=usd&interval=month&product[name]=P&trial_period_days=3"},
		{"query=email~'example' OR metadata['k']:null&limit=2&expand[]=total_count", ""},
		{"query=amount>=100 refunded:'false' payment_method_details.card.last4:4242&page=YmNwYWdlMTpjdXNfeA", ""},
		{"", "payment_method=pm_card_chargeDeclined&confirm=true&amount=500"},
	} {
		f.Add(uint8(i), seed.query, seed.body)
	}
	route := func(method, path string) uint8 {
		for i, r := range fuzzRoutes {
			if r.method == method && r.path == path {
				return uint8(i)
			}
		}
		f.Fatalf("no fuzz route %s %s", method, path)
		return 0
	}
	for _, seed := range []struct{ method, path, body string }{
		{"POST", "/v1/invoiceitems", "customer=" + ids["customer"] + "&price_data[currency]=usd&price_data[product]=" + ids["product"] +
			"&price_data[unit_amount_decimal]=12.5&quantity=3&period[start]=1&period[end]=0&discounts[0][coupon]=x&tax_rates[]="},
		{"POST", "/v1/invoiceitems/{invoiceitem}", "amount=-99999999&quantity=2&pricing[price]=" + ids["price"]},
		{"POST", "/v1/invoices", "customer=" + ids["customer"] + "&collection_method=send_invoice&days_until_due=3651&due_date=1&" +
			"pending_invoice_items_behavior=include&automatic_tax[enabled]=true&number=" + strings.Repeat("9", 27)},
		{"POST", "/v1/invoices/{draft}", "auto_advance=true&automatically_finalizes_at=1&discounts=&default_tax_rates[0]=txr_1"},
		{"POST", "/v1/invoices/{draft}/add_lines", "lines[0][invoice_item]=" + ids["invoiceitem"] + "&lines[1][amount]=5&lines[1][pricing][price]=x"},
		{"POST", "/v1/invoices/{draft}/remove_lines", "lines[0][id]=il_x&lines[0][behavior]=erase&invoice_metadata[k]=v"},
		{"POST", "/v1/invoices/create_preview", "subscription=" + ids["subscription"] + "&subscription_details[items][0][id]=" +
			ids["item"] + "&subscription_details[items][0][quantity]=7&subscription_details[proration_behavior]=always_invoice&" +
			"subscription_details[proration_date]=1"},
		{"POST", "/v1/invoices/create_preview", "customer=" + ids["customer"] + "&subscription_details[items][0][price]=" + ids["price"] +
			"&subscription_details[trial_end]=now&preview_mode=recurring"},
		{"POST", "/v1/customers/{customer}/sources", "source=tok_chargeDeclined&metadata[a]=b"},
		{"POST", "/v1/subscriptions", "customer=" + ids["customer"] + "&items[0][price]=" + ids["price"] +
			"&add_invoice_items[0][price_data][currency]=usd&add_invoice_items[0][price_data][product]=" + ids["product"] +
			"&add_invoice_items[0][price_data][unit_amount_decimal]=250&add_invoice_items[0][discounts][0][coupon]=x" +
			"&add_invoice_items[0][tax_rates][]=txr_1&add_invoice_items[0][discountable]=false"},
		{"POST", "/v1/subscriptions/{subscription}", "add_invoice_items[0][price]=" + ids["price"] +
			"&add_invoice_items[0][period][start][type]=now&add_invoice_items[0][period][end][type]=timestamp" +
			"&add_invoice_items[0][period][end][timestamp]=1&add_invoice_items[1][period][start][type]=max_item_period_start"},
		{"POST", "/v1/subscription_schedules", "customer=" + ids["customer"] + "&phases[0][items][0][price]=" + ids["price"] +
			"&phases[0][add_invoice_items][0][price]=" + ids["price"] + "&phases[0][add_invoice_items][0][period][start][type]=phase_end" +
			"&phases[0][add_invoice_items][0][period][end][type]=phase_start&phases[0][add_invoice_items][0][discounts][0][promotion_code]=p"},
		{"POST", "/v1/checkout/sessions", "mode=subscription&success_url=https://x.example&line_items[0][quantity]=1" +
			"&line_items[0][price_data][currency]=usd&line_items[0][price_data][product_data][name]=P" +
			"&line_items[0][price_data][unit_amount_decimal]=1e3&line_items[0][price_data][recurring][interval]=year" +
			"&line_items[0][price_data][recurring][interval_count]=4"},
	} {
		f.Add(route(seed.method, seed.path), "", seed.body)
	}
	f.Fuzz(func(t *testing.T, route uint8, query, body string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
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
		case http.StatusBadRequest, http.StatusPaymentRequired, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%s %s?%s %q: status %d: %s", rt.method, path, query, body, w.Code, w.Body)
		}
		e, _ := out["error"].(map[string]any)
		if e == nil || e["message"] == "" || e["type"] == "" {
			t.Fatalf("%s %s?%s %q: %d without Stripe's error envelope: %s", rt.method, path, query, body, w.Code, w.Body)
		}
	})
}
