package stripe

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/stripe/conformance"
)

var loadRenderSpec = sync.OnceValues(func() (*conformance.Spec, error) {
	return conformance.Load("../../testdata/openapi/stripe-subset.json")
})

// rbLookup is a map-backed renderLookup.
type rbLookup struct {
	prices   map[string]*billing.Price
	products map[string]*billing.Product
	custs    map[string]*billing.Customer
	invoices map[string]*billing.Invoice
	subs     map[string]*billing.Subscription
	clocks   map[string]*billing.Clock
	methods  map[string]*billing.PaymentMethod
	payments map[string]*billing.Payment
	charges  map[string]*billing.Charge
	inpays   map[string][]*billing.InvoicePayment // by invoice
}

func rbGet[T any](m map[string]*T, resource, id string) (*T, error) {
	if o, ok := m[id]; ok {
		return o, nil
	}
	return nil, billing.NotFoundError(resource, id, "")
}

func (f *rbLookup) Price(id string) (*billing.Price, error) { return rbGet(f.prices, "price", id) }
func (f *rbLookup) Product(id string) (*billing.Product, error) {
	return rbGet(f.products, "product", id)
}
func (f *rbLookup) Customer(id string) (*billing.Customer, error) {
	return rbGet(f.custs, "customer", id)
}
func (f *rbLookup) Invoice(id string) (*billing.Invoice, error) {
	return rbGet(f.invoices, "invoice", id)
}
func (f *rbLookup) Subscription(id string) (*billing.Subscription, error) {
	return rbGet(f.subs, "subscription", id)
}
func (f *rbLookup) Clock(id string) (*billing.Clock, error) { return rbGet(f.clocks, "test_clock", id) }
func (f *rbLookup) PaymentMethod(id string) (*billing.PaymentMethod, error) {
	return rbGet(f.methods, "PaymentMethod", id)
}
func (f *rbLookup) Payment(id string) (*billing.Payment, error) {
	return rbGet(f.payments, "payment_intent", id)
}
func (f *rbLookup) Charge(id string) (*billing.Charge, error) { return rbGet(f.charges, "charge", id) }
func (f *rbLookup) InvoicePayments(invoice string) ([]*billing.InvoicePayment, error) {
	return f.inpays[invoice], nil
}

const (
	rbStart = int64(1700000000)    // 2023-11-14 22:13:20 UTC
	rbEnd   = int64(1702592000)    // one month later
	rbMid   = rbStart + 15*24*3600 // a change mid-period
	rbTrial = rbStart + 14*24*3600 // trial end
	rbWall  = int64(1760000000)    // wall-clock creation of the clock
	rbRenew = rbEnd                // renewal invoice time
	rbFinal = rbEnd + billing.FinalizeDelay
)

// renderWorld is a customer on a clock with two subscriptions (one in
// trial), a paid first invoice, a draft renewal with prorations, and a
// pending and an invoiced invoice item.
func renderWorld() *rbLookup {
	monthly := &billing.Interval{Unit: billing.Month, Count: 1}
	f := &rbLookup{
		clocks: map[string]*billing.Clock{"clock_1": {ID: "clock_1", Name: "renewals", Created: rbWall,
			FrozenTime: rbRenew, Status: billing.ClockReady}},
		custs: map[string]*billing.Customer{"cus_1": {ID: "cus_1", Created: rbStart, Clock: "clock_1",
			Email: "ada@example.com", Name: "Ada", InvoicePrefix: "ABCD1234", NextInvoiceSequence: 1,
			DefaultPaymentMethod: "pm_card_visa", Metadata: map[string]string{"team": "core"}}},
		products: map[string]*billing.Product{"prod_seats": {ID: "prod_seats", Created: rbStart, Updated: rbStart,
			Name: "Seats", Active: true, DefaultPrice: "price_seats"}},
		prices: map[string]*billing.Price{
			"price_seats": {ID: "price_seats", Created: rbStart, Product: "prod_seats", Currency: "usd",
				UnitAmount: 1000, Recurring: monthly, Active: true, LookupKey: "seats_monthly"},
			"price_support": {ID: "price_support", Created: rbStart, Product: "prod_seats", Currency: "usd",
				UnitAmount: 2500, Recurring: monthly, Active: true},
			"price_setup": {ID: "price_setup", Created: rbStart, Product: "prod_seats", Currency: "usd",
				UnitAmount: 5000, Active: true, Nickname: "Setup fee"},
		},
	}
	items := []billing.SubscriptionItem{
		{ID: "si_seats", Created: rbStart, Price: "price_seats", Quantity: 3},
		{ID: "si_support", Created: rbStart, Price: "price_support", Quantity: 1, Metadata: map[string]string{"tier": "gold"}},
	}
	f.subs = map[string]*billing.Subscription{
		"sub_1": {ID: "sub_1", Customer: "cus_1", Clock: "clock_1", Created: rbStart, StartDate: rbStart,
			Status: billing.StatusActive, Currency: "usd", Items: items, Interval: *monthly,
			BillingCycleAnchor: rbStart, PeriodIndex: 2, PeriodStart: rbEnd, PeriodEnd: monthly.Nth(rbStart, 2),
			LatestInvoice: "in_draft", Metadata: map[string]string{"plan": "team"}},
		"sub_trial": {ID: "sub_trial", Customer: "cus_1", Clock: "clock_1", Created: rbStart, StartDate: rbStart,
			Status: billing.StatusTrialing, Currency: "usd", Items: items[:1], Interval: *monthly,
			BillingCycleAnchor: rbTrial, PeriodStart: rbStart, PeriodEnd: rbTrial, TrialStart: rbStart, TrialEnd: rbTrial,
			CancelAtPeriodEnd: true, CanceledAt: rbStart + 60, LatestInvoice: "in_gone"},
	}
	f.invoices = map[string]*billing.Invoice{
		"in_paid": {ID: "in_paid", Customer: "cus_1", Subscription: "sub_1", Clock: "clock_1", Created: rbStart,
			Status: billing.InvoicePaid, BillingReason: billing.ReasonSubscriptionCreate, Currency: "usd",
			PeriodStart: rbStart, PeriodEnd: rbStart, AutoAdvance: true, Number: "ABCD1234-0001",
			FinalizedAt: rbStart, PaidAt: rbStart, AmountPaid: 5500, AttemptCount: 1,
			Lines: []billing.InvoiceLine{
				{ID: "il_p1", Amount: 3000, Description: "3 × Seats (at $10.00 / month)", PeriodStart: rbStart,
					PeriodEnd: rbEnd, Quantity: 3, Price: "price_seats", SubscriptionItem: "si_seats"},
				{ID: "il_p2", Amount: 2500, Description: "1 × Seats (at $25.00 / month)", PeriodStart: rbStart,
					PeriodEnd: rbEnd, Quantity: 1, Price: "price_support", SubscriptionItem: "si_support"},
			}},
		"in_draft": {ID: "in_draft", Customer: "cus_1", Subscription: "sub_1", Clock: "clock_1", Created: rbRenew,
			Status: billing.InvoiceDraft, BillingReason: billing.ReasonSubscriptionCycle, Currency: "usd",
			PeriodStart: rbRenew, PeriodEnd: rbRenew, AutoAdvance: true, AutomaticallyFinalizesAt: rbFinal,
			Lines: []billing.InvoiceLine{
				{ID: "il_d1", Amount: -1500, Billed: rbSeats(billing.LineProrationCredit),
					PeriodStart: rbMid, PeriodEnd: rbEnd, Proration: true, Quantity: 3, Price: "price_seats",
					SubscriptionItem: "si_seats", InvoiceItem: "ii_credit"},
				{ID: "il_d2", Amount: 5000, Description: "Setup fee", PeriodStart: rbMid, PeriodEnd: rbMid,
					Quantity: 1, Price: "price_setup", InvoiceItem: "ii_setup"},
				{ID: "il_d3", Amount: 3000, Billed: rbSeats(billing.LinePeriod), PeriodStart: rbEnd,
					PeriodEnd: f.subs["sub_1"].PeriodEnd, Quantity: 3, Price: "price_seats", SubscriptionItem: "si_seats"},
			}},
	}
	f.methods = map[string]*billing.PaymentMethod{
		"pm_1": {ID: "pm_1", Created: rbStart, Customer: "cus_1", Clock: "clock_1", Type: "card",
			Card:     billing.Card{Brand: "visa", Last4: "0341", ExpMonth: 12, ExpYear: 2034, Funding: "credit", Country: "US"},
			Behavior: billing.CardBehavior{DeclineCharges: billing.DeclineGeneric}},
	}
	f.subs["sub_1"].DefaultPaymentMethod = "pm_1"
	f.payments = map[string]*billing.Payment{
		"pi_paid": {ID: "pi_paid", Created: rbStart, Customer: "cus_1", Clock: "clock_1", Invoice: "in_paid", Amount: 5500,
			Currency: "usd", Status: billing.PaymentSucceeded, PaymentMethod: "pm_1", LatestCharge: "ch_ok", AmountReceived: 5500},
		"pi_failed": {ID: "pi_failed", Created: rbFinal, Customer: "cus_1", Clock: "clock_1", Invoice: "in_open", Amount: 6500,
			Currency: "usd", Status: billing.PaymentRequiresPaymentMethod, PaymentMethod: "pm_1", LatestCharge: "ch_failed",
			LastError: &billing.PaymentError{Reason: billing.DeclineGeneric, PaymentMethod: "pm_1", Charge: "ch_failed"}},
	}
	f.invoices["in_paid"].Payment = "pi_paid"
	f.inpays = map[string][]*billing.InvoicePayment{
		"in_paid": {{ID: "inpay_1", Created: rbStart, Invoice: "in_paid", Payment: "pi_paid", Clock: "clock_1",
			Currency: "usd", AmountRequested: 5500, AmountPaid: 5500, Status: billing.InvoicePaymentPaid, IsDefault: true, PaidAt: rbStart}},
		"in_open": {{ID: "inpay_2", Created: rbFinal, Invoice: "in_open", Payment: "pi_failed", Clock: "clock_1",
			Currency: "usd", AmountRequested: 6500, Status: billing.InvoicePaymentOpen, IsDefault: true}},
	}
	open := *f.invoices["in_draft"]
	open.ID, open.Status, open.Number, open.FinalizedAt = "in_open", billing.InvoiceUncollectible, "ABCD1234-0002", rbFinal
	open.Attempted, open.AttemptCount, open.FirstFailureAt, open.MarkedUncollectibleAt = true, 8, rbFinal, rbFinal+14*86400
	open.StartingBalance, open.EndingBalance, open.Payment = -1000, 0, "pi_failed"
	f.invoices["in_open"] = &open
	return f
}

var (
	rbCharges = map[string]*billing.Charge{
		"ok": {ID: "ch_ok", Created: rbStart, Payment: "pi_paid", Customer: "cus_1", Clock: "clock_1", PaymentMethod: "pm_1",
			Amount: 5500, AmountCaptured: 5500, Currency: "usd", Status: billing.ChargeSucceeded, Captured: true},
		"failed": {ID: "ch_failed", Created: rbFinal, Payment: "pi_failed", Customer: "cus_1", Clock: "clock_1",
			PaymentMethod: "pm_1", Amount: 6500, Currency: "usd", Status: billing.ChargeFailed, Failure: billing.DeclineGeneric},
	}
	rbCredit = &billing.BalanceTransaction{ID: "cbtxn_1", Created: rbFinal, Customer: "cus_1", Clock: "clock_1",
		Amount: 1000, Currency: "usd", EndingBalance: 0, Type: billing.BalanceAppliedToInvoice, Invoice: "in_open"}
)

// rbSeats is what a line of kind records for price_seats.
func rbSeats(kind billing.LineKind) billing.Billed {
	return billing.Billed{Kind: kind, ProductName: "Seats", UnitAmount: 1000,
		Interval: &billing.Interval{Unit: billing.Month, Count: 1}}
}

var (
	rbPendingItem = &billing.InvoiceItem{ID: "ii_pending", Customer: "cus_1", Clock: "clock_1", Date: rbMid,
		Amount: 1667, Currency: "usd", Billed: rbSeats(billing.LineProrationDebit),
		PeriodStart: rbMid, PeriodEnd: rbEnd, Proration: true, Price: "price_seats", Quantity: 4,
		Subscription: "sub_1", SubscriptionItem: "si_seats"}
	rbInvoicedItem = &billing.InvoiceItem{ID: "ii_setup", Customer: "cus_1", Clock: "clock_1", Date: rbMid,
		Amount: 5000, Currency: "usd", Description: "Setup fee", PeriodStart: rbMid, PeriodEnd: rbMid,
		Price: "price_setup", Quantity: 1, Invoice: "in_draft", Metadata: map[string]string{"order": "42"},
		Discountable: true} // an item made by hand carries its own setting
)

// rbMap round-trips v through JSON, as a client sees it.
func rbMap(t *testing.T, v any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// rbMust fails t on a render error: rbMust(t)(renderX(...)).
func rbMust(t *testing.T) func(any, error) any {
	return func(v any, err error) any {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}

func TestRenderConformance(t *testing.T) {
	spec, err := loadRenderSpec()
	require.NoError(t, err)
	f := renderWorld()
	all := expandSet{"customer": true, "latest_invoice": true, "test_clock": true,
		"parent.subscription_details.subscription": true, "default_payment_method": true, "payments": true,
		"invoice": true, "payment.payment_intent": true}
	sub := f.subs["sub_1"]
	cases := []struct {
		name, schema string
		render       func() (any, error)
	}{
		{"customer", "customer", func() (any, error) { return renderCustomer(f.custs["cus_1"], f, nil) }},
		{"customer expanded", "customer", func() (any, error) { return renderCustomer(f.custs["cus_1"], f, all) }},
		{"customer deleted", "deleted_customer", func() (any, error) { return renderDeleted("cus_1", "customer"), nil }},
		{"product", "product", func() (any, error) { return renderProduct(f.products["prod_seats"]), nil }},
		{"product deleted", "deleted_product", func() (any, error) { return renderDeleted("prod_seats", "product"), nil }},
		{"price recurring", "price", func() (any, error) { return renderPrice(f.prices["price_seats"]), nil }},
		{"price one-time", "price", func() (any, error) { return renderPrice(f.prices["price_setup"]), nil }},
		{"subscription", "subscription", func() (any, error) { return renderSubscription(sub, f, nil) }},
		{"subscription expanded", "subscription", func() (any, error) { return renderSubscription(sub, f, all) }},
		{"subscription trial", "subscription", func() (any, error) { return renderSubscription(f.subs["sub_trial"], f, all) }},
		{"subscription item", "subscription_item", func() (any, error) { return renderSubscriptionItem(sub.Items[1], sub, f) }},
		{"subscription item deleted", "deleted_subscription_item", func() (any, error) {
			return renderDeleted("si_support", "subscription_item"), nil
		}},
		{"invoice paid", "invoice", func() (any, error) { return renderInvoice(f.invoices["in_paid"], f, nil) }},
		{"invoice draft", "invoice", func() (any, error) { return renderInvoice(f.invoices["in_draft"], f, nil) }},
		{"invoice expanded", "invoice", func() (any, error) { return renderInvoice(f.invoices["in_draft"], f, all) }},
		{"invoice deleted", "deleted_invoice", func() (any, error) { return renderDeleted("in_draft", "invoice"), nil }},
		{"line proration", "line_item", func() (any, error) {
			return renderInvoiceLine(f.invoices["in_draft"].Lines[0], f.invoices["in_draft"], f)
		}},
		{"line invoice item", "line_item", func() (any, error) {
			return renderInvoiceLine(f.invoices["in_draft"].Lines[1], f.invoices["in_draft"], f)
		}},
		{"invoiceitem pending", "invoiceitem", func() (any, error) { return renderInvoiceItem(rbPendingItem, f) }},
		{"invoiceitem invoiced", "invoiceitem", func() (any, error) { return renderInvoiceItem(rbInvoicedItem, f) }},
		{"invoiceitem deleted", "deleted_invoiceitem", func() (any, error) {
			return renderDeleted("ii_setup", "invoiceitem"), nil
		}},
		{"invoice uncollectible", "invoice", func() (any, error) { return renderInvoice(f.invoices["in_open"], f, all) }},
		{"payment method", "payment_method", func() (any, error) { return renderPaymentMethod(f.methods["pm_1"], f) }},
		{"payment intent paid", "payment_intent", func() (any, error) { return renderPaymentIntent(f.payments["pi_paid"], f) }},
		{"payment intent failed", "payment_intent", func() (any, error) { return renderPaymentIntent(f.payments["pi_failed"], f) }},
		{"charge succeeded", "charge", func() (any, error) { return renderCharge(rbCharges["ok"], f) }},
		{"charge failed", "charge", func() (any, error) { return renderCharge(rbCharges["failed"], f) }},
		{"invoice payment paid", "invoice_payment", func() (any, error) { return renderInvoicePayment(f.inpays["in_paid"][0], f, nil) }},
		{"invoice payment expanded", "invoice_payment", func() (any, error) { return renderInvoicePayment(f.inpays["in_open"][0], f, all) }},
		{"balance transaction", "customer_balance_transaction", func() (any, error) { return renderBalanceTransaction(rbCredit, f, all) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.render()
			require.NoError(t, err)
			require.NoError(t, spec.ValidateSchema(tc.schema, v))
		})
	}
}

// TestRenderResponses validates rendered objects as the bodies of the
// routes that will serve them.
func TestRenderResponses(t *testing.T) {
	spec, err := loadRenderSpec()
	require.NoError(t, err)
	f := renderWorld()
	inv := f.invoices["in_draft"]
	var lines []any
	for _, l := range inv.Lines {
		lines = append(lines, rbMust(t)(renderInvoiceLine(l, inv, f)))
	}
	list := map[string]any{"object": "list", "data": lines, "has_more": false, "url": "/v1/invoices/in_draft/lines"}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/customers/cus_1", rbMust(t)(renderCustomer(f.custs["cus_1"], f, nil))},
		{"DELETE", "/v1/customers/cus_1", renderDeleted("cus_1", "customer")},
		{"GET", "/v1/products/prod_seats", renderProduct(f.products["prod_seats"])},
		{"GET", "/v1/prices/price_seats", renderPrice(f.prices["price_seats"])},
		{"GET", "/v1/subscriptions/sub_1", rbMust(t)(renderSubscription(f.subs["sub_1"], f, expandSet{"latest_invoice": true}))},
		{"GET", "/v1/subscription_items/si_seats", rbMust(t)(renderSubscriptionItem(f.subs["sub_1"].Items[0], f.subs["sub_1"], f))},
		{"POST", "/v1/invoices/in_paid/pay", rbMust(t)(renderInvoice(f.invoices["in_paid"], f, nil))},
		{"GET", "/v1/invoices/in_draft/lines", list},
		{"GET", "/v1/invoiceitems/ii_pending", rbMust(t)(renderInvoiceItem(rbPendingItem, f))},
		{"DELETE", "/v1/invoiceitems/ii_pending", renderDeleted("ii_pending", "invoiceitem")},
	} {
		raw, err := json.Marshal(tc.body)
		require.NoError(t, err)
		assert.NoError(t, spec.ValidateResponse(tc.method, tc.path, 200, raw), "%s %s", tc.method, tc.path)
	}
}

func TestRenderCustomer(t *testing.T) {
	f := renderWorld()
	c := rbMap(t, rbMust(t)(renderCustomer(f.custs["cus_1"], f, nil)))
	assert.Equal(t, "clock_1", c["test_clock"])
	assert.Equal(t, "ada@example.com", c["email"])
	assert.Nil(t, c["description"])
	assert.Nil(t, c["currency"])
	assert.Equal(t, "ABCD1234", c["invoice_prefix"])
	assert.EqualValues(t, 2, c["next_invoice_sequence"], "one invoice numbered: the next is 0002")
	assert.Equal(t, "pm_card_visa", c["invoice_settings"].(map[string]any)["default_payment_method"])
	assert.Equal(t, map[string]any{"team": "core"}, c["metadata"])

	c = rbMap(t, rbMust(t)(renderCustomer(f.custs["cus_1"], f, expandSet{"test_clock": true})))
	clock := c["test_clock"].(map[string]any)
	assert.Equal(t, "test_helpers.test_clock", clock["object"])
	assert.EqualValues(t, rbRenew, clock["frozen_time"])

	bare := &billing.Customer{ID: "cus_2", Created: rbStart}
	c = rbMap(t, rbMust(t)(renderCustomer(bare, f, expandSet{"test_clock": true})))
	assert.Nil(t, c["test_clock"])
	assert.Nil(t, c["email"])
	assert.Equal(t, map[string]any{}, c["metadata"])
	assert.Equal(t, []any{}, c["preferred_locales"])
}

func TestRenderPrice(t *testing.T) {
	f := renderWorld()
	p := rbMap(t, renderPrice(f.prices["price_seats"]))
	assert.Equal(t, "recurring", p["type"])
	assert.Equal(t, map[string]any{"interval": "month", "interval_count": float64(1), "meter": nil, "usage_type": "licensed"}, p["recurring"])
	assert.Equal(t, "1000", p["unit_amount_decimal"])
	assert.Equal(t, "seats_monthly", p["lookup_key"])
	assert.Equal(t, "prod_seats", p["product"])

	p = rbMap(t, renderPrice(f.prices["price_setup"]))
	assert.Equal(t, "one_time", p["type"])
	assert.Nil(t, p["recurring"])
	assert.Nil(t, p["lookup_key"])
	assert.Equal(t, "Setup fee", p["nickname"])
}

func TestRenderSubscription(t *testing.T) {
	f := renderWorld()
	sub := f.subs["sub_1"]
	s := rbMap(t, rbMust(t)(renderSubscription(sub, f, nil)))
	assert.Equal(t, "cus_1", s["customer"])
	assert.Equal(t, "in_draft", s["latest_invoice"])
	assert.Equal(t, "clock_1", s["test_clock"])
	assert.Equal(t, "active", s["status"])
	assert.Nil(t, s["trial_start"])
	assert.Nil(t, s["trial_end"])
	assert.Nil(t, s["cancel_at"])
	assert.Equal(t, "flexible", s["billing_mode"].(map[string]any)["type"])

	items := s["items"].(map[string]any)
	assert.Equal(t, "/v1/subscription_items?subscription=sub_1", items["url"])
	data := items["data"].([]any)
	require.Len(t, data, 2)
	first := data[0].(map[string]any)
	assert.Equal(t, "si_seats", first["id"])
	assert.EqualValues(t, sub.PeriodStart, first["current_period_start"])
	assert.EqualValues(t, sub.PeriodEnd, first["current_period_end"])
	assert.EqualValues(t, 3, first["quantity"])
	assert.Equal(t, "sub_1", first["subscription"])
	price := first["price"].(map[string]any)
	assert.Equal(t, "price", price["object"])
	assert.Equal(t, "price_seats", price["id"])
	assert.Equal(t, map[string]any{"tier": "gold"}, data[1].(map[string]any)["metadata"])

	s = rbMap(t, rbMust(t)(renderSubscription(sub, f, expandSet{"latest_invoice": true, "customer": true, "test_clock": true})))
	latest := s["latest_invoice"].(map[string]any)
	assert.Equal(t, "invoice", latest["object"])
	assert.Equal(t, "in_draft", latest["id"])
	assert.Equal(t, "cus_1", latest["customer"], "expansion does not recurse")
	assert.Equal(t, "customer", s["customer"].(map[string]any)["object"])
	assert.Equal(t, "clock_1", s["customer"].(map[string]any)["test_clock"])
	assert.Equal(t, "test_helpers.test_clock", s["test_clock"].(map[string]any)["object"])

	trial := rbMap(t, rbMust(t)(renderSubscription(f.subs["sub_trial"], f, expandSet{"latest_invoice": true})))
	assert.Equal(t, "trialing", trial["status"])
	assert.EqualValues(t, rbStart, trial["trial_start"])
	assert.EqualValues(t, rbTrial, trial["trial_end"])
	assert.Equal(t, "in_gone", trial["latest_invoice"], "a missing expanded object stays an id")
	assert.Equal(t, true, trial["cancel_at_period_end"])
	assert.EqualValues(t, rbTrial, trial["cancel_at"], "cancel_at_period_end shows as cancel_at the period end")
	assert.EqualValues(t, rbStart+60, trial["canceled_at"])
	assert.Equal(t, "cancellation_requested", trial["cancellation_details"].(map[string]any)["reason"])
	tItem := trial["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
	assert.EqualValues(t, rbStart, tItem["current_period_start"])
	assert.EqualValues(t, rbTrial, tItem["current_period_end"])
}

func TestRenderInvoice(t *testing.T) {
	f := renderWorld()
	paid := rbMap(t, rbMust(t)(renderInvoice(f.invoices["in_paid"], f, nil)))
	assert.Equal(t, "paid", paid["status"])
	assert.Equal(t, "ABCD1234-0001", paid["number"])
	assert.EqualValues(t, 5500, paid["amount_due"])
	assert.EqualValues(t, 5500, paid["amount_paid"])
	assert.EqualValues(t, 0, paid["amount_remaining"])
	assert.EqualValues(t, 5500, paid["total"])
	assert.Equal(t, true, paid["attempted"])
	assert.Equal(t, "subscription_create", paid["billing_reason"])
	st := paid["status_transitions"].(map[string]any)
	assert.EqualValues(t, rbStart, st["paid_at"])
	assert.EqualValues(t, rbStart, st["finalized_at"])
	assert.Nil(t, st["voided_at"])
	assert.EqualValues(t, rbStart, paid["effective_at"])
	assert.Nil(t, paid["automatically_finalizes_at"])
	parent := paid["parent"].(map[string]any)
	assert.Equal(t, "subscription_details", parent["type"])
	assert.Equal(t, "sub_1", parent["subscription_details"].(map[string]any)["subscription"])
	assert.Equal(t, map[string]any{"plan": "team"}, parent["subscription_details"].(map[string]any)["metadata"])
	assert.Equal(t, "cus_1", paid["customer"])
	assert.Equal(t, "ada@example.com", paid["customer_email"])
	assert.Equal(t, "Ada", paid["customer_name"])
	assert.Equal(t, "clock_1", paid["test_clock"])
	lines := paid["lines"].(map[string]any)
	assert.Equal(t, "/v1/invoices/in_paid/lines", lines["url"])
	assert.Len(t, lines["data"], 2)

	draft := rbMap(t, rbMust(t)(renderInvoice(f.invoices["in_draft"], f, nil)))
	assert.Equal(t, "draft", draft["status"])
	assert.Nil(t, draft["number"])
	assert.Nil(t, draft["effective_at"])
	assert.Nil(t, draft["ending_balance"])
	assert.EqualValues(t, rbFinal, draft["automatically_finalizes_at"])
	assert.EqualValues(t, 6500, draft["amount_due"])
	assert.EqualValues(t, 0, draft["amount_paid"])
	assert.EqualValues(t, 6500, draft["amount_remaining"])
	assert.Equal(t, false, draft["attempted"])
	assert.Nil(t, draft["status_transitions"].(map[string]any)["paid_at"])

	data := draft["lines"].(map[string]any)["data"].([]any)
	require.Len(t, data, 3)
	credit := data[0].(map[string]any)
	assert.Equal(t, "line_item", credit["object"])
	assert.Equal(t, "in_draft", credit["invoice"])
	assert.EqualValues(t, -1500, credit["amount"])
	assert.EqualValues(t, -1500, credit["subtotal"])
	assert.Equal(t, false, credit["discountable"])
	assert.Equal(t, map[string]any{"start": float64(rbMid), "end": float64(rbEnd)}, credit["period"])
	cp := credit["parent"].(map[string]any)
	assert.Equal(t, "subscription_item_details", cp["type"])
	assert.Nil(t, cp["invoice_item_details"])
	sid := cp["subscription_item_details"].(map[string]any)
	assert.Equal(t, true, sid["proration"])
	assert.Equal(t, "si_seats", sid["subscription_item"])
	assert.Equal(t, "sub_1", sid["subscription"])
	assert.Equal(t, "ii_credit", sid["invoice_item"])
	pricing := credit["pricing"].(map[string]any)
	assert.Equal(t, "price_details", pricing["type"])
	assert.Equal(t, map[string]any{"price": "price_seats", "product": "prod_seats"}, pricing["price_details"])
	assert.Equal(t, "-500", pricing["unit_amount_decimal"], "a proration is priced at its share per unit")

	setup := data[1].(map[string]any)
	sp := setup["parent"].(map[string]any)
	assert.Equal(t, "invoice_item_details", sp["type"])
	assert.Equal(t, "ii_setup", sp["invoice_item_details"].(map[string]any)["invoice_item"])
	assert.Nil(t, sp["subscription_item_details"])
	assert.Nil(t, setup["subscription"])

	cycle := data[2].(map[string]any)
	csid := cycle["parent"].(map[string]any)["subscription_item_details"].(map[string]any)
	assert.Equal(t, false, csid["proration"])
	assert.Nil(t, csid["invoice_item"])
	assert.Equal(t, true, cycle["discountable"])
	assert.Equal(t, "1000", cycle["pricing"].(map[string]any)["unit_amount_decimal"])

	ex := rbMap(t, rbMust(t)(renderInvoice(f.invoices["in_draft"], f,
		expandSet{"customer": true, "test_clock": true, "parent.subscription_details.subscription": true})))
	assert.Equal(t, "customer", ex["customer"].(map[string]any)["object"])
	assert.Equal(t, "test_helpers.test_clock", ex["test_clock"].(map[string]any)["object"])
	expSub := ex["parent"].(map[string]any)["subscription_details"].(map[string]any)["subscription"].(map[string]any)
	assert.Equal(t, "subscription", expSub["object"])
	assert.Equal(t, "in_draft", expSub["latest_invoice"], "expansion does not recurse")

	manual := &billing.Invoice{ID: "in_manual", Customer: "cus_gone", Created: rbStart, Status: billing.InvoiceVoid,
		BillingReason: billing.ReasonManual, Currency: "usd", FinalizedAt: rbStart, VoidedAt: rbMid, Number: "X-0001"}
	m := rbMap(t, rbMust(t)(renderInvoice(manual, f, expandSet{"customer": true, "test_clock": true})))
	assert.Nil(t, m["parent"])
	assert.Nil(t, m["test_clock"])
	assert.Equal(t, "cus_gone", m["customer"], "a missing expanded customer stays an id")
	assert.Nil(t, m["customer_email"])
	assert.EqualValues(t, rbMid, m["status_transitions"].(map[string]any)["voided_at"])
	spec, err := loadRenderSpec()
	require.NoError(t, err)
	require.NoError(t, spec.ValidateSchema("invoice", m))
}

func TestRenderInvoiceItem(t *testing.T) {
	f := renderWorld()
	p := rbMap(t, rbMust(t)(renderInvoiceItem(rbPendingItem, f)))
	assert.Equal(t, "invoiceitem", p["object"])
	assert.Nil(t, p["invoice"])
	assert.Equal(t, true, p["proration"])
	assert.Equal(t, false, p["discountable"])
	assert.Equal(t, "4", p["quantity_decimal"])
	assert.Equal(t, "clock_1", p["test_clock"])
	assert.Equal(t, map[string]any{"type": "subscription_details",
		"subscription_details": map[string]any{"subscription": "sub_1", "subscription_item": "si_seats"}}, p["parent"])
	assert.Equal(t, "416.75", p["pricing"].(map[string]any)["unit_amount_decimal"])

	i := rbMap(t, rbMust(t)(renderInvoiceItem(rbInvoicedItem, f)))
	assert.Equal(t, "in_draft", i["invoice"])
	assert.Nil(t, i["parent"])
	assert.Equal(t, true, i["discountable"])
	assert.Equal(t, map[string]any{"order": "42"}, i["metadata"])
	assert.Equal(t, "5000", i["pricing"].(map[string]any)["unit_amount_decimal"])

	adhoc := &billing.InvoiceItem{ID: "ii_adhoc", Customer: "cus_1", Date: rbMid, Amount: 700, Currency: "usd",
		Quantity: 1, PeriodStart: rbMid, PeriodEnd: rbMid}
	a := rbMap(t, rbMust(t)(renderInvoiceItem(adhoc, f)))
	assert.Nil(t, a["pricing"])
	assert.Nil(t, a["description"])
	assert.Nil(t, a["test_clock"])
}

// TestRenderLineDescriptions: lines and invoice items are described in
// Stripe's words from what they bill; a text they carry (a user's, or one
// stored before lines recorded what they bill) is shown as it is.
func TestRenderLineDescriptions(t *testing.T) {
	f := renderWorld()
	describe := func(l billing.InvoiceLine, inv *billing.Invoice) any {
		return rbMap(t, rbMust(t)(renderInvoiceLine(l, inv, f)))["description"]
	}
	draft := f.invoices["in_draft"]
	assert.Equal(t, "Unused time on 3 × Seats after 29 Nov 2023", describe(draft.Lines[0], draft))
	assert.Equal(t, "Setup fee", describe(draft.Lines[1], draft))
	assert.Equal(t, "3 × Seats (at $10.00 / month)", describe(draft.Lines[2], draft))
	assert.Equal(t, "Remaining time on 4 × Seats after 29 Nov 2023",
		rbMap(t, rbMust(t)(renderInvoiceItem(rbPendingItem, f)))["description"])
	assert.Equal(t, "Setup fee", rbMap(t, rbMust(t)(renderInvoiceItem(rbInvoicedItem, f)))["description"])

	// As an older billclock stored them: a description and no kind. The
	// product has been renamed since; the stored text stands.
	var line billing.InvoiceLine
	require.NoError(t, json.Unmarshal([]byte(`{"id":"il_old","amount":-1500,"description":"Unused time on 3 × Old Seats after 29 Nov 2023",`+
		`"period_start":1701296000,"period_end":1702592000,"proration":true,"quantity":3,"price":"price_seats",`+
		`"subscription_item":"si_seats","invoice_item":"ii_old"}`), &line))
	assert.Equal(t, "Unused time on 3 × Old Seats after 29 Nov 2023", describe(line, draft))
	line = billing.InvoiceLine{}
	require.NoError(t, json.Unmarshal([]byte(`{"id":"il_old2","amount":3000,"description":"3 × Old Seats (at $10.00 / month)",`+
		`"period_start":1702592000,"period_end":1705270400,"quantity":3,"price":"price_seats","subscription_item":"si_seats"}`), &line))
	assert.Equal(t, "3 × Old Seats (at $10.00 / month)", describe(line, draft))
	var item billing.InvoiceItem
	require.NoError(t, json.Unmarshal([]byte(`{"id":"ii_old","customer":"cus_1","date":1701296000,"amount":1667,"currency":"usd",`+
		`"description":"Remaining time on 4 × Old Seats after 29 Nov 2023","period_start":1701296000,"period_end":1702592000,`+
		`"proration":true,"price":"price_seats","quantity":4,"subscription":"sub_1","subscription_item":"si_seats"}`), &item))
	assert.Equal(t, "Remaining time on 4 × Old Seats after 29 Nov 2023", rbMap(t, rbMust(t)(renderInvoiceItem(&item, f)))["description"])
}

// TestRenderDeterministic: the same objects render to the same bytes.
func TestRenderDeterministic(t *testing.T) {
	f := renderWorld()
	ex := expandSet{"latest_invoice": true, "customer": true, "test_clock": true}
	a, err := json.Marshal(rbMust(t)(renderSubscription(f.subs["sub_1"], f, ex)))
	require.NoError(t, err)
	b, err := json.Marshal(rbMust(t)(renderSubscription(f.subs["sub_1"], f, ex)))
	require.NoError(t, err)
	assert.Equal(t, string(a), string(b))
}
