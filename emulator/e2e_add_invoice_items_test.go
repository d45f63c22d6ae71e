package emulator_test

// A subscription's add_invoice_items (create, update, schedule phases)
// are invoice items like those of POST /v1/invoiceitems: their discounts,
// tax rates and periods bill to the cent as an invoice item's do.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// periodLine is what a user reads off an invoice line that bills an
// invoice item: its description, amount and period.
type periodLine struct {
	Desc       string
	Amount     int64
	Start, End int64
}

func periodLines(inv *stripe.Invoice) []periodLine {
	var out []periodLine
	for _, l := range inv.Lines.Data {
		out = append(out, periodLine{l.Description, l.Amount, l.Period.Start, l.Period.End})
	}
	return out
}

// setupQuarterOffTaxed is the money of an invoice of a 4000 setup item
// with a quarter off (discount di) and taxed 10% exclusive (rate), and a
// 2000 seat.
func setupQuarterOffTaxed(di, rate string) discounted {
	tax := taxLine{Rate: rate, Amount: 300, Taxable: 3000, TaxabilityReason: "not_available", TaxRateDetailType: "tax_rate_details"}
	return discounted{Subtotal: 5000, SubtotalExcludingTax: 5000, TotalExcludingTax: 5000, Total: 5300, AmountDue: 5300,
		DiscountAmounts: map[string]int64{di: 1000}, Taxes: []taxLine{tax},
		Lines: []moneyLine{
			{Amount: 4000, Discountable: true, Off: map[string]int64{di: 1000}, Taxes: []taxLine{tax}},
			{Amount: 2000, Discountable: true}}}
}

// TestAddInvoiceItemDiscountAndTaxRate: a one-time item with a 25% coupon
// and a 10% exclusive tax rate on a subscription's first invoice. The
// setup line is 4000 less 1000, taxed 10%: 300; the seat line is neither
// discounted nor taxed. The subtotal is 3000 + 2000 (an item's own
// discount comes off it, as for an invoice item made by hand), the total
// 5000 + 300 = 5300.
func TestAddInvoiceItemDiscountAndTaxRate(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seat := b.price("Seat", 2000, stripe.PriceRecurringIntervalMonth)
	setup := b.price("Setup", 4000, "")
	quarter := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("forever")})
	gst := b.taxRate("GST", 10, false)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)

	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(seat.ID)}},
		AddInvoiceItems: []*stripe.SubscriptionCreateAddInvoiceItemParams{{Price: stripe.String(setup.ID),
			Discounts: []*stripe.SubscriptionCreateAddInvoiceItemDiscountParams{{Coupon: stripe.String(quarter.ID)}},
			TaxRates:  stripe.StringSlice([]string{gst.ID})}}})
	require.NoError(t, err)
	inv := b.invoice(sub.LatestInvoice.ID)
	require.Len(t, inv.Lines.Data, 2)
	require.Len(t, inv.Lines.Data[0].Discounts, 1)
	di := inv.Lines.Data[0].Discounts[0].ID
	assert.Equal(t, setupQuarterOffTaxed(di, gst.ID), moneyOf(inv))
	assert.EqualValues(t, 5300, inv.AmountPaid)
	assert.Equal(t, "Setup", inv.Lines.Data[0].Description)

	// The item shows its own discount and tax rate, as an invoice item
	// made by hand does, and the coupon counts the redemption.
	require.NotNil(t, inv.Lines.Data[0].Parent.InvoiceItemDetails)
	ii, err := b.sc.V1InvoiceItems.Retrieve(ctx, inv.Lines.Data[0].Parent.InvoiceItemDetails.InvoiceItem, nil)
	require.NoError(t, err)
	require.Len(t, ii.Discounts, 1)
	assert.Equal(t, di, ii.Discounts[0].ID)
	require.Len(t, ii.TaxRates, 1)
	assert.Equal(t, gst.ID, ii.TaxRates[0].ID)
	assert.EqualValues(t, 3000, ii.NetAmount)
	assert.Equal(t, sub.ID, ii.Parent.SubscriptionDetails.Subscription)
	c, err := b.sc.V1Coupons.Retrieve(ctx, quarter.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.TimesRedeemed)

	// Refusals name the parameter within the item.
	for _, tc := range []struct {
		body           string
		status         int
		param, message string
	}{
		{"add_invoice_items[0][discounts][0][coupon]=NOPE", http.StatusNotFound, "add_invoice_items[0][discounts][0][coupon]",
			"No such coupon: 'NOPE'"},
		{"add_invoice_items[0][tax_rates][0]=" + gst.ID + "&add_invoice_items[0][tax_rates][1]=" + gst.ID, http.StatusBadRequest,
			"add_invoice_items[0][tax_rates][1]", "The tax rate " + gst.ID + " is passed more than once."},
	} {
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Key: testKey,
			Body: "customer=" + cust.ID + "&items[0][price]=" + seat.ID + "&add_invoice_items[0][price]=" + setup.ID + "&" + tc.body})
		ae := r.apiError(t, tc.status)
		assert.Equal(t, tc.param, ae.Param, tc.body)
		assert.Equal(t, tc.message, ae.Message, tc.body)
	}
}

// TestAddInvoiceItemPeriods: the items an update adds bill the periods
// they are given (timestamps, now, the subscription's current period),
// on the pending items and then on the renewal that takes them.
func TestAddInvoiceItemPeriods(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seat := b.price("Seat", 2000, stripe.PriceRecurringIntervalMonth)
	setup := b.price("Setup", 4000, "")
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, seat.ID, 1, nil)
	b.advance(clock.ID, jan11y24)

	sub, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		AddInvoiceItems: []*stripe.SubscriptionUpdateAddInvoiceItemParams{
			{Price: stripe.String(setup.ID), Period: &stripe.SubscriptionUpdateAddInvoiceItemPeriodParams{
				Start: &stripe.SubscriptionUpdateAddInvoiceItemPeriodStartParams{Type: stripe.String("timestamp"), Timestamp: stripe.Int64(jan01y24)},
				End:   &stripe.SubscriptionUpdateAddInvoiceItemPeriodEndParams{Type: stripe.String("timestamp"), Timestamp: stripe.Int64(jan11y24)}}},
			{Price: stripe.String(setup.ID), Quantity: stripe.Int64(2), Period: &stripe.SubscriptionUpdateAddInvoiceItemPeriodParams{
				Start: &stripe.SubscriptionUpdateAddInvoiceItemPeriodStartParams{Type: stripe.String("now")},
				End:   &stripe.SubscriptionUpdateAddInvoiceItemPeriodEndParams{Type: stripe.String("min_item_period_end")}}},
			{Price: stripe.String(setup.ID), Quantity: stripe.Int64(3), Period: &stripe.SubscriptionUpdateAddInvoiceItemPeriodParams{
				Start: &stripe.SubscriptionUpdateAddInvoiceItemPeriodStartParams{Type: stripe.String("max_item_period_start")},
				End:   &stripe.SubscriptionUpdateAddInvoiceItemPeriodEndParams{Type: stripe.String("timestamp"), Timestamp: stripe.Int64(jan11y24 + day)}}},
		}})
	require.NoError(t, err)
	want := []periodLine{
		{"Setup", 4000, jan01y24, jan11y24},
		{"Setup", 8000, jan11y24, feb01y24},
		{"Setup", 12000, jan01y24, jan11y24 + day},
	}
	var pending []periodLine
	for _, ii := range b.pendingItems(cust.ID) {
		pending = append(pending, periodLine{ii.Description, ii.Amount, ii.Period.Start, ii.Period.End})
	}
	assert.ElementsMatch(t, want, pending)

	b.advance(clock.ID, feb01y24+hour)
	renewal := b.latestInvoice(sub.ID)
	lines := periodLines(renewal)
	require.Len(t, lines, 4)
	assert.ElementsMatch(t, want, lines[:3], "the pending items, with their periods")
	assert.Equal(t, periodLine{"1 × Seat (at $20.00 / month)", 2000, feb01y24, feb01y24 + 29*day}, lines[3])
	assert.EqualValues(t, 2000+4000+8000+12000, renewal.AmountPaid)

	for _, tc := range []struct{ body, param, message string }{
		{"add_invoice_items[0][period][start][type]=timestamp&add_invoice_items[0][period][start][timestamp]=1705000000" +
			"&add_invoice_items[0][period][end][type]=timestamp&add_invoice_items[0][period][end][timestamp]=1704000000",
			"add_invoice_items[0][period][end]", "The period end must be at or after its start."},
		{"add_invoice_items[0][period][start][type]=now&add_invoice_items[0][period][end][type]=timestamp" +
			"&add_invoice_items[0][period][end][timestamp]=1704067200",
			"add_invoice_items[0][period][end]", "The period end must be at or after its start."},
		{"add_invoice_items[0][period][start][type]=timestamp&add_invoice_items[0][period][end][type]=min_item_period_end",
			"add_invoice_items[0][period][start][timestamp]", "Missing required param: add_invoice_items[0][period][start][timestamp]."},
		{"add_invoice_items[0][period][start][type]=now", "add_invoice_items[0][period][end]",
			"Missing required param: add_invoice_items[0][period][end]."},
		{"add_invoice_items[0][period][start][type]=phase_start&add_invoice_items[0][period][end][type]=min_item_period_end",
			"add_invoice_items[0][period][start][type]",
			"Invalid add_invoice_items[0][period][start][type]: must be one of max_item_period_start, now, or timestamp"},
	} {
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Key: testKey,
			Body: "add_invoice_items[0][price]=" + setup.ID + "&" + tc.body})
		ae := r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, tc.param, ae.Param, tc.body)
		assert.Equal(t, tc.message, ae.Message, tc.body)
	}
}

// TestScheduleAddInvoiceItemTerms: a phase's one-time item with a coupon,
// a tax rate and the phase's period is billed when the phase is entered,
// as the same item of a subscription is, and the schedule shows them.
func TestScheduleAddInvoiceItemTerms(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	seat := b.price("Seat", 2000, stripe.PriceRecurringIntervalMonth)
	setup := b.price("Setup", 4000, "")
	quarter := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("forever")})
	gst := b.taxRate("GST", 10, false)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	second := phase(seat.ID, 1, 1)
	second.AddInvoiceItems = []*stripe.SubscriptionScheduleCreatePhaseAddInvoiceItemParams{{Price: stripe.String(setup.ID),
		Discounts: []*stripe.SubscriptionScheduleCreatePhaseAddInvoiceItemDiscountParams{{Coupon: stripe.String(quarter.ID)}},
		TaxRates:  stripe.StringSlice([]string{gst.ID}),
		Period: &stripe.SubscriptionScheduleCreatePhaseAddInvoiceItemPeriodParams{
			Start: &stripe.SubscriptionScheduleCreatePhaseAddInvoiceItemPeriodStartParams{Type: stripe.String("phase_start")},
			End:   &stripe.SubscriptionScheduleCreatePhaseAddInvoiceItemPeriodEndParams{Type: stripe.String("phase_end")}}}}
	sched := b.schedule(cust.ID, "release", phase(seat.ID, 1, 1), second)

	require.Len(t, sched.Phases, 2)
	require.Len(t, sched.Phases[1].AddInvoiceItems, 1)
	shown := sched.Phases[1].AddInvoiceItems[0]
	require.Len(t, shown.Discounts, 1)
	require.NotNil(t, shown.Discounts[0].Coupon)
	assert.Equal(t, quarter.ID, shown.Discounts[0].Coupon.ID)
	require.Len(t, shown.TaxRates, 1)
	assert.Equal(t, gst.ID, shown.TaxRates[0].ID)
	require.NotNil(t, shown.Period)
	assert.Equal(t, stripe.SubscriptionSchedulePhaseAddInvoiceItemPeriodStartTypePhaseStart, shown.Period.Start.Type)
	assert.Equal(t, stripe.SubscriptionSchedulePhaseAddInvoiceItemPeriodEndTypePhaseEnd, shown.Period.End.Type)

	b.advance(clock.ID, feb01y24+hour)
	inv := b.latestInvoice(sched.Subscription.ID)
	lines := periodLines(inv)
	require.Len(t, lines, 2)
	assert.Equal(t, periodLine{"Setup", 4000, feb01y24, feb01y24 + 29*day}, lines[0], "the phase's period")
	require.Len(t, inv.Lines.Data[0].Discounts, 1)
	di := inv.Lines.Data[0].Discounts[0].ID
	assert.Equal(t, setupQuarterOffTaxed(di, gst.ID), moneyOf(inv))
	assert.EqualValues(t, 5300, inv.AmountPaid)

	// A coupon that does not exist is refused when the schedule is made,
	// not when its phase begins.
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscription_schedules", Key: testKey,
		Body: "customer=" + cust.ID + "&start_date=now&phases[0][items][0][price]=" + seat.ID +
			"&phases[0][add_invoice_items][0][price]=" + setup.ID + "&phases[0][add_invoice_items][0][discounts][0][coupon]=NOPE"})
	ae := r.apiError(t, http.StatusNotFound)
	assert.Equal(t, "phases[0][add_invoice_items][0][discounts][0][coupon]", ae.Param)
	assert.Equal(t, "No such coupon: 'NOPE'", ae.Message)
}
