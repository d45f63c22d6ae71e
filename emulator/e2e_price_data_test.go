package emulator_test

// price_data, read alike on every route that takes it (Stripe's spec
// gives them one shape, with or without recurring and product_data): the
// same refusals, naming the parameter where it stands, and the same
// prices made.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// priceDataRoute is a route whose requests carry a price_data hash at pd.
type priceDataRoute struct {
	name, path, body, pd string
	// recurring: the route's price_data needs recurring; productData: it
	// takes product_data.
	recurring, productData bool
}

// TestPriceDataOnEveryRoute sends each route the same price_data
// mistakes and checks each names the parameter where it stands, with the
// same words.
func TestPriceDataOnEveryRoute(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seat := b.price("Seat", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer("")
	draft, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	prod := seat.Product.ID

	routes := []priceDataRoute{
		{name: "subscription item", path: "/v1/subscriptions", body: "customer=" + cust.ID,
			pd: "items[0][price_data]", recurring: true},
		{name: "add_invoice_items", path: "/v1/subscriptions", body: "customer=" + cust.ID + "&items[0][price]=" + seat.ID,
			pd: "add_invoice_items[0][price_data]"},
		{name: "schedule phase item", path: "/v1/subscription_schedules", body: "customer=" + cust.ID + "&start_date=now",
			pd: "phases[0][items][0][price_data]", recurring: true},
		{name: "invoice item", path: "/v1/invoiceitems", body: "customer=" + cust.ID, pd: "price_data"},
		{name: "add_lines", path: "/v1/invoices/" + draft.ID + "/add_lines", pd: "lines[0][price_data]", productData: true},
		{name: "checkout", path: "/v1/checkout/sessions",
			body: "mode=payment&success_url=https://example.com/ok&line_items[0][quantity]=1",
			pd:   "line_items[0][price_data]", productData: true},
	}
	// send posts the route's body with its price_data: the valid fields,
	// changed by edit (an empty value is sent empty; "-" leaves it out).
	send := func(r priceDataRoute, edit map[string]string) apiError {
		fields := map[string]string{"currency": "usd", "product": prod, "unit_amount": "500"}
		if r.recurring {
			fields["recurring][interval"] = "month"
		}
		for k, v := range edit {
			fields[k] = v
		}
		form := url.Values{}
		for k, v := range fields {
			if v != "-" {
				form.Set(r.pd+"["+k+"]", v)
			}
		}
		body := form.Encode()
		if r.body != "" {
			body = r.body + "&" + body
		}
		return b.raw(t, rawRequest{Method: http.MethodPost, Path: r.path, Key: testKey, Body: body}).apiError(t, http.StatusBadRequest)
	}
	for _, r := range routes {
		for _, c := range []struct {
			edit           map[string]string
			param, message string
		}{
			{map[string]string{"currency": ""}, "[currency]", "Missing required param: {pd}[currency]."},
			{map[string]string{"unit_amount": "-", "unit_amount_decimal": "12.5"}, "[unit_amount_decimal]",
				"billclock bills whole amounts: unit_amount_decimal must be a whole number from 0 to 99999999."},
			{map[string]string{"unit_amount": "-"}, "[unit_amount]", "Missing required param: {pd}[unit_amount]."},
			{map[string]string{"tax_behavior": "sometimes"}, "[tax_behavior]",
				"Invalid {pd}[tax_behavior]: must be one of exclusive, inclusive, or unspecified"},
			{map[string]string{"product": "-"}, "[product]", "Missing required param: {pd}[product]."},
		} {
			ae := send(r, c.edit)
			assert.Equal(t, r.pd+c.param, ae.Param, "%s %v", r.name, c.edit)
			assert.Equal(t, strings.ReplaceAll(c.message, "{pd}", r.pd), ae.Message, "%s %v", r.name, c.edit)
		}

		if r.recurring {
			ae := send(r, map[string]string{"recurring][interval": "-"})
			assert.Equal(t, "Missing required param: "+r.pd+"[recurring].", ae.Message, r.name)
			ae = send(r, map[string]string{"recurring][interval": ""})
			assert.Equal(t, "Missing required param: "+r.pd+"[recurring][interval].", ae.Message, r.name)
		}
		if r.recurring || r.name == "checkout" {
			ae := send(r, map[string]string{"recurring][interval": "week", "recurring][interval_count": "0"})
			assert.Equal(t, "Invalid "+r.pd+"[recurring][interval_count]: must be at least 1.", ae.Message, r.name)
			ae = send(r, map[string]string{"recurring][interval": "week", "recurring][interval_count": "157"})
			assert.Equal(t, "Invalid "+r.pd+"[recurring][interval_count]: the longest billing period is 3 years "+
				"(3 years, 36 months, 156 weeks or 1095 days); every 157 weeks is longer.", ae.Message, r.name)
		} else {
			ae := send(r, map[string]string{"recurring][interval": "month"})
			assert.Equal(t, "Received unknown parameter: "+r.pd+"[recurring]", ae.Message, r.name)
		}
		if r.productData {
			ae := send(r, map[string]string{"product_data][name": "Thing"})
			assert.Equal(t, r.pd, ae.Param, r.name)
			assert.Equal(t, "You may only specify one of these parameters: product, product_data.", ae.Message, r.name)
			ae = send(r, map[string]string{"product": "-", "product_data][description": "A thing"})
			assert.Equal(t, "Missing required param: "+r.pd+"[product_data][name].", ae.Message, r.name)
		} else {
			ae := send(r, map[string]string{"product": "-", "product_data][name": "Thing"})
			assert.Equal(t, "Received unknown parameter: "+r.pd+"[product_data]", ae.Message, r.name)
		}
	}
}

// TestPriceDataMakesPrices: unit_amount_decimal prices a subscription
// item, a one-time item and a Checkout line as unit_amount does, and
// product_data on an invoice's new line makes the product it describes.
func TestPriceDataMakesPrices(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seat := b.price("Seat", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer("")

	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Key: testKey, Body: url.Values{
		"customer": {cust.ID}, "items[0][price_data][currency]": {"usd"}, "items[0][price_data][product]": {seat.Product.ID},
		"items[0][price_data][unit_amount_decimal]": {"1200"}, "items[0][price_data][recurring][interval]": {"month"},
		"add_invoice_items[0][price_data][currency]": {"usd"}, "add_invoice_items[0][price_data][product]": {seat.Product.ID},
		"add_invoice_items[0][price_data][unit_amount_decimal]": {"300.000"}}.Encode()})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	sub := b.subscription(r.object(t)["id"].(string))
	assert.EqualValues(t, 1200, sub.Items.Data[0].Price.UnitAmount)
	assert.EqualValues(t, 1500, b.invoice(sub.LatestInvoice.ID).AmountPaid)

	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/checkout/sessions", Key: testKey, Body: url.Values{
		"mode": {"payment"}, "success_url": {"https://example.com/ok"}, "line_items[0][quantity]": {"2"},
		"line_items[0][price_data][currency]": {"usd"}, "line_items[0][price_data][product]": {seat.Product.ID},
		"line_items[0][price_data][unit_amount_decimal]": {"250"}}.Encode()})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.EqualValues(t, 500, r.object(t)["amount_total"])

	draft, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	inv, err := b.sc.V1Invoices.AddLines(ctx, draft.ID, &stripe.InvoiceAddLinesParams{Lines: []*stripe.InvoiceAddLinesLineParams{{
		PriceData: &stripe.InvoiceAddLinesLinePriceDataParams{Currency: stripe.String("usd"), UnitAmount: stripe.Int64(900),
			ProductData: &stripe.InvoiceAddLinesLinePriceDataProductDataParams{Name: stripe.String("Workshop"),
				Description: stripe.String("A day of training"), TaxCode: stripe.String("txcd_10000000"),
				UnitLabel: stripe.String("day")}}}}})
	require.NoError(t, err)
	require.Len(t, inv.Lines.Data, 1)
	assert.EqualValues(t, 900, inv.Lines.Data[0].Amount)
	assert.Equal(t, "Workshop", inv.Lines.Data[0].Description)
	priceID := inv.Lines.Data[0].Pricing.PriceDetails.Price
	price, err := b.sc.V1Prices.Retrieve(ctx, priceID.ID, nil)
	require.NoError(t, err)
	prod, err := b.sc.V1Products.Retrieve(ctx, price.Product.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "Workshop", prod.Name)
	assert.Equal(t, "A day of training", prod.Description)
}
