package stripe

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/emulator/stripe/conformance"
)

var loadStripeSpec = sync.OnceValues(func() (*conformance.Spec, error) {
	return conformance.Load("../../testdata/openapi/stripe-subset.json")
})

// api drives a Surface over HTTP and checks every answer against Stripe's
// OpenAPI extract (unless spec is nil).
type api struct {
	t    *testing.T
	srv  *httptest.Server
	spec *conformance.Spec
	key  string
}

// catalogWall is the wall time of the catalog tests.
var catalogWall = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// newAPI serves the Stripe dialect with opts, at the wall time now
// (catalogWall if nil).
func newAPI(t *testing.T, now func() time.Time, opts Options) *api {
	t.Helper()
	spec, err := loadStripeSpec()
	require.NoError(t, err)
	if now == nil {
		now = func() time.Time { return catalogWall }
	}
	_, r := newSurface(t, clockwork.Options{Now: now}, opts)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &api{t: t, srv: srv, spec: spec, key: "sk_test_catalog"}
}

// do sends params in the query string (GET, DELETE) or the body (POST).
func (a *api) do(method, path string, params url.Values) (int, map[string]any) {
	a.t.Helper()
	target, body := a.srv.URL+path, ""
	if method == http.MethodPost {
		body = params.Encode()
	} else if len(params) > 0 {
		target += "?" + params.Encode()
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	require.NoError(a.t, err)
	req.Header.Set("Authorization", "Bearer "+a.key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := a.srv.Client().Do(req)
	require.NoError(a.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(a.t, err)
	if a.spec != nil {
		err = a.spec.ValidateResponse(method, path, resp.StatusCode, raw)
		var invalid *conformance.ValidationError
		if err != nil && !errors.As(err, &invalid) && resp.StatusCode >= 400 {
			err = a.spec.ValidateSchema("error", json.RawMessage(raw))
		}
		assert.NoError(a.t, err, "%s %s -> %d: %s", method, path, resp.StatusCode, raw)
	}
	var out map[string]any
	require.NoError(a.t, json.Unmarshal(raw, &out), "%s", raw)
	return resp.StatusCode, out
}

// ok does a call that must succeed.
func (a *api) ok(method, path string, params url.Values) map[string]any {
	a.t.Helper()
	status, body := a.do(method, path, params)
	require.Equal(a.t, http.StatusOK, status, "%s %s: %v", method, path, body)
	return body
}

// fails does a call that must fail with status and message (and param and
// code, when not empty).
func (a *api) fails(method, path string, params url.Values, status int, param, code, message string) {
	a.t.Helper()
	got, body := a.do(method, path, params)
	require.Equal(a.t, status, got, "%s %s: %v", method, path, body)
	e := body["error"].(map[string]any)
	assert.Equal(a.t, message, e["message"])
	if param != "" {
		assert.Equal(a.t, param, e["param"])
	}
	if code != "" {
		assert.Equal(a.t, code, e["code"])
	}
}

// ids returns the ids in a list's data, in order.
func ids(list map[string]any) []string {
	var out []string
	for _, o := range list["data"].([]any) {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

// eventTypesOf lists the types of the account's events, oldest first.
func (a *api) eventTypesOf(objectID string) []string {
	a.t.Helper()
	list := a.ok("GET", "/v1/events", url.Values{"limit": {"100"}})
	var out []string
	data := list["data"].([]any)
	for i := len(data) - 1; i >= 0; i-- {
		ev := data[i].(map[string]any)
		if ev["data"].(map[string]any)["object"].(map[string]any)["id"] == objectID {
			out = append(out, ev["type"].(string))
		}
	}
	return out
}

func TestCustomerLifecycle(t *testing.T) {
	a := newAPI(t, nil, Options{})
	cust := a.ok("POST", "/v1/customers", url.Values{
		"email": {"ada@example.com"}, "name": {"Ada"}, "description": {"first"},
		"metadata[a]": {"1"}, "metadata[b]": {"2"}, "payment_method": {"pm_card_visa"},
	})
	id := cust["id"].(string)
	assert.Regexp(t, `^cus_`, id)
	assert.Equal(t, "customer", cust["object"])
	assert.EqualValues(t, catalogWall.Unix(), cust["created"])
	assert.Equal(t, "ada@example.com", cust["email"])
	assert.Equal(t, map[string]any{"a": "1", "b": "2"}, cust["metadata"])
	// A test payment method id attaches a new payment method, whose id is
	// the default.
	visa := cust["invoice_settings"].(map[string]any)["default_payment_method"].(string)
	assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, visa)
	pm := a.ok("GET", "/v1/payment_methods/"+visa, nil)
	assert.Equal(t, id, pm["customer"])
	assert.Equal(t, "visa", pm["card"].(map[string]any)["brand"])
	assert.Regexp(t, regexp.MustCompile(`^[0-9A-Z]{8}$`), cust["invoice_prefix"])
	assert.EqualValues(t, 1, cust["next_invoice_sequence"], "the first invoice will be -0001")
	assert.Nil(t, cust["test_clock"])

	assert.Equal(t, cust, a.ok("GET", "/v1/customers/"+id, nil))

	// Metadata merges; an empty value deletes its key, and an empty
	// description clears it.
	upd := a.ok("POST", "/v1/customers/"+id, url.Values{
		"metadata[a]": {""}, "metadata[c]": {"3"}, "description": {""}, "name": {"Ada L."},
		"invoice_settings[default_payment_method]": {"pm_card_mastercard"},
	})
	assert.Equal(t, map[string]any{"b": "2", "c": "3"}, upd["metadata"])
	assert.Nil(t, upd["description"])
	assert.Equal(t, "Ada L.", upd["name"])
	assert.Equal(t, "ada@example.com", upd["email"], "fields not sent are kept")
	mastercard := upd["invoice_settings"].(map[string]any)["default_payment_method"].(string)
	assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, mastercard)
	assert.NotEqual(t, visa, mastercard)
	pm = a.ok("GET", "/v1/payment_methods/"+mastercard, nil)
	assert.Equal(t, id, pm["customer"])
	assert.Equal(t, "mastercard", pm["card"].(map[string]any)["brand"])
	assert.Equal(t, cust["invoice_prefix"], upd["invoice_prefix"])

	// metadata= clears every key.
	upd = a.ok("POST", "/v1/customers/"+id, url.Values{"metadata": {""}})
	assert.Equal(t, map[string]any{}, upd["metadata"])
	// A no-op update changes nothing and sends no event.
	a.ok("POST", "/v1/customers/"+id, url.Values{"name": {"Ada L."}})

	del := a.ok("DELETE", "/v1/customers/"+id, nil)
	assert.Equal(t, map[string]any{"id": id, "object": "customer", "deleted": true}, del)
	assert.Equal(t, map[string]any{"id": id, "object": "customer", "deleted": true}, a.ok("GET", "/v1/customers/"+id, nil),
		"a deleted customer reads as its deleted stub")
	a.fails("POST", "/v1/customers/"+id, url.Values{"name": {"x"}}, 404, "id", "resource_missing", "No such customer: '"+id+"'")
	a.fails("DELETE", "/v1/customers/"+id, nil, 404, "id", "resource_missing", "No such customer: '"+id+"'")

	assert.Equal(t, []string{"customer.created", "customer.updated", "customer.updated", "customer.deleted"}, a.eventTypesOf(id))
}

func TestCustomerParams(t *testing.T) {
	a := newAPI(t, nil, Options{})
	a.fails("POST", "/v1/customers", url.Values{"email": {"a@b.c"}, "favourite_colour": {"red"}},
		400, "favourite_colour", "parameter_unknown", "Received unknown parameter: favourite_colour")
	a.fails("POST", "/v1/customers", url.Values{"invoice_settings[favourite_colour]": {"red"}},
		400, "invoice_settings[favourite_colour]", "parameter_unknown", "Received unknown parameter: invoice_settings[favourite_colour]")
	a.fails("POST", "/v1/customers", url.Values{"payment_method": {"card_123"}},
		404, "payment_method", "resource_missing", "No such PaymentMethod: 'card_123'")
	a.fails("POST", "/v1/customers", url.Values{"expand[]": {"subscriptions"}},
		400, "expand", "", "This property cannot be expanded (subscriptions).")
	a.fails("POST", "/v1/customers", url.Values{"test_clock": {"clock_nope"}},
		404, "test_clock", "resource_missing", "No such billingclock: 'clock_nope'")

	// invoice_settings[default_payment_method] wins over payment_method.
	cust := a.ok("POST", "/v1/customers", url.Values{"payment_method": {"pm_card_visa"},
		"invoice_settings[default_payment_method]": {"pm_card_amex"}})
	amex := a.ok("GET", "/v1/payment_methods/"+cust["invoice_settings"].(map[string]any)["default_payment_method"].(string), nil)
	assert.Equal(t, "amex", amex["card"].(map[string]any)["brand"])
	assert.Equal(t, cust["id"], amex["customer"])
	// test_clock cannot be changed after create.
	a.fails("POST", "/v1/customers/"+cust["id"].(string), url.Values{"test_clock": {"clock_x"}},
		400, "test_clock", "parameter_unknown", "Received unknown parameter: test_clock")
}

func TestCustomerOnTestClock(t *testing.T) {
	a := newAPI(t, nil, Options{})
	clock := a.ok("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {"1732320000"}})
	clockID := clock["id"].(string)
	plain := a.ok("POST", "/v1/customers", url.Values{"email": {"plain@example.com"}})
	onClock := a.ok("POST", "/v1/customers", url.Values{"email": {"clocked@example.com"}, "test_clock": {clockID},
		"expand[]": {"test_clock"}})
	assert.EqualValues(t, 1732320000, onClock["created"], "a customer on a clock is created at its frozen_time")
	assert.Equal(t, clockID, onClock["test_clock"].(map[string]any)["id"])
	assert.Equal(t, clockID, a.ok("GET", "/v1/customers/"+onClock["id"].(string), nil)["test_clock"])

	// Customers on a clock are left out unless the list asks for the clock.
	assert.Equal(t, []string{plain["id"].(string)}, ids(a.ok("GET", "/v1/customers", nil)))
	list := a.ok("GET", "/v1/customers", url.Values{"test_clock": {clockID}, "expand[]": {"data.test_clock"}})
	assert.Equal(t, []string{onClock["id"].(string)}, ids(list))
	assert.Equal(t, clockID, list["data"].([]any)[0].(map[string]any)["test_clock"].(map[string]any)["id"])
	assert.Empty(t, ids(a.ok("GET", "/v1/customers", url.Values{"test_clock": {clockID}, "email": {"plain@example.com"}})))

	// While the clock advances (no worker runs in this test), nothing on it
	// may change.
	a.ok("POST", "/v1/test_helpers/test_clocks/"+clockID+"/advance", url.Values{"frozen_time": {"1732406400"}})
	advancing := "The test clock " + clockID + " is advancing. Objects on it cannot be changed until it is ready."
	a.fails("POST", "/v1/customers", url.Values{"test_clock": {clockID}}, 400, "", "", advancing)
	a.fails("POST", "/v1/customers/"+onClock["id"].(string), url.Values{"name": {"x"}}, 400, "", "", advancing)
	a.fails("DELETE", "/v1/customers/"+onClock["id"].(string), nil, 400, "", "", advancing)
	a.ok("POST", "/v1/customers/"+plain["id"].(string), url.Values{"name": {"x"}})
}

func TestCustomerStripeLimits(t *testing.T) {
	for _, limits := range []bool{false, true} {
		a := newAPI(t, nil, Options{StripeLimits: limits})
		clockID := a.ok("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {"1732320000"}})["id"].(string)
		for range 3 {
			a.ok("POST", "/v1/customers", url.Values{"test_clock": {clockID}})
		}
		if !limits {
			a.ok("POST", "/v1/customers", url.Values{"test_clock": {clockID}})
			continue
		}
		a.fails("POST", "/v1/customers", url.Values{"test_clock": {clockID}}, 400, "test_clock", "",
			"Test clocks can have at most 3 customers, and the test clock "+clockID+" already has 3. "+
				"billclock enforces this Stripe limit because it was started with --stripe-limits.")
		a.ok("POST", "/v1/customers", nil) // customers on no clock are not limited
	}
}

func TestCustomerListPagination(t *testing.T) {
	wall := &fakeClock{t: catalogWall}
	a := newAPI(t, wall.Now, Options{})
	var made []string
	for _, email := range []string{"a@x.com", "b@x.com", "a@x.com"} {
		made = append(made, a.ok("POST", "/v1/customers", url.Values{"email": {email}})["id"].(string))
		wall.Add(time.Minute)
	}
	page := a.ok("GET", "/v1/customers", url.Values{"limit": {"2"}})
	assert.Equal(t, []string{made[2], made[1]}, ids(page))
	assert.Equal(t, true, page["has_more"])
	assert.Equal(t, "/v1/customers", page["url"])
	page = a.ok("GET", "/v1/customers", url.Values{"limit": {"2"}, "starting_after": {made[1]}})
	assert.Equal(t, []string{made[0]}, ids(page))
	assert.Equal(t, false, page["has_more"])
	assert.Equal(t, []string{made[2], made[0]}, ids(a.ok("GET", "/v1/customers", url.Values{"email": {"a@x.com"}})))
	created := catalogWall.Add(time.Minute).Unix()
	assert.Equal(t, []string{made[2], made[1]}, ids(a.ok("GET", "/v1/customers",
		url.Values{"created[gte]": {strconv.FormatInt(created, 10)}})))
	a.fails("GET", "/v1/customers", url.Values{"starting_after": {"cus_nope"}}, 404, "starting_after", "resource_missing",
		"No such customer: 'cus_nope'")
	a.fails("GET", "/v1/customers", url.Values{"status": {"active"}}, 400, "status", "parameter_unknown",
		"Received unknown parameter: status")
}

func TestDeleteCustomerCancelsSubscriptions(t *testing.T) {
	a := newAPI(t, nil, Options{})
	price := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seat"}})
	cust := a.ok("POST", "/v1/customers", url.Values{"payment_method": {"pm_card_visa"}})
	sub := a.ok("POST", "/v1/subscriptions", url.Values{"customer": {cust["id"].(string)},
		"items[0][price]": {price["id"].(string)}})
	require.Equal(t, "active", sub["status"])

	a.ok("DELETE", "/v1/customers/"+cust["id"].(string), nil)
	sub = a.ok("GET", "/v1/subscriptions/"+sub["id"].(string), nil)
	assert.Equal(t, "canceled", sub["status"])
	assert.EqualValues(t, catalogWall.Unix(), sub["canceled_at"])
	assert.Contains(t, a.eventTypesOf(sub["id"].(string)), "customer.subscription.deleted")
}

func TestProducts(t *testing.T) {
	a := newAPI(t, nil, Options{})
	a.fails("POST", "/v1/products", url.Values{"description": {"no name"}}, 400, "name", "parameter_missing",
		"Missing required param: name.")
	a.fails("POST", "/v1/products", url.Values{"name": {"x"}, "images[]": {"http://x"}}, 400, "images", "parameter_unknown",
		"Received unknown parameter: images")

	prod := a.ok("POST", "/v1/products", url.Values{"name": {"Pro"}, "description": {"the pro plan"}, "metadata[tier]": {"2"}})
	id := prod["id"].(string)
	assert.Regexp(t, `^prod_`, id)
	assert.Equal(t, true, prod["active"])
	assert.EqualValues(t, catalogWall.Unix(), prod["created"])
	assert.EqualValues(t, catalogWall.Unix(), prod["updated"])
	assert.Equal(t, prod, a.ok("GET", "/v1/products/"+id, nil))

	custom := a.ok("POST", "/v1/products", url.Values{"name": {"Basic"}, "id": {"basic"}, "active": {"false"}})
	assert.Equal(t, "basic", custom["id"])
	a.fails("POST", "/v1/products", url.Values{"name": {"Basic"}, "id": {"basic"}}, 400, "id", "resource_already_exists",
		"Product already exists.")

	a.fails("POST", "/v1/products/"+id, url.Values{"name": {""}}, 400, "name", "",
		"You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset. "+
			"You should remove 'name' from your request or supply a non-empty value.")
	upd := a.ok("POST", "/v1/products/"+id, url.Values{"name": {"Pro+"}, "description": {""}, "metadata[tier]": {""}, "active": {"false"}})
	assert.Equal(t, "Pro+", upd["name"])
	assert.Nil(t, upd["description"])
	assert.Equal(t, map[string]any{}, upd["metadata"])
	assert.Equal(t, false, upd["active"])

	assert.Equal(t, []string{"basic", id}, ids(a.ok("GET", "/v1/products", url.Values{"active": {"false"}})))
	a.ok("POST", "/v1/products/basic", url.Values{"active": {"true"}})
	assert.Equal(t, []string{"basic"}, ids(a.ok("GET", "/v1/products", url.Values{"active": {"true"}})))

	// A product with prices cannot be deleted; one without can.
	price := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"500"}, "product": {id}})
	a.fails("DELETE", "/v1/products/"+id, nil, 400, "", "",
		"This product cannot be deleted because it has one or more user-created prices.")
	upd = a.ok("POST", "/v1/products/"+id, url.Values{"default_price": {price["id"].(string)}})
	assert.Equal(t, price["id"], upd["default_price"])
	assert.Equal(t, map[string]any{"id": "basic", "object": "product", "deleted": true}, a.ok("DELETE", "/v1/products/basic", nil))
	a.fails("GET", "/v1/products/basic", nil, 404, "id", "resource_missing", "No such product: 'basic'")

	assert.Equal(t, []string{"product.created", "product.updated", "product.updated"}, a.eventTypesOf(id))
	assert.Equal(t, []string{"product.created", "product.updated", "product.deleted"}, a.eventTypesOf("basic"))
}

func TestCreatePrice(t *testing.T) {
	a := newAPI(t, nil, Options{})
	price := a.ok("POST", "/v1/prices", url.Values{"currency": {"EUR"}, "unit_amount": {"1200"},
		"recurring[interval]": {"month"}, "recurring[interval_count]": {"3"}, "nickname": {"quarterly"},
		"product_data[name]": {"Team"}, "product_data[metadata][k]": {"v"}, "lookup_key": {"team_quarterly"}})
	assert.Regexp(t, `^price_`, price["id"])
	assert.Equal(t, "eur", price["currency"])
	assert.EqualValues(t, 1200, price["unit_amount"])
	assert.Equal(t, "recurring", price["type"])
	assert.Equal(t, map[string]any{"interval": "month", "interval_count": 3.0, "meter": nil, "usage_type": "licensed"}, price["recurring"])
	assert.Equal(t, "team_quarterly", price["lookup_key"])
	assert.Equal(t, true, price["active"])
	assert.EqualValues(t, catalogWall.Unix(), price["created"])
	prodID := price["product"].(string)
	prod := a.ok("GET", "/v1/products/"+prodID, nil)
	assert.Equal(t, "Team", prod["name"])
	assert.Equal(t, map[string]any{"k": "v"}, prod["metadata"])
	assert.Equal(t, []string{"product.created"}, a.eventTypesOf(prodID))
	assert.Equal(t, []string{"price.created"}, a.eventTypesOf(price["id"].(string)))
	assert.Equal(t, price, a.ok("GET", "/v1/prices/"+price["id"].(string), nil))

	oneTime := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"0"}, "product": {prodID}})
	assert.Equal(t, "one_time", oneTime["type"])
	assert.Nil(t, oneTime["recurring"])

	base := func(extra url.Values) url.Values {
		v := url.Values{"currency": {"usd"}, "unit_amount": {"100"}, "product": {prodID}}
		for k, vs := range extra {
			v[k] = vs
		}
		return v
	}
	cases := []struct {
		name        string
		params      url.Values
		status      int
		param, code string
		message     string
	}{
		{"bad interval", base(url.Values{"recurring[interval]": {"fortnight"}}), 400, "recurring[interval]", "",
			"Invalid recurring[interval]: must be one of day, week, month, or year"},
		{"no interval", base(url.Values{"recurring[interval_count]": {"2"}}), 400, "recurring[interval]", "parameter_missing",
			"Missing required param: recurring[interval]."},
		{"too long", base(url.Values{"recurring[interval]": {"month"}, "recurring[interval_count]": {"37"}}), 400, "recurring[interval_count]", "",
			"Invalid recurring[interval_count]: the longest billing period is 3 years (3 years, 36 months, 156 weeks or 1095 days); every 37 months is longer."},
		{"zero count", base(url.Values{"recurring[interval]": {"week"}, "recurring[interval_count]": {"0"}}), 400, "recurring[interval_count]", "",
			"Invalid recurring[interval_count]: must be at least 1."},
		{"count not integer", base(url.Values{"recurring[interval]": {"week"}, "recurring[interval_count]": {"two"}}), 400,
			"recurring[interval_count]", "parameter_invalid_integer", "Invalid integer: two"},
		{"unknown recurring key", base(url.Values{"recurring[interval]": {"year"}, "recurring[trial_period_days]": {"7"}}), 400,
			"recurring[trial_period_days]", "parameter_unknown", "Received unknown parameter: recurring[trial_period_days]"},
		{"metered", base(url.Values{"recurring[interval]": {"year"}, "recurring[usage_type]": {"metered"}}), 400,
			"recurring[usage_type]", "", "Invalid recurring[usage_type]: must be one of licensed"},
		{"no currency", url.Values{"unit_amount": {"1"}, "product": {prodID}}, 400, "currency", "parameter_missing",
			"Missing required param: currency."},
		{"bad currency", base(url.Values{"currency": {"dollars"}}), 400, "currency", "",
			"Invalid currency: dollars. Currencies are three-letter ISO codes, such as usd or eur."},
		{"no amount", url.Values{"currency": {"usd"}, "product": {prodID}}, 400, "unit_amount", "parameter_missing",
			"Missing required param: unit_amount."},
		{"negative amount", base(url.Values{"unit_amount": {"-1"}}), 400, "unit_amount", "parameter_invalid_integer",
			"This value must be greater than or equal to 0."},
		{"amount over the limit", base(url.Values{"unit_amount": {"100000000"}}), 400, "unit_amount", "parameter_invalid_integer",
			"This value must be less than or equal to 99999999 (it currently is '100000000')."},
		{"no product", url.Values{"currency": {"usd"}, "unit_amount": {"1"}}, 400, "product", "parameter_missing",
			"Missing required param: product."},
		{"both products", base(url.Values{"product_data[name]": {"x"}}), 400, "", "",
			"You may only specify one of these parameters: product, product_data."},
		{"unknown product", base(url.Values{"product": {"prod_nope"}}), 404, "product", "resource_missing",
			"No such product: 'prod_nope'"},
		{"product_data without name", url.Values{"currency": {"usd"}, "unit_amount": {"1"}, "product_data[metadata][a]": {"b"}}, 400,
			"product_data[name]", "parameter_missing", "Missing required param: product_data[name]."},
		{"unknown product_data key", url.Values{"currency": {"usd"}, "unit_amount": {"1"}, "product_data[name]": {"x"},
			"product_data[images][]": {"y"}}, 400, "product_data[images]", "parameter_unknown", "Received unknown parameter: product_data[images]"},
		{"unknown param", base(url.Values{"tiers_mode": {"graduated"}}), 400, "tiers_mode", "parameter_unknown",
			"Received unknown parameter: tiers_mode"},
		{"taken lookup key", base(url.Values{"lookup_key": {"team_quarterly"}}), 400, "lookup_key", "",
			"A price (`" + price["id"].(string) + "`) already uses that lookup key."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := *a
			a.t = t
			a.fails("POST", "/v1/prices", tc.params, tc.status, tc.param, tc.code, tc.message)
		})
	}
	// The failed creates made nothing.
	assert.Len(t, ids(a.ok("GET", "/v1/prices", url.Values{"limit": {"100"}})), 2)
	assert.Len(t, ids(a.ok("GET", "/v1/products", url.Values{"limit": {"100"}})), 1)
}

func TestPriceLookupKeyTransferAndUpdate(t *testing.T) {
	a := newAPI(t, nil, Options{})
	prod := a.ok("POST", "/v1/products", url.Values{"name": {"Pro"}})["id"].(string)
	old := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"}, "product": {prod},
		"recurring[interval]": {"month"}, "lookup_key": {"pro"}})
	newer := a.ok("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1200"}, "product": {prod},
		"recurring[interval]": {"month"}, "lookup_key": {"pro"}, "transfer_lookup_key": {"true"}})
	assert.Equal(t, "pro", newer["lookup_key"])
	oldID := old["id"].(string)
	assert.Nil(t, a.ok("GET", "/v1/prices/"+oldID, nil)["lookup_key"])
	assert.Equal(t, []string{"price.created", "price.updated"}, a.eventTypesOf(oldID))

	a.fails("POST", "/v1/prices/"+oldID, url.Values{"lookup_key": {"pro"}}, 400, "lookup_key", "",
		"A price (`"+newer["id"].(string)+"`) already uses that lookup key.")
	upd := a.ok("POST", "/v1/prices/"+oldID, url.Values{"lookup_key": {"pro"}, "transfer_lookup_key": {"true"},
		"active": {"false"}, "nickname": {"legacy"}, "metadata[m]": {"1"}})
	assert.Equal(t, "pro", upd["lookup_key"])
	assert.Equal(t, false, upd["active"])
	assert.Equal(t, "legacy", upd["nickname"])
	assert.Equal(t, map[string]any{"m": "1"}, upd["metadata"])
	assert.EqualValues(t, 1000, upd["unit_amount"])
	upd = a.ok("POST", "/v1/prices/"+oldID, url.Values{"nickname": {""}, "lookup_key": {""}})
	assert.Nil(t, upd["nickname"])
	assert.Nil(t, upd["lookup_key"])

	a.fails("POST", "/v1/prices/"+oldID, url.Values{"unit_amount": {"5"}}, 400, "unit_amount", "parameter_unknown",
		"Received unknown parameter: unit_amount")
	a.fails("POST", "/v1/prices/price_nope", url.Values{"active": {"false"}}, 404, "id", "resource_missing",
		"No such price: 'price_nope'")
	a.fails("GET", "/v1/prices/price_nope", nil, 404, "id", "resource_missing", "No such price: 'price_nope'")
}

func TestListPricesFilters(t *testing.T) {
	wall := &fakeClock{t: catalogWall}
	a := newAPI(t, wall.Now, Options{})
	p1 := a.ok("POST", "/v1/products", url.Values{"name": {"One"}})["id"].(string)
	p2 := a.ok("POST", "/v1/products", url.Values{"name": {"Two"}})["id"].(string)
	mk := func(v url.Values) string {
		wall.Add(time.Second)
		return a.ok("POST", "/v1/prices", v)["id"].(string)
	}
	monthly := mk(url.Values{"currency": {"usd"}, "unit_amount": {"100"}, "product": {p1}, "recurring[interval]": {"month"}, "lookup_key": {"m"}})
	yearly := mk(url.Values{"currency": {"usd"}, "unit_amount": {"1000"}, "product": {p1}, "recurring[interval]": {"year"}, "lookup_key": {"y"}})
	once := mk(url.Values{"currency": {"eur"}, "unit_amount": {"50"}, "product": {p2}})
	archived := mk(url.Values{"currency": {"usd"}, "unit_amount": {"10"}, "product": {p2}, "active": {"false"}})

	cases := []struct {
		name   string
		params url.Values
		want   []string
	}{
		{"all", nil, []string{archived, once, yearly, monthly}},
		{"active", url.Values{"active": {"true"}}, []string{once, yearly, monthly}},
		{"inactive", url.Values{"active": {"false"}}, []string{archived}},
		{"product", url.Values{"product": {p1}}, []string{yearly, monthly}},
		{"one_time", url.Values{"type": {"one_time"}}, []string{archived, once}},
		{"recurring", url.Values{"type": {"recurring"}}, []string{yearly, monthly}},
		{"currency", url.Values{"currency": {"eur"}}, []string{once}},
		{"lookup_keys", url.Values{"lookup_keys[]": {"y", "m"}}, []string{yearly, monthly}},
		{"interval", url.Values{"recurring[interval]": {"year"}}, []string{yearly}},
		{"created", url.Values{"created[lt]": {strconv.FormatInt(catalogWall.Add(3*time.Second).Unix(), 10)}}, []string{yearly, monthly}},
		{"page", url.Values{"limit": {"1"}, "starting_after": {once}}, []string{yearly}},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, ids(a.ok("GET", "/v1/prices", tc.params)), tc.name)
	}
	a.fails("GET", "/v1/prices", url.Values{"type": {"metered"}}, 400, "type", "", "Invalid type: must be one of one_time, or recurring")
	a.fails("GET", "/v1/prices", url.Values{"recurring[meter]": {"m"}}, 400, "recurring[meter]", "parameter_unknown",
		"Received unknown parameter: recurring[meter]")
	a.fails("GET", "/v1/prices", url.Values{"expand[]": {"data.product"}}, 400, "expand", "", "This property cannot be expanded (data.product).")
}
