package emulator_test

// End-to-end tests of payments that fail: renewals declined on the clock
// and retried to each final action, recovery, payment_behavior,
// incomplete_expired, cards that need authentication, customers with
// nothing to charge, credit balances, short trials and free first periods.
// Cards are Stripe's test payment method ids set as the customer's (or the
// subscription's) default; every response is checked against the spec.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/billing"
)

const (
	day        int64 = 86400
	dunStart   int64 = 1735689600 // 2025-01-01 00:00:00 UTC
	dunRenewal int64 = 1738368000 // 2025-02-01 00:00:00 UTC: the first monthly renewal
	dunAttempt       = dunRenewal + hour
)

// startDunning starts a server for dunning scenarios; policy, if not nil,
// is the test account's dunning policy, set through the settings control
// route as a user would.
func startDunning(t *testing.T, policy *billing.DunningPolicy) *billingEnv {
	t.Helper()
	b := startBilling(t, emulator.Config{NoSync: true})
	if policy == nil {
		return b
	}
	want := settings{Object: "billclock.settings", RetryDays: []int64{}, SubscriptionAction: string(policy.SubscriptionAction),
		InvoiceAction: string(policy.InvoiceAction), UpcomingInvoiceDays: 3}
	var days []string
	prev := int64(0)
	for _, at := range policy.RetryAfter {
		want.RetryDays = append(want.RetryDays, (at-prev)/day)
		days = append(days, strconv.FormatInt((at-prev)/day, 10))
		prev = at
	}
	form := url.Values{"retry_days": {strings.Join(days, ",")}, "subscription_action": {want.SubscriptionAction},
		"invoice_action": {want.InvoiceAction}}
	got := decodeSettings(t, b.as(t, testKey, http.MethodPost, "/_billclock/settings", form.Encode(), nil))
	require.Equal(t, want, got)
	return b
}

// retries is a policy retrying after the given days (counted from the
// first failure), then applying the final actions.
func retries(sub billing.SubscriptionFinalAction, inv billing.InvoiceFinalAction, days ...int64) *billing.DunningPolicy {
	p := &billing.DunningPolicy{SubscriptionAction: sub, InvoiceAction: inv}
	for _, d := range days {
		p.RetryAfter = append(p.RetryAfter, d*day)
	}
	return p
}

// customerWith creates a customer on clock paying with pm ("" for none).
func (b *billingEnv) customerWith(clock, pm string) *stripe.Customer {
	b.t.Helper()
	p := &stripe.CustomerCreateParams{Email: stripe.String("dunning@example.com"), TestClock: stripe.String(clock)}
	if pm != "" {
		p.PaymentMethod = stripe.String(pm)
	}
	c, err := b.sc.V1Customers.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return c
}

// useCard makes pm the customer's default payment method ("" clears it).
func (b *billingEnv) useCard(customer, pm string) {
	b.t.Helper()
	_, err := b.sc.V1Customers.Update(b.t.Context(), customer, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(pm)}})
	require.NoError(b.t, err)
}

// invoiceWithPayments retrieves an invoice with its payments expanded.
func (b *billingEnv) invoiceWithPayments(id string) *stripe.Invoice {
	b.t.Helper()
	p := &stripe.InvoiceRetrieveParams{}
	p.AddExpand("payments")
	inv, err := b.sc.V1Invoices.Retrieve(b.t.Context(), id, p)
	require.NoError(b.t, err)
	return inv
}

// paymentIntentOf is the invoice's PaymentIntent, from its default invoice
// payment with the PaymentIntent expanded.
func (b *billingEnv) paymentIntentOf(invoice string) *stripe.PaymentIntent {
	b.t.Helper()
	var out []*stripe.InvoicePayment
	p := &stripe.InvoicePaymentListParams{Invoice: stripe.String(invoice)}
	p.AddExpand("data.payment.payment_intent")
	for ip, err := range b.sc.V1InvoicePayments.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, ip)
	}
	require.Len(b.t, out, 1, "one default invoice payment")
	require.NotNil(b.t, out[0].Payment.PaymentIntent)
	return out[0].Payment.PaymentIntent
}

// eventsAfter returns the events recorded after the first n, oldest first.
func (b *billingEnv) eventsAfter(n int) []*stripe.Event {
	b.t.Helper()
	evs := b.events(nil)
	require.GreaterOrEqual(b.t, len(evs), n)
	return evs[n:]
}

// billingTypes are the types of evs, without the clock's own events.
func billingTypes(evs []*stripe.Event) []string {
	var out []string
	for _, ev := range evs {
		switch ev.Type {
		case "test_helpers.test_clock.advancing", "test_helpers.test_clock.ready":
			continue
		}
		out = append(out, string(ev.Type))
	}
	return out
}

// failingRenewal sets up a monthly 1200 subscription paid with a good card
// at dunStart, then makes the customer's card one that declines every
// charge. It returns the subscription.
func (b *billingEnv) failingRenewal(card string) (*stripe.TestHelpersTestClock, *stripe.Customer, *stripe.Subscription) {
	b.t.Helper()
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_visa")
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	require.Equal(b.t, stripe.SubscriptionStatusActive, sub.Status)
	b.useCard(cust.ID, card)
	return clock, cust, sub
}

// A renewal declined at every attempt, walked through Stripe's default
// schedule on the clock: attempts at the renewal, then 1, 3, 5, 7, 9, 11
// and 14 days after the first failure; then the subscription is canceled
// (payment_failed) and the invoice left open.
func TestDunningDefaultScheduleToCancel(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
	before := len(b.events(nil))
	b.advance(clock.ID, dunAttempt)

	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, renewal.Status)
	assert.True(t, renewal.Attempted)
	assert.EqualValues(t, 1, renewal.AttemptCount)
	assert.Equal(t, dunAttempt+day, renewal.NextPaymentAttempt)
	assert.EqualValues(t, 1200, renewal.AmountDue)
	assert.EqualValues(t, 0, renewal.AmountPaid)
	assert.EqualValues(t, 1200, renewal.AmountRemaining)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)

	// Stripe's order for a failed renewal (shared/reference/stripe.md).
	evs := b.eventsAfter(before)
	// invoice.upcoming came three days before the renewal.
	assert.Equal(t, []string{"invoice.upcoming", "customer.subscription.updated", "invoice.created", "invoice.finalized",
		"payment_intent.created", "charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
		"invoice.updated", "customer.subscription.updated"}, billingTypes(evs))
	last := evs[len(evs)-2]
	require.Equal(t, stripe.EventType("customer.subscription.updated"), last.Type)
	assert.Equal(t, "past_due", last.Data.Object["status"])
	assert.Equal(t, "active", last.Data.PreviousAttributes["status"])
	for _, ev := range evs {
		switch ev.Type {
		case "charge.failed":
			assert.Equal(t, "failed", ev.Data.Object["status"])
			assert.Equal(t, "card_declined", ev.Data.Object["failure_code"])
			assert.Equal(t, "Your card was declined.", ev.Data.Object["failure_message"])
		case "invoice.updated":
			assert.Equal(t, false, ev.Data.PreviousAttributes["attempted"])
			assert.EqualValues(t, 0, ev.Data.PreviousAttributes["attempt_count"])
		}
	}
	pi := b.paymentIntentOf(renewal.ID)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, pi.Status)
	require.NotNil(t, pi.LastPaymentError)
	assert.Equal(t, stripe.ErrorCodeCardDeclined, pi.LastPaymentError.Code)
	assert.Equal(t, stripe.DeclineCode("generic_decline"), pi.LastPaymentError.DeclineCode)
	assert.EqualValues(t, 1200, pi.Amount)

	// Each retry on its day, in time order with everything else.
	first := dunAttempt
	for i, offset := range []int64{1, 3, 5, 7, 9, 11, 14} {
		before := len(b.events(nil))
		b.advance(clock.ID, first+offset*day)
		inv := b.invoice(renewal.ID)
		assert.EqualValues(t, i+2, inv.AttemptCount, "attempt on day %d", offset)
		evs := billingTypes(b.eventsAfter(before))
		if offset < 14 {
			assert.Equal(t, []string{"charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
				"invoice.updated"}, evs, "retry on day %d", offset)
			next := []int64{3, 5, 7, 9, 11, 14}[i]
			assert.Equal(t, first+next*day, inv.NextPaymentAttempt)
			assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
			continue
		}
		// The last one: canceled, the invoice left open.
		assert.Equal(t, []string{"charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
			"invoice.updated", "customer.subscription.deleted"}, evs)
		assert.Zero(t, inv.NextPaymentAttempt)
		assert.Equal(t, stripe.InvoiceStatusOpen, inv.Status)
		assert.False(t, inv.AutoAdvance, "canceling stops the invoice's automatic collection")
		got := b.subscription(sub.ID)
		assert.Equal(t, stripe.SubscriptionStatusCanceled, got.Status)
		require.NotNil(t, got.CancellationDetails)
		assert.Equal(t, stripe.SubscriptionCancellationDetailsReasonPaymentFailed, got.CancellationDetails.Reason)
		assert.Equal(t, first+14*day, got.EndedAt)
	}
	// Nothing more happens to it.
	before = len(b.events(nil))
	b.advance(clock.ID, first+40*day)
	assert.Empty(t, billingTypes(b.eventsAfter(before)))
}

// The other final actions, on a short schedule: the subscription marked
// unpaid or left past_due, the invoice left open or marked uncollectible.
func TestDunningFinalActions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		sub        billing.SubscriptionFinalAction
		inv        billing.InvoiceFinalAction
		subStatus  stripe.SubscriptionStatus
		invStatus  stripe.InvoiceStatus
		lastEvents []string
	}{
		{"unpaid, uncollectible", billing.FinalUnpaid, billing.InvoiceMarkUncollectible, stripe.SubscriptionStatusUnpaid,
			stripe.InvoiceStatusUncollectible, []string{"charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
				"invoice.marked_uncollectible", "invoice.updated", "customer.subscription.updated"}},
		{"past_due, left open", billing.FinalPastDue, billing.InvoiceLeaveOpen, stripe.SubscriptionStatusPastDue,
			stripe.InvoiceStatusOpen, []string{"charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
				"invoice.updated"}},
		{"canceled, uncollectible", billing.FinalCancel, billing.InvoiceMarkUncollectible, stripe.SubscriptionStatusCanceled,
			stripe.InvoiceStatusUncollectible, []string{"charge.failed", "payment_intent.payment_failed", "invoice.payment_failed",
				"invoice.marked_uncollectible", "invoice.updated", "customer.subscription.deleted"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := startDunning(t, retries(tc.sub, tc.inv, 2))
			clock, cust, sub := b.failingRenewal("pm_card_chargeCustomerFail")
			b.advance(clock.ID, dunAttempt+day)
			assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
			renewal := b.latestInvoice(sub.ID)
			assert.Equal(t, dunAttempt+2*day, renewal.NextPaymentAttempt)

			before := len(b.events(nil))
			b.advance(clock.ID, dunAttempt+2*day)
			assert.Equal(t, tc.lastEvents, billingTypes(b.eventsAfter(before)))
			got := b.subscription(sub.ID)
			assert.Equal(t, tc.subStatus, got.Status)
			inv := b.invoice(renewal.ID)
			assert.Equal(t, tc.invStatus, inv.Status)
			assert.EqualValues(t, 2, inv.AttemptCount)
			assert.Zero(t, inv.NextPaymentAttempt)
			if tc.invStatus == stripe.InvoiceStatusUncollectible {
				require.NotNil(t, inv.StatusTransitions)
				assert.Equal(t, dunAttempt+2*day, inv.StatusTransitions.MarkedUncollectibleAt)
			}
			if tc.sub != billing.FinalUnpaid {
				return
			}
			// An unpaid subscription's next invoice is made and finalized,
			// never attempted; paying it makes the subscription active.
			b.advance(clock.ID, dunRenewal+28*day+2*hour) // 2025-03-01 02:00
			next := b.latestInvoice(sub.ID)
			require.NotEqual(t, renewal.ID, next.ID)
			assert.Equal(t, stripe.InvoiceStatusOpen, next.Status)
			assert.False(t, next.Attempted)
			assert.Zero(t, next.NextPaymentAttempt)
			assert.Equal(t, stripe.SubscriptionStatusUnpaid, b.subscription(sub.ID).Status)
			b.useCard(cust.ID, "pm_card_visa")
			paid, err := b.sc.V1Invoices.Pay(t.Context(), next.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
			assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
		})
	}
}

// Recovery by paying the invoice: with a payment_method that declines (402
// with the decline, which does not count as a retry), then with one that
// works; and with the defaults, where the subscription's payment method
// comes before the customer's.
func TestDunningRecoveryByPay(t *testing.T) {
	t.Parallel()
	t.Run("payment_method", func(t *testing.T) {
		t.Parallel()
		b := startDunning(t, nil)
		clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
		b.advance(clock.ID, dunAttempt+hour)
		renewal := b.latestInvoice(sub.ID)
		require.EqualValues(t, 1, renewal.AttemptCount)

		_, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, &stripe.InvoicePayParams{
			PaymentMethod: stripe.String("pm_card_visa_chargeDeclinedInsufficientFunds")})
		se := stripeError(t, err, http.StatusPaymentRequired)
		assert.Equal(t, stripe.ErrorTypeCard, se.Type)
		assert.Equal(t, stripe.ErrorCodeCardDeclined, se.Code)
		assert.Equal(t, stripe.DeclineCode("insufficient_funds"), se.DeclineCode)
		assert.Equal(t, "Your card has insufficient funds.", se.Msg)
		assert.NotEmpty(t, se.ChargeID)
		require.NotNil(t, se.PaymentIntent)
		assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
		require.NotNil(t, se.PaymentMethod)
		assert.Equal(t, "9995", se.PaymentMethod.Card.Last4)
		inv := b.invoice(renewal.ID)
		assert.EqualValues(t, 1, inv.AttemptCount, "a manual attempt is not a retry")
		assert.Equal(t, renewal.NextPaymentAttempt, inv.NextPaymentAttempt, "nor does it move the schedule")
		assert.Equal(t, stripe.InvoiceStatusOpen, inv.Status)

		before := len(b.events(nil))
		paid, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, &stripe.InvoicePayParams{PaymentMethod: stripe.String("pm_card_visa")})
		require.NoError(t, err)
		assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
		assert.EqualValues(t, 1200, paid.AmountPaid)
		assert.EqualValues(t, 0, paid.AmountRemaining)
		assert.EqualValues(t, 1, paid.AttemptCount)
		assert.Zero(t, paid.NextPaymentAttempt)
		assert.Equal(t, []string{"charge.succeeded", "payment_intent.succeeded", "invoice.paid",
			"invoice.payment_succeeded", "invoice_payment.paid", "customer.subscription.updated"}, billingTypes(b.eventsAfter(before)))
		assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
		pi := b.paymentIntentOf(renewal.ID)
		assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
		assert.EqualValues(t, 1200, pi.AmountReceived)

		// The retry that was due finds it paid.
		before = len(b.events(nil))
		b.advance(clock.ID, dunAttempt+2*day)
		assert.Empty(t, billingTypes(b.eventsAfter(before)))
		assert.EqualValues(t, 1, b.invoice(renewal.ID).AttemptCount)
	})
	t.Run("paid_out_of_band", func(t *testing.T) {
		t.Parallel()
		b := startDunning(t, nil)
		clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
		b.advance(clock.ID, dunAttempt)
		renewal := b.latestInvoice(sub.ID)
		before := len(b.events(nil))
		paid, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, &stripe.InvoicePayParams{PaidOutOfBand: stripe.Bool(true)})
		require.NoError(t, err)
		assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
		assert.EqualValues(t, 1200, paid.AmountPaid)
		assert.EqualValues(t, 1200, rawJSON(t, paid.LastResponse)["amount_paid_off_stripe"])
		assert.Equal(t, []string{"payment_intent.canceled", "invoice.paid", "customer.subscription.updated"},
			billingTypes(b.eventsAfter(before)), "nothing is charged")
		assert.Equal(t, stripe.PaymentIntentStatusCanceled, b.paymentIntentOf(renewal.ID).Status)
		assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		b := startDunning(t, nil)
		clock, cust, sub := b.failingRenewal("pm_card_chargeCustomerFail")
		b.advance(clock.ID, dunAttempt)
		renewal := b.latestInvoice(sub.ID)
		// The customer's default declines.
		_, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, nil)
		se := stripeError(t, err, http.StatusPaymentRequired)
		assert.Equal(t, stripe.DeclineCode("generic_decline"), se.DeclineCode)
		// The subscription's default comes first.
		updated, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
			DefaultPaymentMethod: stripe.String("pm_card_mastercard")})
		require.NoError(t, err)
		require.NotNil(t, updated.DefaultPaymentMethod)
		// As at Stripe, the test id stands for a new card attached to the
		// customer: the subscription keeps that card's own id.
		mastercard, err := b.sc.V1PaymentMethods.Retrieve(t.Context(), updated.DefaultPaymentMethod.ID, nil)
		require.NoError(t, err)
		assert.Regexp(t, `^pm_`, mastercard.ID)
		assert.NotEqual(t, "pm_card_mastercard", mastercard.ID)
		require.NotNil(t, mastercard.Customer)
		assert.Equal(t, cust.ID, mastercard.Customer.ID)
		require.NotNil(t, mastercard.Card)
		assert.Equal(t, stripe.PaymentMethodCardBrand("mastercard"), mastercard.Card.Brand)
		assert.Equal(t, "4444", mastercard.Card.Last4)
		paid, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
		assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
		pi := b.paymentIntentOf(renewal.ID)
		require.NotNil(t, pi.PaymentMethod)
		assert.Equal(t, mastercard.ID, pi.PaymentMethod.ID, "paid with the subscription's card")

		// expand[]=default_payment_method shows the card.
		p := &stripe.SubscriptionRetrieveParams{}
		p.AddExpand("default_payment_method")
		got, err := b.sc.V1Subscriptions.Retrieve(t.Context(), sub.ID, p)
		require.NoError(t, err)
		require.NotNil(t, got.DefaultPaymentMethod.Card)
		assert.Equal(t, "4444", got.DefaultPaymentMethod.Card.Last4)
		assert.Equal(t, stripe.PaymentMethodCardBrand("mastercard"), got.DefaultPaymentMethod.Card.Brand)
	})
}

// Recovery by a new default payment method: the next scheduled retry uses
// it.
func TestDunningRecoveryByNewDefaultPaymentMethod(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, cust, sub := b.failingRenewal("pm_card_chargeCustomerFail")
	b.advance(clock.ID, dunAttempt+2*day) // two attempts failed
	renewal := b.latestInvoice(sub.ID)
	require.EqualValues(t, 2, renewal.AttemptCount)
	require.Equal(t, dunAttempt+3*day, renewal.NextPaymentAttempt)

	b.useCard(cust.ID, "pm_card_visa")
	before := len(b.events(nil))
	b.advance(clock.ID, dunAttempt+3*day)
	evs := b.eventsAfter(before)
	assert.Equal(t, []string{"charge.succeeded", "payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded",
		"invoice_payment.paid", "customer.subscription.updated"}, billingTypes(evs))
	for _, ev := range evs {
		assert.True(t, ev.Type == "test_helpers.test_clock.advancing" || ev.Type == "test_helpers.test_clock.ready" ||
			ev.Created == dunAttempt+3*day, "%s at the retry's time", ev.Type)
	}
	inv := b.invoice(renewal.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.EqualValues(t, 3, inv.AttemptCount)
	assert.Equal(t, dunAttempt+3*day, inv.StatusTransitions.PaidAt)
	got := b.subscription(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, got.Status)
	last := evs[len(evs)-2]
	assert.Equal(t, "past_due", last.Data.PreviousAttributes["status"])
}

// A detached card is never charged again, even as a subscription's
// default: the renewal falls back to the customer's default, here one
// that declines.
func TestDunningDetachedDefaultIsNotCharged(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_chargeCustomerFail")
	sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.DefaultPaymentMethod = stripe.String("pm_card_visa")
	})
	require.Equal(t, stripe.SubscriptionStatusActive, sub.Status, "the first invoice is paid with the subscription's card")
	require.NotNil(t, sub.DefaultPaymentMethod)
	visa := sub.DefaultPaymentMethod.ID
	_, err := b.sc.V1PaymentMethods.Detach(t.Context(), visa, nil)
	require.NoError(t, err)

	b.advance(clock.ID, dunAttempt)
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, renewal.Status)
	assert.EqualValues(t, 1, renewal.AttemptCount)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
	pi := b.paymentIntentOf(renewal.ID)
	require.NotNil(t, pi.PaymentMethod)
	assert.NotEqual(t, visa, pi.PaymentMethod.ID, "the detached card was charged")
	assert.Equal(t, b.customerGet(cust.ID).InvoiceSettings.DefaultPaymentMethod.ID, pi.PaymentMethod.ID)
}

// payment_behavior on create: allow_incomplete (the default) creates the
// subscription incomplete; error_if_incomplete answers 402 and leaves
// nothing behind; default_incomplete does not attempt the payment. Paying
// the first invoice activates the subscription; unpaid, it expires 23
// hours after creation with its invoice voided.
func TestPaymentBehaviorOnCreate(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	declining := b.customerWith(clock.ID, "pm_card_chargeCustomerFail")

	t.Run("error_if_incomplete", func(t *testing.T) {
		before := len(b.events(nil))
		_, err := b.sc.V1Subscriptions.Create(t.Context(), &stripe.SubscriptionCreateParams{Customer: stripe.String(declining.ID),
			Items:           []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}},
			PaymentBehavior: stripe.String("error_if_incomplete")})
		se := stripeError(t, err, http.StatusPaymentRequired)
		assert.Equal(t, stripe.ErrorTypeCard, se.Type)
		assert.Equal(t, stripe.ErrorCodeCardDeclined, se.Code)
		assert.Equal(t, "Your card was declined.", se.Msg)
		assert.Empty(t, b.eventsAfter(before), "nothing left behind")
		assert.Empty(t, b.invoices(&stripe.InvoiceListParams{Customer: stripe.String(declining.ID)}))
	})

	incomplete := b.subscribe(declining.ID, price.ID, 1, nil)
	assert.Equal(t, stripe.SubscriptionStatusIncomplete, incomplete.Status)
	first := b.latestInvoice(incomplete.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, first.Status)
	assert.EqualValues(t, 1, first.AttemptCount)
	assert.Zero(t, first.NextPaymentAttempt, "the first invoice of an incomplete subscription is not retried")

	good := b.customerWith(clock.ID, "pm_card_visa")
	waiting := b.subscribe(good.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.PaymentBehavior = stripe.String("default_incomplete")
	})
	assert.Equal(t, stripe.SubscriptionStatusIncomplete, waiting.Status)
	waitingInv := b.latestInvoice(waiting.ID)
	assert.Equal(t, stripe.InvoiceStatusOpen, waitingInv.Status)
	assert.False(t, waitingInv.Attempted)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, b.paymentIntentOf(waitingInv.ID).Status)

	// Paying activates it.
	b.advance(clock.ID, dunStart+2*hour)
	_, err := b.sc.V1Invoices.Pay(t.Context(), waitingInv.ID, nil)
	require.NoError(t, err)
	got := b.subscription(waiting.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, got.Status)

	// 23 hours after creation, the unpaid one expires.
	before := len(b.events(nil))
	b.advance(clock.ID, dunStart+23*hour)
	assert.Equal(t, []string{"invoice.voided", "invoice.updated", "payment_intent.canceled", "customer.subscription.deleted"},
		billingTypes(b.eventsAfter(before)))
	expired := b.subscription(incomplete.ID)
	assert.Equal(t, stripe.SubscriptionStatusIncompleteExpired, expired.Status)
	assert.Equal(t, dunStart+23*hour, expired.EndedAt)
	assert.Equal(t, stripe.InvoiceStatusVoid, b.invoice(first.ID).Status)
	assert.Equal(t, stripe.PaymentIntentStatusCanceled, b.paymentIntentOf(first.ID).Status)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(waiting.ID).Status, "a paid one does not expire")
	ended := b.subscriptionIDs(&stripe.SubscriptionListParams{Customer: stripe.String(declining.ID), Status: stripe.String("ended")})
	assert.Equal(t, []string{incomplete.ID}, ended, "an expired subscription has ended")

	// Its customer can be deleted like any other.
	_, err = b.sc.V1Customers.Delete(t.Context(), declining.ID, nil)
	require.NoError(t, err)

	// pending_if_incomplete is for updates only.
	_, err = b.sc.V1Subscriptions.Create(t.Context(), &stripe.SubscriptionCreateParams{Customer: stripe.String(good.ID),
		Items:           []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID)}},
		PaymentBehavior: stripe.String("pending_if_incomplete")})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "payment_behavior", se.Param)
}

// payment_behavior on update, with a proration invoiced at once:
// allow_incomplete leaves the subscription past_due; error_if_incomplete
// (and pending_if_incomplete) answer 402 and change nothing.
func TestPaymentBehaviorOnUpdate(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
	b.advance(clock.ID, dunStart+10*day)
	item := sub.Items.Data[0].ID
	for _, behavior := range []string{"error_if_incomplete", "pending_if_incomplete"} {
		before := len(b.events(nil))
		_, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
			Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(item), Quantity: stripe.Int64(3)}},
			ProrationBehavior: stripe.String("always_invoice"), PaymentBehavior: stripe.String(behavior)})
		se := stripeError(t, err, http.StatusPaymentRequired)
		assert.Equal(t, stripe.ErrorCodeCardDeclined, se.Code, behavior)
		assert.Empty(t, b.eventsAfter(before), behavior)
		got := b.subscription(sub.ID)
		assert.EqualValues(t, 1, got.Items.Data[0].Quantity, behavior)
		assert.Equal(t, stripe.SubscriptionStatusActive, got.Status, behavior)
	}
	updated, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
		Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(item), Quantity: stripe.Int64(3)}},
		ProrationBehavior: stripe.String("always_invoice")})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, updated.Status)
	inv := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionUpdate, inv.BillingReason)
	assert.Equal(t, stripe.InvoiceStatusOpen, inv.Status)
	assert.Equal(t, dunStart+11*day, inv.NextPaymentAttempt, "retried like a renewal")
}

// A card that needs authentication: off-session renewals end in
// requires_action, with invoice.payment_action_required and
// payment_intent.requires_action instead of the failure events, and no
// charge. Paying by hand answers Stripe's requires-action error.
func TestDunningAuthenticationRequired(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, _, sub := b.failingRenewal("pm_card_authenticationRequired")
	before := len(b.events(nil))
	b.advance(clock.ID, dunAttempt)
	assert.Equal(t, []string{"invoice.upcoming", "customer.subscription.updated", "invoice.created", "invoice.finalized",
		"payment_intent.created", "payment_intent.requires_action", "invoice.payment_action_required", "invoice.updated", "customer.subscription.updated"},
		billingTypes(b.eventsAfter(before)))
	renewal := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
	pi := b.paymentIntentOf(renewal.ID)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresAction, pi.Status)
	assert.Nil(t, pi.LatestCharge, "no charge")

	_, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, nil)
	se := stripeError(t, err, http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("invoice_payment_intent_requires_action"), se.Code)
	require.NotNil(t, se.PaymentIntent)
	assert.Equal(t, pi.ID, se.PaymentIntent.ID)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresAction, se.PaymentIntent.Status)
}

// A customer with no payment method is not charged: a new subscription is
// incomplete, a renewal fails without a charge, and paying by hand answers
// Stripe's 400.
func TestDunningNoPaymentMethod(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, cust, renewing := b.failingRenewal("")
	require.Nil(t, b.customerGet(cust.ID).InvoiceSettings.DefaultPaymentMethod)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	assert.Equal(t, stripe.SubscriptionStatusIncomplete, sub.Status, "a new subscription is not paid for")
	assert.EqualValues(t, 0, b.latestInvoice(sub.ID).AmountPaid)
	b.advance(clock.ID, dunStart+day)
	assert.Equal(t, stripe.SubscriptionStatusIncompleteExpired, b.subscription(sub.ID).Status)

	before := len(b.events(nil))
	b.advance(clock.ID, dunAttempt)
	assert.Equal(t, []string{"invoice.upcoming", "customer.subscription.updated", "invoice.created", "invoice.finalized",
		"payment_intent.created", "invoice.payment_failed", "invoice.updated", "customer.subscription.updated"}, billingTypes(b.eventsAfter(before)))
	renewal := b.latestInvoice(renewing.ID)
	assert.EqualValues(t, 1, renewal.AttemptCount)
	assert.Equal(t, dunAttempt+day, renewal.NextPaymentAttempt)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(renewing.ID).Status)

	_, err := b.sc.V1Invoices.Pay(t.Context(), renewal.ID, nil)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Contains(t, se.Msg, "This customer has no attached payment source or default payment method.")
}

// subscriptionIDs lists subscriptions, newest first.
func (b *billingEnv) subscriptionIDs(p *stripe.SubscriptionListParams) []string {
	b.t.Helper()
	var out []string
	for sub, err := range b.sc.V1Subscriptions.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, sub.ID)
	}
	return out
}

// customerGet retrieves a customer.
func (b *billingEnv) customerGet(id string) *stripe.Customer {
	b.t.Helper()
	c, err := b.sc.V1Customers.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return c
}

// A negative invoice total becomes customer credit, which later invoices
// consume (defect: it used to vanish).
func TestCreditBalance(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_visa")
	sub := b.subscribe(cust.ID, price.ID, 5, nil)

	// Mid-January, down from 5 seats to 1, invoiced at once.
	mid := dunStart + 15*day + 12*hour
	b.advance(clock.ID, mid)
	_, err := b.sc.V1Subscriptions.Update(t.Context(), sub.ID, &stripe.SubscriptionUpdateParams{
		Items:             []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(sub.Items.Data[0].ID), Quantity: stripe.Int64(1)}},
		ProrationBehavior: stripe.String("always_invoice")})
	require.NoError(t, err)
	credit := prorated(-5*1200, dunStart, dunRenewal, mid) + prorated(1200, dunStart, dunRenewal, mid)
	require.Negative(t, credit)
	down := b.latestInvoice(sub.ID)
	assert.Equal(t, credit, down.Total)
	assert.EqualValues(t, 0, down.AmountDue)
	assert.EqualValues(t, 0, down.StartingBalance)
	assert.Equal(t, credit, down.EndingBalance)
	assert.Equal(t, stripe.InvoiceStatusPaid, down.Status)
	assert.Equal(t, credit, b.customerGet(cust.ID).Balance)

	list := func() []*stripe.CustomerBalanceTransaction {
		var out []*stripe.CustomerBalanceTransaction
		for bt, err := range b.sc.V1CustomerBalanceTransactions.List(t.Context(),
			&stripe.CustomerBalanceTransactionListParams{Customer: stripe.String(cust.ID)}).All(t.Context()) {
			require.NoError(t, err)
			out = append(out, bt)
		}
		return out
	}
	txns := list()
	require.Len(t, txns, 1)
	assert.Equal(t, credit, txns[0].Amount)
	assert.Equal(t, credit, txns[0].EndingBalance)
	assert.Equal(t, stripe.CustomerBalanceTransactionTypeAppliedToInvoice, txns[0].Type)
	assert.Equal(t, down.ID, txns[0].Invoice.ID)
	got, err := b.sc.V1CustomerBalanceTransactions.Retrieve(t.Context(), txns[0].ID,
		&stripe.CustomerBalanceTransactionRetrieveParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.Equal(t, txns[0].ID, got.ID)

	// The February renewal (1200) is paid from the credit.
	b.advance(clock.ID, dunAttempt)
	feb := b.latestInvoice(sub.ID)
	assert.EqualValues(t, 1200, feb.Total)
	assert.Equal(t, credit, feb.StartingBalance)
	wantEnding := min(credit+1200, 0)
	assert.Equal(t, wantEnding, feb.EndingBalance)
	assert.Equal(t, 1200+credit-wantEnding, feb.AmountDue)
	assert.Equal(t, stripe.InvoiceStatusPaid, feb.Status)
	assert.Equal(t, wantEnding, b.customerGet(cust.ID).Balance)
	txns = list()
	require.Len(t, txns, 2)
	assert.Equal(t, feb.ID, txns[0].Invoice.ID, "newest first")
	assert.Equal(t, wantEnding-credit, txns[0].Amount)
}

// customer.subscription.trial_will_end is sent at once for a trial that
// ends within 3 days, and when trial_end is moved that close (defect: it
// never fired for them). trial_end=now ends the trial and invoices at once.
func TestTrialWillEndWithinThreeDays(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_visa")
	willEnd := func() []*stripe.Event {
		return b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.trial_will_end")})
	}

	short := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) { p.TrialPeriodDays = stripe.Int64(2) })
	evs := willEnd()
	require.Len(t, evs, 1, "a 2-day trial is announced at once")
	assert.Equal(t, short.ID, evs[0].Data.Object["id"])
	assert.Equal(t, dunStart, evs[0].Created)

	long := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) { p.TrialPeriodDays = stripe.Int64(30) })
	require.Len(t, willEnd(), 1)
	moved, err := b.sc.V1Subscriptions.Update(t.Context(), long.ID, &stripe.SubscriptionUpdateParams{TrialEnd: stripe.Int64(dunStart + 2*day)})
	require.NoError(t, err)
	assert.Equal(t, dunStart+2*day, moved.TrialEnd)
	evs = willEnd()
	require.Len(t, evs, 2, "moving trial_end within 3 days announces it at once")
	assert.Equal(t, long.ID, evs[1].Data.Object["id"])

	// Nothing more is announced for either when the clock passes.
	b.advance(clock.ID, dunStart+3*day)
	assert.Len(t, willEnd(), 2)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(long.ID).Status)

	third := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) { p.TrialPeriodDays = stripe.Int64(30) })
	now, err := b.sc.V1Subscriptions.Update(t.Context(), third.ID, &stripe.SubscriptionUpdateParams{TrialEndNow: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, stripe.SubscriptionStatusActive, now.Status)
	assert.Equal(t, dunStart+3*day, now.TrialEnd)
	inv := b.latestInvoice(third.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.EqualValues(t, 1200, inv.AmountPaid)
}

// proration_behavior=none on create with a future billing_cycle_anchor
// makes the first period free (defect: it was ignored).
func TestProrationNoneWithAnchorOnCreate(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_visa")
	anchor := dunStart + 10*day
	sub := b.subscribe(cust.ID, price.ID, 2, func(p *stripe.SubscriptionCreateParams) {
		p.BillingCycleAnchor = stripe.Int64(anchor)
		p.ProrationBehavior = stripe.String("none")
	})
	first := b.latestInvoice(sub.ID)
	assert.EqualValues(t, 0, first.Total, "the first period is free")
	assert.EqualValues(t, 0, first.AmountDue)
	assert.Equal(t, stripe.InvoiceStatusPaid, first.Status)
	b.advance(clock.ID, anchor+2*hour)
	renewal := b.latestInvoice(sub.ID)
	assert.EqualValues(t, 2400, renewal.Total)
	assert.Equal(t, stripe.InvoiceStatusPaid, renewal.Status)
}

// Trials that end without a payment method follow
// trial_settings[end_behavior][missing_payment_method].
func TestTrialEndWithoutPaymentMethod(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "")
	subs := map[string]*stripe.Subscription{}
	for _, behavior := range []string{"create_invoice", "pause", "cancel"} {
		subs[behavior] = b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
			p.TrialPeriodDays = stripe.Int64(7)
			p.TrialSettings = &stripe.SubscriptionCreateTrialSettingsParams{EndBehavior: &stripe.SubscriptionCreateTrialSettingsEndBehaviorParams{
				MissingPaymentMethod: stripe.String(behavior)}}
		})
		assert.Equal(t, stripe.SubscriptionStatusTrialing, subs[behavior].Status)
		require.NotNil(t, subs[behavior].TrialSettings)
		assert.Equal(t, stripe.SubscriptionTrialSettingsEndBehaviorMissingPaymentMethod(behavior),
			subs[behavior].TrialSettings.EndBehavior.MissingPaymentMethod)
	}
	b.advance(clock.ID, dunStart+7*day+2*hour)
	invoiced := b.subscription(subs["create_invoice"].ID)
	assert.Equal(t, stripe.SubscriptionStatusPastDue, invoiced.Status, "invoiced, and nothing to charge")
	assert.Equal(t, stripe.SubscriptionStatusPaused, b.subscription(subs["pause"].ID).Status)
	canceled := b.subscription(subs["cancel"].ID)
	assert.Equal(t, stripe.SubscriptionStatusCanceled, canceled.Status)
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.paused")}), 1)
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(subs["pause"].ID)}), 1,
		"a paused subscription makes no invoice")
}

// GET /v1/invoice_payments lists an invoice's payments; retrieve and the
// invoice's expanded payments agree.
func TestInvoicePayments(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock := b.clockAt(dunStart)
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	cust := b.customerWith(clock.ID, "pm_card_visa")
	sub := b.subscribe(cust.ID, price.ID, 2, nil)
	inv := b.invoiceWithPayments(sub.LatestInvoice.ID)
	require.NotNil(t, inv.Payments)
	require.Len(t, inv.Payments.Data, 1)
	ip := inv.Payments.Data[0]
	assert.True(t, ip.IsDefault)
	assert.Equal(t, "paid", ip.Status)
	assert.EqualValues(t, 2400, ip.AmountRequested)
	assert.EqualValues(t, 2400, ip.AmountPaid)
	assert.Equal(t, inv.ID, ip.Invoice.ID)
	assert.Equal(t, stripe.InvoicePaymentPaymentTypePaymentIntent, ip.Payment.Type)
	require.NotNil(t, ip.StatusTransitions)
	assert.Equal(t, dunStart, ip.StatusTransitions.PaidAt)

	got, err := b.sc.V1InvoicePayments.Retrieve(t.Context(), ip.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, ip.ID, got.ID)
	assert.Equal(t, ip.Payment.PaymentIntent.ID, got.Payment.PaymentIntent.ID)
	pi := b.paymentIntentOf(inv.ID)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
	assert.Equal(t, cust.ID, pi.Customer.ID)
	assert.Equal(t, dunStart, pi.Created, "created in the clock's time")

	_, err = b.sc.V1InvoicePayments.Retrieve(t.Context(), "inpay_nope", nil)
	stripeError(t, err, http.StatusNotFound)
}

// A failed renewal and its successful retry, as a webhook endpoint
// receives them (each verified with stripe-go's webhook.ConstructEvent):
// in Stripe's order, the retry's events at the retry's time, with
// previous_attributes on the subscription's status changes.
func TestWebhookOrderOfFailedRenewalAndRetry(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	rc := newReceiver(t, nil)
	b.endpoint(rc, "*")
	clock, cust, _ := b.failingRenewal("pm_card_chargeCustomerFail")
	b.advance(clock.ID, dunAttempt)
	b.useCard(cust.ID, "pm_card_visa")
	b.advance(clock.ID, dunAttempt+day)

	evs := b.delivered(10 * time.Second)
	require.Equal(t, eventIDs(evs), rc.ids(), "delivered once each, in the order they happened")
	got := rc.got()
	first := slices.IndexFunc(got, func(a arrival) bool { return a.Type == "test_helpers.test_clock.advancing" })
	require.GreaterOrEqual(t, first, 0)
	var types []string
	for _, a := range got[first:] {
		types = append(types, a.Type)
	}
	assert.Equal(t, []string{
		"test_helpers.test_clock.advancing",
		"invoice.upcoming",              // three days before the renewal
		"customer.subscription.updated", // the renewal
		"invoice.created",
		"invoice.finalized", // an hour later
		"payment_intent.created",
		"charge.failed",
		"payment_intent.payment_failed",
		"invoice.payment_failed",
		"invoice.updated",
		"customer.subscription.updated", // active → past_due
		"test_helpers.test_clock.ready",
		"payment_method.attached", // pm_card_visa: a new card on the customer
		"customer.updated",        // the new default payment method
		"test_helpers.test_clock.advancing",
		"charge.succeeded", // the retry, a day after the failure
		"payment_intent.succeeded",
		"invoice.paid",
		"invoice.payment_succeeded",
		"invoice_payment.paid",
		"customer.subscription.updated", // past_due → active
		"test_helpers.test_clock.ready",
	}, types)

	body := func(a arrival) (obj, prev map[string]any) {
		var ev struct {
			Data struct {
				Object             map[string]any `json:"object"`
				PreviousAttributes map[string]any `json:"previous_attributes"`
			} `json:"data"`
		}
		require.NoError(t, json.Unmarshal(a.Body, &ev))
		return ev.Data.Object, ev.Data.PreviousAttributes
	}
	tail := got[first:]
	obj, prev := body(tail[10])
	assert.Equal(t, "past_due", obj["status"])
	assert.Equal(t, map[string]any{"status": "active"}, prev)
	obj, prev = body(tail[20])
	assert.Equal(t, "active", obj["status"])
	assert.Equal(t, map[string]any{"status": "past_due"}, prev)
	obj, _ = body(tail[8])
	assert.EqualValues(t, 1, obj["attempt_count"])
	assert.EqualValues(t, dunAttempt+day, obj["next_payment_attempt"])
	for _, a := range tail[12:14] {
		assert.Equal(t, dunAttempt, a.Created, "%s: in the clock's time", a.Type)
	}
	for _, a := range tail[15:21] {
		assert.Equal(t, dunAttempt+day, a.Created, a.Type)
	}
	assert.Equal(t, dunRenewal-3*day, tail[1].Created, "invoice.upcoming: the account's three days ahead")
	for _, a := range tail[2:4] {
		assert.Equal(t, dunRenewal, a.Created, a.Type)
	}
	for _, a := range tail[4:11] {
		assert.Equal(t, dunAttempt, a.Created, a.Type)
	}
}
