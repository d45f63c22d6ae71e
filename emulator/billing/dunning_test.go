package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paymentStart is 2025-01-01 00:00:00 UTC, where the payment scenarios
// start: the monthly renewal falls on 2025-02-01 and is attempted an hour
// later.
var paymentStart = utc("2025-01-01T00:00:00Z")

const day int64 = 86400

// testPolicy is Stripe's default policy as billclock has it: retries 1, 3,
// 5, 7, 9, 11 and 14 days after the first failure; then cancel the
// subscription and leave the invoice open; renewals are drafts for an hour.
func testPolicy() DunningPolicy {
	return DunningPolicy{RetryAfter: []int64{1 * day, 3 * day, 5 * day, 7 * day, 9 * day, 11 * day, 14 * day},
		SubscriptionAction: FinalCancel, InvoiceAction: InvoiceLeaveOpen, FinalizeDelay: FinalizeDelay}
}

// card stores a card for the scenario's customer.
func (s *scenario) card(id string, b CardBehavior) {
	s.t.Helper()
	require.NoError(s.t, s.l.PutPaymentMethod(&PaymentMethod{ID: id, Created: s.now, Customer: "cus_0001", Clock: s.clock,
		Type: "card", Card: Card{Brand: "visa", Last4: "0341", ExpMonth: 12, ExpYear: 2034, Funding: "credit"}, Behavior: b}))
}

// useCard makes id (or nothing, for "") the customer's default payment
// method.
func (s *scenario) useCard(id string) {
	s.t.Helper()
	c, err := s.l.Customer("cus_0001")
	require.NoError(s.t, err)
	c.DefaultPaymentMethod = id
	require.NoError(s.t, s.l.PutCustomer(c))
}

// monthly subscribes the customer to qty seats at 1200 a month.
func (s *scenario) monthly(qty int64, edit func(*NewSubscription)) *Subscription {
	s.t.Helper()
	s.product("prod_seats", "Seats")
	s.price("price_seat", "prod_seats", 1200, Month, 1)
	in := NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_seat", Quantity: &qty}}}
	if edit != nil {
		edit(&in)
	}
	sub, err := s.e.CreateSubscription(in, s.now)
	require.NoError(s.t, err)
	return sub
}

// pay pays an invoice by hand, with pm or the defaults.
func (s *scenario) pay(id string, pm *PaymentMethod) error {
	s.t.Helper()
	inv, err := s.l.Invoice(id)
	require.NoError(s.t, err)
	return s.e.Pay(inv, PayOptions{PaymentMethod: pm}, s.now)
}

var (
	declining = CardBehavior{DeclineCharges: DeclineInsufficientFunds}
	threeDS   = CardBehavior{RequiresAuthentication: true}
	renewal   = utc("2025-02-01T00:00:00Z")
)

// paymentScenarios are the payment and dunning stories, each a function of
// the scenario (see scenarios); they all start at paymentStart.
var paymentScenarios = map[string]func(s *scenario){
	// The renewal's card is declined at every attempt: the default
	// schedule retries it 1, 3, 5, 7, 9, 11 and 14 days after the first
	// failure, then cancels the subscription and leaves the invoice open.
	"renewal_declined_to_cancel": func(s *scenario) {
		s.monthly(1, nil)
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		s.advance(renewal + 15*day)
	},
	// Marked unpaid and the invoice uncollectible; the next renewal's
	// invoice is finalized but never attempted; paying the latest invoice
	// makes the subscription active again.
	"renewal_declined_to_unpaid": func(s *scenario) {
		s.l.policy.SubscriptionAction, s.l.policy.InvoiceAction = FinalUnpaid, InvoiceMarkUncollectible
		s.l.policy.RetryAfter = []int64{2 * day}
		sub := s.monthly(1, nil)
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		s.advance(utc("2025-03-01T02:00:00Z"))
		got, err := s.l.Subscription(sub.ID)
		require.NoError(s.t, err)
		require.NoError(s.t, s.pay(got.LatestInvoice, &PaymentMethod{ID: "pm_visa", Customer: "cus_0001"}))
		s.advance(utc("2025-04-01T02:00:00Z"))
	},
	// Left past_due after the last retry, with the next renewal attempted
	// again (and failing) as usual.
	"renewal_declined_left_past_due": func(s *scenario) {
		s.l.policy.SubscriptionAction = FinalPastDue
		s.l.policy.RetryAfter = []int64{1 * day, 3 * day}
		s.monthly(1, nil)
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		s.advance(utc("2025-03-01T02:00:00Z"))
	},
	// A new default card before the third attempt: the retry uses it and
	// the subscription is active again.
	"retry_succeeds_with_new_card": func(s *scenario) {
		s.monthly(2, nil)
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		s.advance(renewal + 4*day)
		s.useCard("pm_visa")
		s.advance(renewal + 20*day)
	},
	// A card needing authentication: requires_action at every attempt, no
	// charge, payment_action_required instead of payment_failed.
	"renewal_needs_authentication": func(s *scenario) {
		s.l.policy.RetryAfter = []int64{1 * day}
		s.monthly(1, nil)
		s.card("pm_3ds", threeDS)
		s.useCard("pm_3ds")
		s.advance(renewal + 3*day)
	},
	// No payment method at all: the attempts fail without a charge.
	"renewal_without_payment_method": func(s *scenario) {
		s.l.policy.RetryAfter = []int64{1 * day}
		s.monthly(1, nil)
		s.useCard("")
		s.advance(renewal + 3*day)
	},
	// A first invoice that fails: the subscription is created incomplete,
	// not retried, and expires 23 hours later with its invoice voided.
	"incomplete_expires": func(s *scenario) {
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		s.monthly(1, nil)
		s.advance(paymentStart + 2*day)
	},
	// default_incomplete: the first invoice is not attempted; paying it
	// activates the subscription, which then does not expire.
	"default_incomplete_paid": func(s *scenario) {
		sub := s.monthly(1, func(in *NewSubscription) { in.PaymentBehavior = DefaultIncomplete })
		s.advance(paymentStart + 2*3600)
		require.NoError(s.t, s.pay(sub.LatestInvoice, nil))
		s.advance(paymentStart + 2*day)
	},
	// A downgrade invoiced at once totals −2400: it becomes credit, which
	// the next renewals consume.
	"credit_balance": func(s *scenario) {
		sub := s.monthly(5, nil)
		s.advance(paymentStart + 15*day + 12*3600)
		_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateAlways,
			Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(1)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(utc("2025-03-01T02:00:00Z"))
	},
	// A failing card on an update invoiced at once: past_due, retried.
	"update_invoice_declined": func(s *scenario) {
		s.l.policy.RetryAfter = []int64{1 * day}
		sub := s.monthly(1, nil)
		s.advance(paymentStart + 10*day)
		s.card("pm_fail", declining)
		s.useCard("pm_fail")
		_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateAlways,
			Items: []ItemSpec{{ID: sub.Items[0].ID, Quantity: qty(3)}}}, s.now)
		require.NoError(s.t, err)
		s.advance(paymentStart + 13*day)
	},
	// Trials that end with nothing to charge, one per behaviour.
	"trial_without_payment_method": func(s *scenario) {
		s.useCard("")
		for _, b := range []string{"", MissingPaymentMethodPause, MissingPaymentMethodCancel} {
			s.monthly(1, func(in *NewSubscription) {
				in.TrialEnd, in.MissingPaymentMethodAtTrialEnd = s.now+7*day, b
			})
		}
		s.advance(paymentStart + 8*day)
	},
	// A trial of two days is announced at once; a 10-day trial moved to
	// end in two days too; then one ended now, invoiced at once.
	"short_trials": func(s *scenario) {
		s.monthly(1, func(in *NewSubscription) { in.TrialEnd = s.now + 2*day })
		long := s.monthly(1, func(in *NewSubscription) { in.TrialEnd = s.now + 10*day })
		s.advance(paymentStart + day)
		end := s.now + 2*day
		_, err := s.e.UpdateSubscription(long.ID, SubscriptionChange{TrialEnd: &end}, s.now)
		require.NoError(s.t, err)
		third := s.monthly(1, func(in *NewSubscription) { in.TrialEnd = s.now + 20*day })
		now := s.now
		_, err = s.e.UpdateSubscription(third.ID, SubscriptionChange{TrialEnd: &now}, s.now)
		require.NoError(s.t, err)
		s.advance(paymentStart + 5*day)
	},
	// proration_behavior none with a future anchor: the first period is
	// free.
	"proration_none_anchor": func(s *scenario) {
		s.monthly(2, func(in *NewSubscription) {
			in.BillingCycleAnchor, in.ProrationBehavior = s.now+10*day, ProrateNone
		})
		s.advance(paymentStart + 12*day)
	},
}

// error_if_incomplete refuses a subscription whose first payment fails,
// with the decline.
func TestErrorIfIncompleteReturnsTheDecline(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	s.product("prod_seats", "Seats")
	s.price("price_seat", "prod_seats", 1200, Month, 1)
	_, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_seat"}},
		PaymentBehavior: ErrorIfIncomplete}, s.now)
	var decl *Declined
	require.ErrorAs(t, err, &decl)
	assert.Equal(t, DeclineInsufficientFunds, decl.Reason)
	require.NotNil(t, decl.Charge)
	assert.Equal(t, ChargeFailed, decl.Charge.Status)
	assert.Equal(t, "pm_fail", decl.PaymentMethod.ID)
	assert.Equal(t, PaymentRequiresPaymentMethod, decl.Payment.Status)
}

// A manual attempt does not count in attempt_count (after the first) nor
// move the retry schedule; a failed one returns the decline.
func TestManualPayDoesNotCountAsRetry(t *testing.T) {
	s := newScenario(t, paymentStart)
	sub := s.monthly(1, nil)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	s.advance(renewal + 2*3600)
	got, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	inv, err := s.l.Invoice(got.LatestInvoice)
	require.NoError(t, err)
	require.Equal(t, 1, inv.AttemptCount)
	next := inv.NextPaymentAttempt
	require.Equal(t, renewal+3600+day, next)

	err = s.pay(inv.ID, nil)
	var decl *Declined
	require.ErrorAs(t, err, &decl)
	inv, err = s.l.Invoice(inv.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, inv.AttemptCount, "a manual attempt is not a retry")
	assert.Equal(t, next, inv.NextPaymentAttempt, "nor does it move the schedule")

	s.card("pm_good", CardBehavior{})
	require.NoError(t, s.pay(inv.ID, &PaymentMethod{ID: "pm_good", Customer: "cus_0001"}))
	inv, err = s.l.Invoice(inv.ID)
	require.NoError(t, err)
	assert.Equal(t, InvoicePaid, inv.Status)
	assert.Equal(t, 1, inv.AttemptCount)
	assert.Zero(t, inv.NextPaymentAttempt)
	got, err = s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusActive, got.Status)
	// The retry that was due finds the invoice paid and does nothing.
	n := len(s.l.events)
	s.advance(next + 3600)
	assert.Len(t, s.l.events, n)
}

// Only the latest invoice moves the subscription: paying an older one
// leaves it past_due while the latest is unpaid.
func TestOnlyTheLatestInvoiceDecides(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.l.policy.SubscriptionAction = FinalPastDue
	s.product("prod_seats", "Seats")
	s.price("price_week", "prod_seats", 500, Week, 1)
	sub, err := s.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_week"}}}, s.now)
	require.NoError(t, err)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	s.advance(paymentStart + 7*day + 2*3600)
	first, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	older := first.LatestInvoice
	s.advance(paymentStart + 14*day + 2*3600)
	got, err := s.l.Subscription(sub.ID)
	require.NoError(t, err)
	require.NotEqual(t, older, got.LatestInvoice)
	require.Equal(t, StatusPastDue, got.Status)

	require.NoError(t, s.pay(older, &PaymentMethod{ID: "pm_visa", Customer: "cus_0001"}))
	got, err = s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusPastDue, got.Status, "an older invoice paid does not make it active")
	require.NoError(t, s.pay(got.LatestInvoice, &PaymentMethod{ID: "pm_visa", Customer: "cus_0001"}))
	got, err = s.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, StatusActive, got.Status)
}

// Voiding an invoice that consumed credit gives the credit back.
func TestVoidReturnsAppliedCredit(t *testing.T) {
	s := newScenario(t, paymentStart)
	c, err := s.l.Customer("cus_0001")
	require.NoError(t, err)
	c.Balance, c.BalanceCurrency = -500, "usd"
	require.NoError(t, s.l.PutCustomer(c))
	sub := s.monthly(1, func(in *NewSubscription) { in.PaymentBehavior = DefaultIncomplete })
	inv, err := s.l.Invoice(sub.LatestInvoice)
	require.NoError(t, err)
	assert.EqualValues(t, -500, inv.StartingBalance)
	assert.EqualValues(t, 0, inv.EndingBalance)
	assert.EqualValues(t, 700, inv.AmountDue())
	c, err = s.l.Customer("cus_0001")
	require.NoError(t, err)
	assert.EqualValues(t, 0, c.Balance)

	require.NoError(t, s.e.Void(inv, s.now))
	c, err = s.l.Customer("cus_0001")
	require.NoError(t, err)
	assert.EqualValues(t, -500, c.Balance)
	p, err := s.l.Payment(inv.Payment)
	require.NoError(t, err)
	assert.Equal(t, PaymentCanceled, p.Status)
}

func TestApplyBalance(t *testing.T) {
	cases := []struct{ total, balance, due, ending int64 }{
		{1200, 0, 1200, 0},
		{1200, -500, 700, 0},
		{1200, -2000, 0, -800},
		{-1200, 0, 0, -1200},
		{-1200, -300, 0, -1500},
		{1200, 300, 1500, 0},
		{-100, 300, 0, 200},
		{0, -500, 0, -500},
	}
	for _, tc := range cases {
		due, ending := ApplyBalance(tc.total, tc.balance)
		assert.Equal(t, [2]int64{tc.due, tc.ending}, [2]int64{due, ending}, "total %d balance %d", tc.total, tc.balance)
	}
}

// The subscription.updated events of a failed renewal carry the status
// before, for previous_attributes.
func TestStatusChangesCarryTheStatusBefore(t *testing.T) {
	s := newScenario(t, paymentStart)
	s.monthly(1, nil)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	s.advance(renewal + 2*3600)
	var last Event
	for _, ev := range s.l.events {
		if ev.Type == EventSubscriptionUpdated {
			last = ev
		}
	}
	require.NotNil(t, last.Before)
	assert.Equal(t, StatusActive, last.Before.(*Subscription).Status)
	assert.Equal(t, StatusPastDue, last.Object.(*Subscription).Status)
}
