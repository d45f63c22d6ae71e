package emulator_test

// End-to-end tests of hostile and extreme input: amounts and quantities at
// and past Stripe's limits, timestamps out of range, API keys that are not
// keys, and strings counted in characters.

import (
	"encoding/base64"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// TestMoneyOverflowIsRefused is the reliability review's reproduction: a
// unit_amount of MaxInt64 with quantity 2 used to bill a paid invoice with
// total -2.
func TestMoneyOverflowIsRefused(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	prod, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Seats")})
	require.NoError(t, err)
	_, err = b.sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"),
		UnitAmount: stripe.Int64(math.MaxInt64), Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")}})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, stripe.ErrorCode("parameter_invalid_integer"), se.Code)
	assert.Equal(t, "unit_amount", se.Param)
	assert.Equal(t, "This value must be less than or equal to 99999999 (it currently is '9223372036854775807').", se.Msg)

	for price, err := range b.sc.V1Prices.List(ctx, &stripe.PriceListParams{}).All(ctx) {
		require.NoError(t, err)
		t.Errorf("a refused price was stored: %s", price.ID)
	}
	assert.Empty(t, b.events(&stripe.EventListParams{Type: stripe.String("price.created")}))
}

func TestAmountAndQuantityBounds(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	prod, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Seats")})
	require.NoError(t, err)
	createPrice := func(amount string) rawResponse {
		return b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/prices", Key: testKey, Body: url.Values{
			"product": {prod.ID}, "currency": {"usd"}, "unit_amount": {amount}, "recurring[interval]": {"month"}}.Encode()})
	}
	ae := createPrice("100000000").apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "unit_amount",
		Message: "This value must be less than or equal to 99999999 (it currently is '100000000')."}, ae)
	ae = createPrice("-1").apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "unit_amount",
		Message: "This value must be greater than or equal to 0."}, ae)
	ae = createPrice("99999999999999999999").apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "unit_amount",
		Message: "Invalid integer: 99999999999999999999"}, ae)
	ae = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/prices", Key: testKey, Body: url.Values{
		"product": {prod.ID}, "currency": {"usd"}, "unit_amount_decimal": {"1.5"}}.Encode()}).apiError(t, http.StatusBadRequest)
	assert.Equal(t, "parameter_unknown", ae.Code, "unit_amount_decimal is not taken, so it cannot bypass the bound")

	max := createPrice("99999999")
	require.Equal(t, http.StatusOK, max.Status, "body: %s", max.Body)
	priceID := max.object(t)["id"].(string)
	assert.Equal(t, "99999999", max.object(t)["unit_amount_decimal"])

	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	subscribe := func(qty int64) error {
		_, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
			Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(priceID), Quantity: stripe.Int64(qty)}}})
		return err
	}

	// Past the quantity limit: refused, and nothing is left behind.
	se := stripeError(t, subscribe(1_000_000), http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("parameter_invalid_integer"), se.Code)
	assert.Equal(t, "items[0][quantity]", se.Param)
	assert.Equal(t, "This value must be less than or equal to 999999 (it currently is '1000000').", se.Msg)
	se = stripeError(t, subscribe(-1), http.StatusBadRequest)
	assert.Equal(t, "items[0][quantity]", se.Param)
	assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), "refused creates bill nothing")
	assert.Empty(t, b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.created")}))

	// The largest price at the largest quantity bills exactly.
	const whole = int64(99_999_999) * 999_999 // 99,999,899,999,001
	require.NoError(t, subscribe(999_999))
	subs := b.sc.V1Subscriptions.List(ctx, &stripe.SubscriptionListParams{Customer: stripe.String(cust.ID)})
	var sub *stripe.Subscription
	for s, err := range subs.All(ctx) {
		require.NoError(t, err)
		sub = s
	}
	require.NotNil(t, sub)
	first := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, first.Status)
	assert.Equal(t, whole, first.Total)
	assert.Equal(t, whole, first.AmountPaid)
	assert.Equal(t, int64(0), first.AmountRemaining)

	b.advance(clock.ID, sub.Items.Data[0].CurrentPeriodEnd+2*hour)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	assert.Equal(t, stripe.InvoiceStatusPaid, renewal.Status)
	assert.Equal(t, whole, renewal.Total)

	// The subscription item endpoints keep to the same bounds.
	item := sub.Items.Data[0].ID
	_, err = b.sc.V1SubscriptionItems.Update(ctx, item, &stripe.SubscriptionItemUpdateParams{Quantity: stripe.Int64(1_000_000)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "quantity", se.Param)
	assert.Equal(t, "This value must be less than or equal to 999999 (it currently is '1000000').", se.Msg)
	for _, q := range []int64{-3, 1_000_000} {
		_, err = b.sc.V1SubscriptionItems.Create(ctx, &stripe.SubscriptionItemCreateParams{Subscription: stripe.String(sub.ID),
			Price: stripe.String(priceID), Quantity: stripe.Int64(q)})
		se = stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, "quantity", se.Param, "quantity %d", q)
	}
	after := b.subscription(sub.ID)
	require.Len(t, after.Items.Data, 1, "refused item changes leave the subscription as it was")
	assert.Equal(t, int64(999_999), after.Items.Data[0].Quantity)
	assert.Equal(t, renewal.ID, after.LatestInvoice.ID)
	assert.Empty(t, b.pendingItems(cust.ID))
}

func TestUnsafeAPIKeysAreRefused(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	const clocks = "/v1/test_helpers/test_clocks"
	long := "sk_test_" + strings.Repeat("x", 40_000) // past bbolt's longest bucket name
	for _, tc := range []struct{ name, key, masked string }{
		{"invalid UTF-8", "sk_test_abc\xff\xfe", "sk_test_****"},
		{"not ASCII", "sk_test_clé_secrète", "sk_test_****"},
		{"256 bytes", "sk_test_" + strings.Repeat("k", 248), "sk_test_****kkkk"},
		{"huge", long, "sk_test_****xxxx"},
	} {
		for scheme, header := range map[string]string{
			"Bearer": "Bearer " + tc.key,
			"Basic":  "Basic " + base64.StdEncoding.EncodeToString([]byte(tc.key+":")),
		} {
			t.Run(tc.name+" "+scheme, func(t *testing.T) {
				r := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Body: "frozen_time=1732320000",
					Header: map[string]string{"Authorization": header}})
				ae := r.apiError(t, http.StatusUnauthorized)
				assert.Equal(t, apiError{Type: "invalid_request_error", Message: "Invalid API Key provided: " + tc.masked}, ae)
				assert.True(t, utf8.Valid(r.Body), "the error body is valid UTF-8: %q", r.Body)
			})
		}
	}
	// The longest key taken still works end to end.
	key := "sk_test_" + strings.Repeat("k", 247)
	sc := e.client(key)
	c := createClock(t, sc, "")
	assert.Equal(t, []string{c.ID}, clockIDs(t, sc))
}

// invalidTimestamp is billclock's refusal of a timestamp out of its range,
// in the words Stripe starts its own timestamp errors with.
const invalidTimestamp = "Invalid timestamp: must be an integer Unix timestamp from 0 (1970-01-01 00:00:00 UTC) " +
	"to 4102444799 (2099-12-31 23:59:59 UTC)."

// TestTimestampsOutOfRangeAreRefused: frozen_time=MaxInt64 used to make a
// clock whose subscriptions' period ends overflowed. Every timestamp
// parameter now keeps to 1970..2099.
func TestTimestampsOutOfRangeAreRefused(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	const maxTime int64 = 4102444799 // 2099-12-31 23:59:59 UTC
	refused := func(err error, param string) {
		t.Helper()
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, param, se.Param)
		assert.Equal(t, invalidTimestamp, se.Msg)
	}

	for _, frozen := range []int64{math.MaxInt64, -1, maxTime + 1} {
		_, err := b.sc.V1TestHelpersTestClocks.Create(ctx, &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen)})
		refused(err, "frozen_time")
	}
	assert.Empty(t, clockIDs(t, b.sc), "refused clocks are not stored")

	// A clock near the end of the range, with a subscription whose
	// periods run past it.
	const jun2099 int64 = 4084387200 // 2099-06-05 00:00:00 UTC
	clock := b.clockAt(jun2099)
	prod, err := b.sc.V1Products.Create(ctx, &stripe.ProductCreateParams{Name: stripe.String("Decade")})
	require.NoError(t, err)
	price, err := b.sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Product: stripe.String(prod.ID), Currency: stripe.String("usd"),
		UnitAmount: stripe.Int64(100), Recurring: &stripe.PriceCreateRecurringParams{Interval: stripe.String("day"), IntervalCount: stripe.Int64(1095)}})
	require.NoError(t, err)
	cust := b.customer(clock.ID)
	create := func(edit func(*stripe.SubscriptionCreateParams)) (*stripe.Subscription, error) {
		p := &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
			Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}}}
		edit(p)
		return b.sc.V1Subscriptions.Create(ctx, p)
	}
	_, err = create(func(p *stripe.SubscriptionCreateParams) { p.TrialEnd = stripe.Int64(math.MaxInt64) })
	refused(err, "trial_end")
	_, err = create(func(p *stripe.SubscriptionCreateParams) { p.BillingCycleAnchor = stripe.Int64(maxTime + 1) })
	refused(err, "billing_cycle_anchor")
	_, err = create(func(p *stripe.SubscriptionCreateParams) { p.CancelAt = stripe.Int64(math.MaxInt64) })
	refused(err, "cancel_at")
	assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(cust.ID)}), "refused creates bill nothing")

	sub, err := create(func(*stripe.SubscriptionCreateParams) {})
	require.NoError(t, err)
	const end = jun2099 + 1095*86400 // 2102-06-04
	assert.Equal(t, end, sub.Items.Data[0].CurrentPeriodEnd, "periods may end past 2099; only parameters are bounded")

	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{CancelAt: stripe.Int64(math.MaxInt64)})
	refused(err, "cancel_at")
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{ProrationDate: stripe.Int64(-1),
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(sub.Items.Data[0].ID), Quantity: stripe.Int64(2)}}})
	refused(err, "proration_date")
	_, err = b.sc.V1SubscriptionItems.Update(ctx, sub.Items.Data[0].ID, &stripe.SubscriptionItemUpdateParams{
		Quantity: stripe.Int64(2), ProrationDate: stripe.Int64(math.MaxInt64)})
	refused(err, "proration_date")
	assert.Equal(t, int64(1), b.subscription(sub.ID).Items.Data[0].Quantity, "refused updates change nothing")

	// created filters, on every list that has them.
	for _, path := range []string{"/v1/events", "/v1/customers", "/v1/invoices", "/v1/invoiceitems", "/v1/products",
		"/v1/prices", "/v1/subscriptions"} {
		ae := b.raw(t, rawRequest{Method: http.MethodGet, Path: path + "?created[lte]=9223372036854775807", Key: testKey}).
			apiError(t, http.StatusBadRequest)
		assert.Equal(t, apiError{Type: "invalid_request_error", Param: "created[lte]", Message: invalidTimestamp}, ae, path)
	}

	// The clock goes to the last second of the range, and no further.
	b.advance(clock.ID, maxTime)
	_, err = b.sc.V1TestHelpersTestClocks.Advance(ctx, clock.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(maxTime + 1)})
	refused(err, "frozen_time")
	assert.Equal(t, end, b.subscription(sub.ID).Items.Data[0].CurrentPeriodEnd)
}

// TestClockNameCountsCharacters: a name of 300 "é" (600 bytes) was refused,
// and the refusal could cut a character in two.
func TestClockNameCountsCharacters(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	name := strings.Repeat("é", 300)
	c, err := sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(frozen0), Name: stripe.String(name)})
	require.NoError(t, err)
	assert.Equal(t, name, c.Name)
	got, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), c.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, name, got.Name)

	_, err = sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(frozen0), Name: stripe.String("a" + name)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "name", se.Param)
	assert.Equal(t, "Invalid string: aééééééééé...éééééééééé; must be at most 300 characters", se.Msg)
	assert.Equal(t, []string{c.ID}, clockIDs(t, sc))
}
