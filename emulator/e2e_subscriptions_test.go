package emulator_test

// End-to-end tests of subscription options beyond the basics: backdating,
// paused collection, resuming a paused subscription, resetting the billing
// cycle, inline prices, one-time items, payment settings and the billing
// cycle anchor configuration, with the amounts a user would check.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// Times of the tests below, UTC midnights.
const (
	jan15y23 int64 = 1673740800 // 2023-01-15
	feb15y23 int64 = 1676419200 // 2023-02-15
	mar01y23 int64 = 1677628800 // 2023-03-01
	mar15y23 int64 = 1678838400 // 2023-03-15
	mar20y23 int64 = 1679270400 // 2023-03-20
	apr20y23 int64 = 1681948800 // 2023-04-20
	sep01y23 int64 = 1693526400 // 2023-09-01
	oct01y23 int64 = 1696118400 // 2023-10-01
	oct15y23 int64 = 1697328000 // 2023-10-15
	nov01y23 int64 = 1698796800 // 2023-11-01
	jan01y24 int64 = 1704067200 // 2024-01-01
	jan11y24 int64 = 1704931200 // 2024-01-11
	feb01y24 int64 = 1706745600 // 2024-02-01
	feb11y24 int64 = 1707609600 // 2024-02-11
	mar01y24 int64 = 1709251200 // 2024-03-01
	apr01y24 int64 = 1711929600 // 2024-04-01
)

// TestBackdatedSubscription follows Stripe's backdating guide: the time
// since the backdated start is billed on the first invoice beside the
// first regular period, one line per natural cycle counted from the
// backdated start, the last prorated against its whole cycle.
func TestBackdatedSubscription(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 3000, stripe.PriceRecurringIntervalMonth)

	t.Run("half a month, as in Stripe's example", func(t *testing.T) {
		// Backdated to 15 February 2023 on 1 March: the imagined month
		// 15 Feb - 15 Mar has 28 days, and 14 of them passed: exactly half.
		clock := b.clockAt(mar01y23)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
			p.BackdateStartDate = stripe.Int64(feb15y23)
		})
		assert.Equal(t, feb15y23, sub.StartDate)
		assert.Equal(t, mar01y23, sub.Created)
		assert.Equal(t, mar01y23, sub.BillingCycleAnchor, "the cycle is anchored now")
		assert.Equal(t, mar01y23, sub.Items.Data[0].CurrentPeriodStart)
		inv := b.invoice(sub.LatestInvoice.ID)
		assert.Equal(t, []line{
			{Desc: "Remaining time on 1 × Seat after 15 Feb 2023", Amount: 1500, Start: feb15y23, End: mar01y23, Proration: true},
			{Desc: "1 × Seat (at $30.00 / month)", Amount: 3000, Start: mar01y23, End: mar01y23 + 31*day},
		}, invoiceLines(t, inv))
		assert.Equal(t, int64(4500), inv.Total)
		assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
		assert.Equal(t, int64(4500), inv.AmountPaid)
	})

	t.Run("two whole cycles and a part", func(t *testing.T) {
		// From 15 January to 20 March: 15 Jan - 15 Feb and 15 Feb - 15 Mar
		// whole, then 5 days of the imagined 31-day 15 Mar - 15 Apr.
		require.Equal(t, int64(484), prorated(3000, mar15y23, mar15y23+31*day, mar15y23+26*day))
		clock := b.clockAt(mar20y23)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
			p.BackdateStartDate = stripe.Int64(jan15y23)
		})
		inv := b.invoice(sub.LatestInvoice.ID)
		assert.Equal(t, []line{
			{Desc: "1 × Seat (at $30.00 / month)", Amount: 3000, Start: jan15y23, End: feb15y23},
			{Desc: "1 × Seat (at $30.00 / month)", Amount: 3000, Start: feb15y23, End: mar15y23},
			{Desc: "Remaining time on 1 × Seat after 15 Mar 2023", Amount: 484, Start: mar15y23, End: mar20y23, Proration: true},
			{Desc: "1 × Seat (at $30.00 / month)", Amount: 3000, Start: mar20y23, End: apr20y23},
		}, invoiceLines(t, inv))
		assert.Equal(t, int64(9484), inv.Total)
		assert.Equal(t, apr20y23, sub.Items.Data[0].CurrentPeriodEnd)

		// It renews on its new anchor.
		b.advance(clock.ID, apr20y23+hour)
		renewal := b.latestInvoice(sub.ID)
		assert.Equal(t, int64(3000), renewal.Total)
		assert.Equal(t, stripe.InvoiceStatusPaid, renewal.Status)
	})

	t.Run("with a billing cycle anchor, as when migrating", func(t *testing.T) {
		// On 15 October, a subscription that started on 1 September and
		// next bills on 1 November: the two months up to the anchor.
		clock := b.clockAt(oct15y23)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 2, func(p *stripe.SubscriptionCreateParams) {
			p.BackdateStartDate = stripe.Int64(sep01y23)
			p.BillingCycleAnchor = stripe.Int64(nov01y23)
		})
		assert.Equal(t, sep01y23, sub.StartDate)
		assert.Equal(t, nov01y23, sub.BillingCycleAnchor)
		assert.Equal(t, sep01y23, sub.Items.Data[0].CurrentPeriodStart)
		assert.Equal(t, nov01y23, sub.Items.Data[0].CurrentPeriodEnd)
		inv := b.invoice(sub.LatestInvoice.ID)
		assert.Equal(t, []line{
			{Desc: "2 × Seat (at $30.00 / month)", Amount: 6000, Start: sep01y23, End: oct01y23},
			{Desc: "2 × Seat (at $30.00 / month)", Amount: 6000, Start: oct01y23, End: nov01y23},
		}, invoiceLines(t, inv))
		assert.Equal(t, int64(12000), inv.Total)
	})

	t.Run("without charging", func(t *testing.T) {
		clock := b.clockAt(mar01y23)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
			p.BackdateStartDate = stripe.Int64(feb15y23)
			p.ProrationBehavior = stripe.String("none")
		})
		assert.Equal(t, feb15y23, sub.StartDate)
		inv := b.invoice(sub.LatestInvoice.ID)
		assert.Equal(t, []line{{Desc: "1 × Seat (at $30.00 / month)", Amount: 3000, Start: mar01y23, End: mar01y23 + 31*day}},
			invoiceLines(t, inv))
	})

	t.Run("refusals", func(t *testing.T) {
		clock := b.clockAt(mar01y23)
		cust := b.customer(clock.ID)
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Key: testKey,
			Body: "customer=" + cust.ID + "&items[0][price]=" + price.ID + "&backdate_start_date=1677628801"})
		ae := r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, "backdate_start_date", ae.Param)
		assert.Contains(t, ae.Message, "backdate_start_date must be in the past")
		daily := b.price("Daily", 100, stripe.PriceRecurringIntervalDay)
		r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Key: testKey,
			Body: "customer=" + cust.ID + "&items[0][price]=" + daily.ID + "&backdate_start_date=1640995200"})
		ae = r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, "Backdating isn't supported when the invoice would have more than 250 line items.", ae.Message)
		subs := b.sc.V1Subscriptions.List(t.Context(), &stripe.SubscriptionListParams{Customer: stripe.String(cust.ID)})
		for range subs.All(t.Context()) {
			t.Error("a refused subscription was stored")
		}
	})
}

// TestPauseCollection pauses the collection of a monthly subscription
// with each behaviour: its renewal is still made, but kept as a draft,
// marked uncollectible or voided, never charged, and the subscription
// stays active. Clearing the pause, or its resumes_at passing, brings
// collection back.
func TestPauseCollection(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 3000, stripe.PriceRecurringIntervalMonth)
	pause := func(sub string, behavior string, resumesAt int64) *stripe.Subscription {
		t.Helper()
		p := &stripe.SubscriptionUpdateParams{PauseCollection: &stripe.SubscriptionUpdatePauseCollectionParams{
			Behavior: stripe.String(behavior)}}
		if resumesAt != 0 {
			p.PauseCollection.ResumesAt = stripe.Int64(resumesAt)
		}
		s, err := b.sc.V1Subscriptions.Update(ctx, sub, p)
		require.NoError(t, err)
		return s
	}

	for _, tc := range []struct {
		behavior string
		status   stripe.InvoiceStatus
		events   []string
	}{
		{"keep_as_draft", stripe.InvoiceStatusDraft, []string{"invoice.upcoming", "invoice.created"}},
		{"mark_uncollectible", stripe.InvoiceStatusUncollectible,
			[]string{"invoice.upcoming", "invoice.created", "invoice.finalized", "payment_intent.created", "invoice.marked_uncollectible", "invoice.updated"}},
		{"void", stripe.InvoiceStatusVoid,
			[]string{"invoice.upcoming", "invoice.created", "invoice.finalized", "payment_intent.created", "invoice.voided", "invoice.updated", "payment_intent.canceled"}},
	} {
		t.Run(tc.behavior, func(t *testing.T) {
			clock := b.clockAt(jan01y24)
			cust := b.customer(clock.ID)
			sub := b.subscribe(cust.ID, price.ID, 1, nil)
			sub = pause(sub.ID, tc.behavior, 0)
			require.NotNil(t, sub.PauseCollection)
			assert.Equal(t, stripe.SubscriptionPauseCollectionBehavior(tc.behavior), sub.PauseCollection.Behavior)
			assert.Equal(t, int64(0), sub.PauseCollection.ResumesAt)
			assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)

			n := len(b.events(nil))
			b.advance(clock.ID, feb01y24+2*hour)
			renewal := b.latestInvoice(sub.ID)
			assert.Equal(t, feb01y24, renewal.Created)
			assert.Equal(t, tc.status, renewal.Status)
			assert.Equal(t, int64(3000), renewal.Total)
			assert.Equal(t, int64(0), renewal.AmountPaid)
			assert.False(t, renewal.Attempted, "a paused collection attempts nothing")
			assert.Equal(t, tc.behavior != "keep_as_draft", renewal.AutoAdvance)
			assert.Equal(t, int64(0), renewal.AutomaticallyFinalizesAt)
			var types []string
			for _, ev := range b.events(nil)[n:] {
				if ev.Type != "test_helpers.test_clock.advancing" && ev.Type != "test_helpers.test_clock.ready" &&
					ev.Type != "customer.subscription.updated" {
					types = append(types, string(ev.Type))
				}
			}
			assert.Equal(t, tc.events, types)
			assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
			charges := b.sc.V1Charges.List(ctx, &stripe.ChargeListParams{Customer: stripe.String(cust.ID)})
			count := 0
			for _, err := range charges.All(ctx) {
				require.NoError(t, err)
				count++
			}
			assert.Equal(t, 1, count, "only the first invoice was charged")

			// Cleared, the next renewal is collected again.
			p := &stripe.SubscriptionUpdateParams{}
			p.AddUnsetField(stripe.SubscriptionUpdateParamsUnsetFieldPauseCollection)
			sub, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, p)
			require.NoError(t, err)
			assert.Nil(t, sub.PauseCollection)
			b.advance(clock.ID, mar01y24+2*hour)
			next := b.latestInvoice(sub.ID)
			assert.Equal(t, stripe.InvoiceStatusPaid, next.Status)
			assert.Equal(t, int64(3000), next.AmountPaid)
		})
	}

	t.Run("resumes_at", func(t *testing.T) {
		clock := b.clockAt(jan01y24)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, nil)
		sub = pause(sub.ID, "void", feb11y24)
		assert.Equal(t, feb11y24, sub.PauseCollection.ResumesAt)
		b.advance(clock.ID, feb01y24+2*hour)
		assert.Equal(t, stripe.InvoiceStatusVoid, b.latestInvoice(sub.ID).Status)
		n := len(b.events(nil))
		b.advance(clock.ID, feb11y24)
		assert.Nil(t, b.subscription(sub.ID).PauseCollection, "collection resumed at resumes_at")
		evs := b.events(nil)[n:]
		require.Len(t, evs, 3)
		assert.Equal(t, "customer.subscription.updated", string(evs[1].Type))
		assert.Equal(t, feb11y24, evs[1].Created)
		assert.Contains(t, string(evs[1].Data.PreviousAttributes["pause_collection"].(map[string]any)["behavior"].(string)), "void")
		b.advance(clock.ID, mar01y24+2*hour)
		assert.Equal(t, stripe.InvoiceStatusPaid, b.latestInvoice(sub.ID).Status)
	})

	t.Run("refusals", func(t *testing.T) {
		clock := b.clockAt(jan01y24)
		cust := b.customer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, nil)
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Key: testKey,
			Body: "pause_collection[behavior]=void&pause_collection[resumes_at]=1704067200"})
		ae := r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, apiError{Type: "invalid_request_error", Message: "pause_collection[resumes_at] must be in the future.",
			Param: "pause_collection[resumes_at]"}, ae)
		r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Key: testKey,
			Body: "pause_collection[behavior]=sleep"})
		ae = r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, "pause_collection[behavior]", ae.Param)
		r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Key: testKey,
			Body: "pause_collection[resumes_at]=1904067200"})
		ae = r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, "Missing required param: pause_collection[behavior].", ae.Message)
		assert.Nil(t, b.subscription(sub.ID).PauseCollection)
	})
}

// TestResumePausedSubscription resumes a subscription paused when its
// trial ended without a payment method: by default a new cycle starts and
// is invoiced at once; billing_cycle_anchor=unchanged keeps the old cycle
// and prorates the rest of its period.
func TestResumePausedSubscription(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 3000, stripe.PriceRecurringIntervalMonth)
	paused := func() (*stripe.TestHelpersTestClock, *stripe.Customer, *stripe.Subscription) {
		t.Helper()
		clock := b.clockAt(jan01y24)
		cust := b.bareCustomer(clock.ID)
		sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
			p.TrialEnd = stripe.Int64(jan11y24)
			p.TrialSettings = &stripe.SubscriptionCreateTrialSettingsParams{EndBehavior: &stripe.SubscriptionCreateTrialSettingsEndBehaviorParams{
				MissingPaymentMethod: stripe.String("pause")}}
		})
		b.advance(clock.ID, jan11y24+day)
		sub = b.subscription(sub.ID)
		require.Equal(t, stripe.SubscriptionStatusPaused, sub.Status)
		pm, err := b.sc.V1PaymentMethods.Attach(ctx, "pm_card_visa", &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
		require.NoError(t, err)
		_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
			InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(pm.ID)}})
		require.NoError(t, err)
		return clock, cust, sub
	}

	t.Run("a new cycle now", func(t *testing.T) {
		clock, _, sub := paused()
		n := len(b.events(nil))
		resumed, err := b.sc.V1Subscriptions.Resume(ctx, sub.ID, nil)
		require.NoError(t, err)
		now := jan11y24 + day
		assert.Equal(t, stripe.SubscriptionStatusActive, resumed.Status)
		assert.Equal(t, now, resumed.BillingCycleAnchor)
		assert.Equal(t, now, resumed.Items.Data[0].CurrentPeriodStart)
		assert.Equal(t, now+31*day, resumed.Items.Data[0].CurrentPeriodEnd)
		inv := b.invoice(resumed.LatestInvoice.ID)
		assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
		assert.Equal(t, int64(3000), inv.AmountPaid)
		assert.Equal(t, []line{{Desc: "1 × Plan (at $30.00 / month)", Amount: 3000, Start: now, End: now + 31*day}},
			invoiceLines(t, inv))
		var types []string
		for _, ev := range b.events(nil)[n:] {
			types = append(types, string(ev.Type))
		}
		assert.Contains(t, types, "customer.subscription.resumed")
		assert.Equal(t, "customer.subscription.resumed", types[len(types)-1])
		assert.Equal(t, "customer.subscription.updated", types[len(types)-2])
		// It renews a month later.
		b.advance(clock.ID, now+31*day+hour)
		assert.Equal(t, int64(3000), b.latestInvoice(sub.ID).AmountPaid)

		// Resuming again is refused: it is not paused.
		_, err = b.sc.V1Subscriptions.Resume(ctx, sub.ID, nil)
		var se *stripe.Error
		require.ErrorAs(t, err, &se)
		assert.Equal(t, "Only a paused subscription can be resumed; this subscription's status is `active`.", se.Msg)
	})

	t.Run("the old cycle, prorated", func(t *testing.T) {
		// Paused at the trial's end on 11 January; resumed on the 12th in
		// the cycle anchored on the 11th: 30 of its 31 days are left.
		_, cust, sub := paused()
		now := jan11y24 + day
		resumed, err := b.sc.V1Subscriptions.Resume(ctx, sub.ID, &stripe.SubscriptionResumeParams{
			BillingCycleAnchor: stripe.String("unchanged")})
		require.NoError(t, err)
		assert.Equal(t, stripe.SubscriptionStatusActive, resumed.Status)
		assert.Equal(t, jan11y24, resumed.BillingCycleAnchor)
		assert.Equal(t, jan11y24, resumed.Items.Data[0].CurrentPeriodStart)
		assert.Equal(t, feb11y24, resumed.Items.Data[0].CurrentPeriodEnd)
		require.Equal(t, int64(2903), prorated(3000, jan11y24, feb11y24, now))
		assert.Equal(t, []line{{Desc: "Remaining time on 1 × Plan after 12 Jan 2024", Amount: 2903, Start: now, End: feb11y24,
			Proration: true}}, itemLines(b.pendingItems(cust.ID)))
	})

	t.Run("the old cycle, invoiced at once", func(t *testing.T) {
		_, _, sub := paused()
		resumed, err := b.sc.V1Subscriptions.Resume(ctx, sub.ID, &stripe.SubscriptionResumeParams{
			BillingCycleAnchor: stripe.String("unchanged"), ProrationBehavior: stripe.String("always_invoice")})
		require.NoError(t, err)
		inv := b.invoice(resumed.LatestInvoice.ID)
		assert.Equal(t, int64(2903), inv.AmountPaid)
		assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, inv.BillingReason)
	})
}

// TestBillingCycleAnchorNow resets a monthly subscription's cycle ten days
// in: the 21 unused days are credited and a new month is invoiced at once.
func TestBillingCycleAnchorNow(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	price := b.price("Plan", 3000, stripe.PriceRecurringIntervalMonth)
	require.Equal(t, int64(2032), prorated(3000, jan01y24, feb01y24, jan11y24))

	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	b.advance(clock.ID, jan11y24)
	sub, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{BillingCycleAnchorNow: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, jan11y24, sub.BillingCycleAnchor)
	assert.Equal(t, jan11y24, sub.Items.Data[0].CurrentPeriodStart)
	assert.Equal(t, feb11y24, sub.Items.Data[0].CurrentPeriodEnd)
	inv := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, inv.BillingReason)
	assert.Equal(t, []line{
		{Desc: "Unused time on 1 × Plan after 11 Jan 2024", Amount: -2032, Start: jan11y24, End: feb01y24, Proration: true},
		{Desc: "1 × Plan (at $30.00 / month)", Amount: 3000, Start: jan11y24, End: feb11y24},
	}, invoiceLines(t, inv))
	assert.Equal(t, int64(968), inv.AmountPaid)
	assert.Empty(t, b.pendingItems(cust.ID))

	// The cycle is the new one: nothing on 1 February, a renewal on the 11th.
	b.advance(clock.ID, feb01y24+2*hour)
	assert.Equal(t, inv.ID, b.latestInvoice(sub.ID).ID)
	b.advance(clock.ID, feb11y24+hour)
	assert.Equal(t, int64(3000), b.latestInvoice(sub.ID).AmountPaid)

	// Without prorations nothing is credited; unchanged changes nothing.
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{BillingCycleAnchorUnchanged: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, jan11y24, sub.BillingCycleAnchor)
	b.advance(clock.ID, feb11y24+5*day)
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{BillingCycleAnchorNow: stripe.Bool(true),
		ProrationBehavior: stripe.String("none")})
	require.NoError(t, err)
	inv = b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, []line{{Desc: "1 × Plan (at $30.00 / month)", Amount: 3000, Start: feb11y24 + 5*day, End: mar01y24 + 15*day}},
		invoiceLines(t, inv))
}

// TestSubscriptionCreateOptions creates a subscription with an inline
// price, one-time items, its currency, description, payment settings and
// a billing cycle anchor configuration, and checks each shows and bills as
// Stripe does.
func TestSubscriptionCreateOptions(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	seat := b.price("Seat", 3000, stripe.PriceRecurringIntervalMonth)
	setup := b.price("Setup", 5000, "")
	const jan15noon int64 = 1705320000 // 2024-01-15 12:00:00 UTC
	// The first period, 1 January to the anchor, is 14.5 days of the
	// 31-day month that ends there.
	require.Equal(t, int64(2339), prorated(5000, jan15noon-31*day, jan15noon, jan01y24))

	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{
		Customer: stripe.String(cust.ID),
		Currency: stripe.String("usd"),
		Items: []*stripe.SubscriptionCreateItemParams{{Quantity: stripe.Int64(2), PriceData: &stripe.SubscriptionCreateItemPriceDataParams{
			Currency: stripe.String("usd"), Product: stripe.String(seat.Product.ID), UnitAmount: stripe.Int64(2500),
			Recurring: &stripe.SubscriptionCreateItemPriceDataRecurringParams{Interval: stripe.String("month")}}}},
		AddInvoiceItems: []*stripe.SubscriptionCreateAddInvoiceItemParams{
			{Price: stripe.String(setup.ID)},
			{Quantity: stripe.Int64(3), PriceData: &stripe.InvoiceItemPriceDataParams{Currency: stripe.String("usd"),
				Product: stripe.String(setup.Product.ID), UnitAmount: stripe.Int64(700)}},
		},
		Description: stripe.String("Team plan"),
		OffSession:  stripe.Bool(true),
		PaymentSettings: &stripe.SubscriptionCreatePaymentSettingsParams{
			PaymentMethodTypes:       stripe.StringSlice([]string{"card"}),
			SaveDefaultPaymentMethod: stripe.String("on_subscription"),
			PaymentMethodOptions: &stripe.SubscriptionCreatePaymentSettingsPaymentMethodOptionsParams{
				Card: &stripe.SubscriptionCreatePaymentSettingsPaymentMethodOptionsCardParams{RequestThreeDSecure: stripe.String("any")}},
		},
		BillingCycleAnchorConfig: &stripe.SubscriptionCreateBillingCycleAnchorConfigParams{DayOfMonth: stripe.Int64(15), Hour: stripe.Int64(12)},
	})
	require.NoError(t, err)
	assert.Equal(t, stripe.Currency("usd"), sub.Currency)
	assert.Equal(t, "Team plan", sub.Description)
	assert.Equal(t, jan15noon, sub.BillingCycleAnchor)
	require.NotNil(t, sub.BillingCycleAnchorConfig)
	assert.Equal(t, stripe.SubscriptionBillingCycleAnchorConfig{DayOfMonth: 15, Hour: 12}, *sub.BillingCycleAnchorConfig)
	require.NotNil(t, sub.PaymentSettings)
	assert.Equal(t, []stripe.SubscriptionPaymentSettingsPaymentMethodType{"card"}, sub.PaymentSettings.PaymentMethodTypes)
	assert.Equal(t, stripe.SubscriptionPaymentSettingsSaveDefaultPaymentMethodOnSubscription, sub.PaymentSettings.SaveDefaultPaymentMethod)
	require.NotNil(t, sub.PaymentSettings.PaymentMethodOptions)
	require.NotNil(t, sub.PaymentSettings.PaymentMethodOptions.Card)
	assert.Equal(t, stripe.SubscriptionPaymentSettingsPaymentMethodOptionsCardRequestThreeDSecureAny,
		sub.PaymentSettings.PaymentMethodOptions.Card.RequestThreeDSecure)

	inline := sub.Items.Data[0].Price
	assert.NotEqual(t, seat.ID, inline.ID)
	assert.Equal(t, int64(2500), inline.UnitAmount)
	assert.Equal(t, seat.Product.ID, inline.Product.ID)
	assert.False(t, inline.Active, "an inline price is not for sale")
	got, err := b.sc.V1Prices.Retrieve(ctx, inline.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PriceRecurringIntervalMonth, got.Recurring.Interval)

	inv := b.invoice(sub.LatestInvoice.ID)
	type bill struct {
		Desc   string
		Amount int64
	}
	var bills []bill
	for _, l := range inv.Lines.Data {
		bills = append(bills, bill{l.Description, l.Amount})
	}
	assert.Equal(t, []bill{{"Setup", 5000}, {"Setup", 2100}, {"Remaining time on 2 × Seat after 01 Jan 2024", 2339}}, bills)
	assert.Equal(t, int64(9439), inv.AmountPaid)
	assert.Empty(t, b.pendingItems(cust.ID))

	// The description is cleared, the payment settings changed in part.
	p := &stripe.SubscriptionUpdateParams{PaymentSettings: &stripe.SubscriptionUpdatePaymentSettingsParams{
		SaveDefaultPaymentMethod: stripe.String("off")}}
	p.AddUnsetField(stripe.SubscriptionUpdateParamsUnsetFieldDescription)
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, p)
	require.NoError(t, err)
	assert.Equal(t, "", sub.Description)
	assert.Equal(t, stripe.SubscriptionPaymentSettingsSaveDefaultPaymentMethodOff, sub.PaymentSettings.SaveDefaultPaymentMethod)
	assert.Equal(t, []stripe.SubscriptionPaymentSettingsPaymentMethodType{"card"}, sub.PaymentSettings.PaymentMethodTypes)

	// A one-time item added by an update waits for the next invoice.
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		AddInvoiceItems: []*stripe.SubscriptionUpdateAddInvoiceItemParams{{Price: stripe.String(setup.ID)}}})
	require.NoError(t, err)
	pending := b.pendingItems(cust.ID)
	require.Len(t, pending, 1)
	assert.Equal(t, int64(5000), pending[0].Amount)
	b.advance(clock.ID, jan15noon+hour)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, int64(5000+5000), renewal.AmountPaid)

	for _, tc := range []struct {
		body, param, message string
	}{
		{"currency=eur&items[0][price]=" + seat.ID, "items[0][price]",
			"The price specified (" + seat.ID + ") has currency usd, which does not match the subscription's currency eur."},
		{"items[0][price]=" + seat.ID + "&add_invoice_items[0][price]=" + seat.ID, "add_invoice_items[0][price]",
			"The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`."},
		{"items[0][price]=" + seat.ID + "&billing_cycle_anchor=1904067200&billing_cycle_anchor_config[day_of_month]=3", "",
			"You may only specify one of these parameters: billing_cycle_anchor, billing_cycle_anchor_config."},
		{"items[0][price_data][currency]=usd&items[0][price_data][product]=" + seat.Product.ID + "&items[0][price_data][unit_amount]=5",
			"items[0][price_data][recurring]", "Missing required param: items[0][price_data][recurring]."},
		{"items[0][price]=" + seat.ID + "&payment_settings[payment_method_options][us_bank_account][verification_method]=instant",
			"payment_settings[payment_method_options][us_bank_account]",
			"billclock collects card payments only: payment_settings[payment_method_options][us_bank_account] cannot be set."},
		{"items[0][price]=" + seat.ID + "&billing_cycle_anchor_config[day_of_month]=32", "billing_cycle_anchor_config[day_of_month]",
			"This value must be less than or equal to 31 (it currently is '32')."},
	} {
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Key: testKey, Body: "customer=" + cust.ID + "&" + tc.body})
		ae := r.apiError(t, http.StatusBadRequest)
		assert.Equal(t, tc.param, ae.Param, tc.body)
		assert.Equal(t, tc.message, ae.Message, tc.body)
	}
}

// TestSubscriptionUpdateChecks covers what updates already took: a
// cancel_at set and cleared, an item deleted, clear_usage accepted, and
// mixed intervals refused with billclock's clear error.
func TestSubscriptionUpdateChecks(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	monthly := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	extra := b.price("Extra", 500, stripe.PriceRecurringIntervalMonth)
	yearly := b.price("Yearly", 9000, stripe.PriceRecurringIntervalYear)
	clock := b.clockAt(jan01y24)
	cust := b.customer(clock.ID)
	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(monthly.ID)}, {Price: stripe.String(extra.ID)}}})
	require.NoError(t, err)

	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{CancelAt: stripe.Int64(mar01y24)})
	require.NoError(t, err)
	assert.Equal(t, mar01y24, sub.CancelAt)
	assert.Equal(t, stripe.SubscriptionCancellationDetailsReasonCancellationRequested, sub.CancellationDetails.Reason)
	p := &stripe.SubscriptionUpdateParams{}
	p.AddUnsetField(stripe.SubscriptionUpdateParamsUnsetFieldCancelAt)
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, p)
	require.NoError(t, err)
	assert.Equal(t, int64(0), sub.CancelAt)
	assert.Equal(t, stripe.SubscriptionCancellationDetailsReason(""), sub.CancellationDetails.Reason)

	b.advance(clock.ID, jan11y24)
	sub, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{Items: []*stripe.SubscriptionUpdateItemParams{
		{ID: stripe.String(sub.Items.Data[1].ID), Deleted: stripe.Bool(true), ClearUsage: stripe.Bool(true)}}})
	require.NoError(t, err)
	require.Len(t, sub.Items.Data, 1)
	assert.Equal(t, monthly.ID, sub.Items.Data[0].Price.ID)
	require.Equal(t, int64(-339), -prorated(500, jan01y24, feb01y24, jan11y24))
	assert.Equal(t, []line{{Desc: "Unused time on 1 × Extra after 11 Jan 2024", Amount: -339, Start: jan11y24, End: feb01y24, Proration: true}},
		itemLines(b.pendingItems(cust.ID)))

	// The subscription still ends on 1 March: the cleared cancel_at is gone.
	b.advance(clock.ID, mar01y24+2*hour)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)

	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{Items: []*stripe.SubscriptionUpdateItemParams{
		{Price: stripe.String(yearly.ID)}}})
	var se *stripe.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "The price specified ("+yearly.ID+") is billed every year, but the subscription's other prices are billed every month. "+
		"billclock does not support mixing or changing billing intervals in a subscription.", se.Msg)
}
