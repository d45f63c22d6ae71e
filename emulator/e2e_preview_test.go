package emulator_test

// Invoice previews (POST /v1/invoices/create_preview) and the
// upcoming-invoice notice: each previewed invoice is compared, byte for
// byte on what a user reads off it, with the invoice the change or the
// renewal then really makes, and previewing changes nothing.

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// invoiceFigures is what a user reads off an invoice, as the server sent
// it: what it bills, its period, reason and collection, and each line's
// text, money, period and pricing, in order. Ids are left out (a
// preview's are its own), and so is what has been paid of it.
func invoiceFigures(t *testing.T, raw map[string]any) string {
	t.Helper()
	keep := func(m map[string]any, keys ...string) map[string]any {
		out := map[string]any{}
		for _, k := range keys {
			out[k] = m[k]
		}
		return out
	}
	fig := keep(raw, "amount_due", "billing_reason", "collection_method", "created", "currency",
		"customer", "period_end", "period_start", "starting_balance", "subtotal", "subtotal_excluding_tax", "total",
		"total_excluding_tax", "due_date", "discounts", "total_discount_amounts", "total_taxes")
	var lines []any
	for _, l := range raw["lines"].(map[string]any)["data"].([]any) {
		line := l.(map[string]any)
		fl := keep(line, "amount", "currency", "description", "discountable", "period", "quantity", "subtotal", "taxes",
			"discount_amounts")
		if pr, ok := line["pricing"].(map[string]any); ok {
			fl["pricing"] = keep(pr, "unit_amount_decimal", "price_details")
		}
		if parent, ok := line["parent"].(map[string]any); ok {
			if sid, ok := parent["subscription_item_details"].(map[string]any); ok {
				fl["proration"] = sid["proration"]
				fl["subscription_item"] = sid["subscription_item"]
			}
		}
		lines = append(lines, fl)
	}
	fig["lines"] = lines
	out, err := json.MarshalIndent(fig, "", " ")
	require.NoError(t, err)
	return string(out)
}

// preview asks for a preview and returns it with its raw JSON.
func (b *billingEnv) preview(p *stripe.InvoiceCreatePreviewParams) (*stripe.Invoice, map[string]any) {
	b.t.Helper()
	inv, err := b.sc.V1Invoices.CreatePreview(b.t.Context(), p)
	require.NoError(b.t, err)
	return inv, rawJSON(b.t, inv.LastResponse)
}

// state is what previewing must leave as it was: the account's events,
// invoices and invoice items, and the subscription.
func (b *billingEnv) state(sub string) string {
	b.t.Helper()
	var items []string
	for ii, err := range b.sc.V1InvoiceItems.List(b.t.Context(), &stripe.InvoiceItemListParams{}).All(b.t.Context()) {
		require.NoError(b.t, err)
		items = append(items, ii.ID)
	}
	var invs []string
	for _, inv := range b.invoices(&stripe.InvoiceListParams{}) {
		invs = append(invs, inv.ID+":"+string(inv.Status))
	}
	s := b.subscription(sub)
	out, err := json.Marshal(map[string]any{"events": len(b.events(nil)), "items": items, "invoices": invs,
		"subscription": rawJSON(b.t, s.LastResponse)})
	require.NoError(b.t, err)
	return string(out)
}

func TestCreatePreviewOfAChangeIsTheRenewalItMakes(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	seats := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	pro := b.price("Pro seats", 3252, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, seats.ID, 3, nil)
	item := sub.Items.Data[0].ID
	const changeAt = frozen0 + 10*86400
	b.advance(clock.ID, changeAt)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(500), Currency: stripe.String("usd"),
		Description: stripe.String("Onboarding")})

	before := b.state(sub.ID)
	pv, raw := b.preview(&stripe.InvoiceCreatePreviewParams{Customer: stripe.String(cust.ID), Subscription: stripe.String(sub.ID),
		SubscriptionDetails: &stripe.InvoiceCreatePreviewSubscriptionDetailsParams{
			Items: []*stripe.InvoiceCreatePreviewSubscriptionDetailsItemParams{{ID: stripe.String(item),
				Price: stripe.String(pro.ID), Quantity: stripe.Int64(4)}},
			ProrationDate: stripe.Int64(changeAt),
		}})
	assert.Equal(t, before, b.state(sub.ID), "previewing changes nothing")
	assert.Regexp(t, `^upcoming_in_`, pv.ID)
	assert.Equal(t, stripe.InvoiceStatusDraft, pv.Status)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, pv.BillingReason)
	periodEnd := frozen0 + 30*86400
	assert.Equal(t, periodEnd, pv.Created, "the renewal to come")
	require.Len(t, pv.Lines.Data, 4)
	for _, l := range pv.Lines.Data {
		assert.Regexp(t, `^il_tmp_`, l.ID)
	}
	credit := -prorated(3*1200, frozen0, periodEnd, changeAt)
	debit := prorated(4*3252, frozen0, periodEnd, changeAt)
	assert.Equal(t, credit+debit+500+4*3252, pv.Total)
	_, err := b.sc.V1Invoices.Retrieve(ctx, pv.ID, nil)
	stripeError(t, err, http.StatusNotFound)

	// The change made for real, at the same time: the renewal invoice is
	// the one previewed.
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items:         []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(item), Price: stripe.String(pro.ID), Quantity: stripe.Int64(4)}},
		ProrationDate: stripe.Int64(changeAt)})
	require.NoError(t, err)
	b.advance(clock.ID, periodEnd)
	renewal := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, renewal.BillingReason)
	assert.Equal(t, invoiceFigures(t, raw), invoiceFigures(t, rawJSON(t, renewal.LastResponse)))
}

func TestCreatePreviewOfAChangeInvoicedAtOnce(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	seats := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, seats.ID, 2, nil)
	item := sub.Items.Data[0].ID
	const changeAt = frozen0 + 12*86400 + 3600
	b.advance(clock.ID, changeAt)

	before := b.state(sub.ID)
	_, raw := b.preview(&stripe.InvoiceCreatePreviewParams{Subscription: stripe.String(sub.ID),
		SubscriptionDetails: &stripe.InvoiceCreatePreviewSubscriptionDetailsParams{
			Items:             []*stripe.InvoiceCreatePreviewSubscriptionDetailsItemParams{{ID: stripe.String(item), Quantity: stripe.Int64(5)}},
			ProrationBehavior: stripe.String("always_invoice"),
		}})
	assert.Equal(t, before, b.state(sub.ID))
	assert.Equal(t, "subscription_update", raw["billing_reason"])
	periodEnd := frozen0 + 30*86400
	want := prorated(5*1000, frozen0, periodEnd, changeAt) - prorated(2*1000, frozen0, periodEnd, changeAt)
	assert.EqualValues(t, want, raw["total"])

	up, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(item), Quantity: stripe.Int64(5)}},
		ProrationBehavior: stripe.String("always_invoice")})
	require.NoError(t, err)
	made := b.invoice(up.LatestInvoice.ID)
	require.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, made.BillingReason)
	assert.EqualValues(t, want, made.AmountPaid, "made and paid at once")
	// The preview is the invoice as it is made: a draft, before it is
	// finalized and paid.
	assert.Equal(t, invoiceFigures(t, raw), invoiceFigures(t, rawJSON(t, made.LastResponse)))
}

func TestCreatePreviewOfTheNextRenewalAndOfANewSubscription(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	price := b.price("Plan", 2500, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)

	bySub, raw := b.preview(&stripe.InvoiceCreatePreviewParams{Subscription: stripe.String(sub.ID)})
	byCustomer, _ := b.preview(&stripe.InvoiceCreatePreviewParams{Customer: stripe.String(cust.ID)})
	assert.EqualValues(t, 2500, bySub.Total)
	assert.Equal(t, bySub.Total, byCustomer.Total)
	assert.Equal(t, frozen0+30*86400, bySub.Created)
	assert.Equal(t, sub.ID, bySub.Parent.SubscriptionDetails.Subscription.ID)
	b.advance(clock.ID, frozen0+30*86400)
	assert.Equal(t, invoiceFigures(t, raw), invoiceFigures(t, rawJSON(t, b.latestInvoice(sub.ID).LastResponse)))

	// A new subscription's first invoice, for a customer with no other.
	other := b.customer(clock.ID)
	first, raw := b.preview(&stripe.InvoiceCreatePreviewParams{Customer: stripe.String(other.ID),
		SubscriptionDetails: &stripe.InvoiceCreatePreviewSubscriptionDetailsParams{
			Items: []*stripe.InvoiceCreatePreviewSubscriptionDetailsItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(3)}}}})
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCreate, first.BillingReason)
	assert.EqualValues(t, 7500, first.Total)
	assert.Nil(t, first.Parent, "the subscription does not exist")
	assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(other.ID)}))
	made := b.subscribe(other.ID, price.ID, 3, nil)
	fig := func(raw map[string]any) string {
		t.Helper()
		lines := raw["lines"].(map[string]any)["data"].([]any)
		for _, l := range lines {
			// The new subscription's item has an id only once it exists.
			delete(l.(map[string]any), "parent")
		}
		return invoiceFigures(t, raw)
	}
	assert.Equal(t, fig(raw), fig(rawJSON(t, b.invoice(made.LatestInvoice.ID).LastResponse)))

	// Nothing to come: Stripe's invoice_upcoming_none.
	lonely := b.customer(clock.ID)
	_, err := b.sc.V1Invoices.CreatePreview(ctx, &stripe.InvoiceCreatePreviewParams{Customer: stripe.String(lonely.ID)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("invoice_upcoming_none"), se.Code)
	assert.Equal(t, "No upcoming invoices for customer: "+lonely.ID, se.Msg)
	_, err = b.sc.V1Subscriptions.Update(ctx, made.ID, &stripe.SubscriptionUpdateParams{CancelAtPeriodEnd: stripe.Bool(true)})
	require.NoError(t, err)
	_, err = b.sc.V1Invoices.CreatePreview(ctx, &stripe.InvoiceCreatePreviewParams{Subscription: stripe.String(made.ID)})
	assert.Equal(t, stripe.ErrorCode("invoice_upcoming_none"), stripeError(t, err, http.StatusBadRequest).Code)
	_, err = b.sc.V1Invoices.CreatePreview(ctx, &stripe.InvoiceCreatePreviewParams{Subscription: stripe.String("sub_nope")})
	assert.Equal(t, "subscription", stripeError(t, err, http.StatusNotFound).Param)
}

func TestInvoiceUpcomingNoticeOnTheClock(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	r := b.as(t, testKey, http.MethodPost, "/_billclock/settings", "upcoming_invoice_days=7", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	price := b.price("Plan", 1800, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 2, nil)
	renewalAt := frozen0 + 30*86400

	mark := len(b.events(nil))
	b.advance(clock.ID, renewalAt-7*86400-1)
	assert.NotContains(t, b.typesSince(mark), "invoice.upcoming")
	b.advance(clock.ID, renewalAt-7*86400)
	evs := b.events(&stripe.EventListParams{Type: stripe.String("invoice.upcoming")})
	require.Len(t, evs, 1)
	assert.Equal(t, renewalAt-7*86400, evs[0].Created, "seven days ahead, in the clock's time")
	upcoming := evs[0].Data.Object
	assert.Regexp(t, `^upcoming_in_`, upcoming["id"])
	b.advance(clock.ID, renewalAt)
	assert.Equal(t, invoiceFigures(t, upcoming), invoiceFigures(t, rawJSON(t, b.latestInvoice(sub.ID).LastResponse)),
		"the notice shows the renewal invoice to come")

	// No notice once the account gives none.
	r = b.as(t, testKey, http.MethodPost, "/_billclock/settings", "upcoming_invoice_days=0", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	b.advance(clock.ID, renewalAt+29*86400)
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("invoice.upcoming")}), 1)
}

// TestCreatePreviewWithTaxRates: a previewed change that sets an item's
// tax_rates and the subscription's default_tax_rates is taxed as the
// change then really is.
func TestCreatePreviewWithTaxRates(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	seats := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	support := b.price("Support", 999, stripe.PriceRecurringIntervalMonth)
	gst := b.taxRate("GST", 10, false)
	vat := b.taxRate("VAT", 20, true)
	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(seats.ID), Quantity: stripe.Int64(3)},
			{Price: stripe.String(support.ID)}}})
	require.NoError(t, err)
	const changeAt = frozen0 + 10*86400
	b.advance(clock.ID, changeAt)

	before := b.state(sub.ID)
	pv, raw := b.preview(&stripe.InvoiceCreatePreviewParams{Subscription: stripe.String(sub.ID),
		SubscriptionDetails: &stripe.InvoiceCreatePreviewSubscriptionDetailsParams{
			Items: []*stripe.InvoiceCreatePreviewSubscriptionDetailsItemParams{{ID: stripe.String(sub.Items.Data[0].ID),
				Quantity: stripe.Int64(5), TaxRates: stripe.StringSlice([]string{vat.ID})}},
			DefaultTaxRates:   stripe.StringSlice([]string{gst.ID}),
			ProrationBehavior: stripe.String("always_invoice"),
			ProrationDate:     stripe.Int64(changeAt),
		}})
	assert.Equal(t, before, b.state(sub.ID), "previewing changes nothing")
	require.NotEmpty(t, pv.TotalTaxes, "the preview is taxed")

	updated, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(sub.Items.Data[0].ID), Quantity: stripe.Int64(5),
			TaxRates: stripe.StringSlice([]string{vat.ID})}},
		DefaultTaxRates: stripe.StringSlice([]string{gst.ID}), ProrationBehavior: stripe.String("always_invoice"),
		ProrationDate: stripe.Int64(changeAt)})
	require.NoError(t, err)
	made := b.invoice(updated.LatestInvoice.ID)
	assert.Equal(t, invoiceFigures(t, raw), invoiceFigures(t, rawJSON(t, made.LastResponse)))
	// Two more seats for 20 of 30 days: 2 × 1200 × 2/3 = 1600, with 20%
	// VAT inside it: 266.67 → 267.
	assert.EqualValues(t, 1600, made.Total)
	require.Len(t, made.TotalTaxes, 1)
	assert.EqualValues(t, 267, made.TotalTaxes[0].Amount)
}
