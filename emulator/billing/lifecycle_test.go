package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// waitingForPayment makes a new subscription wait for its first payment
// without charging anything, as a checkout does.
func waitingForPayment(in *NewSubscription) {
	in.PaymentBehavior, in.IncompleteUntilPaid = DefaultIncomplete, true
}

func (s *scenario) sub(id string) *Subscription {
	s.t.Helper()
	sub, err := s.l.Subscription(id)
	require.NoError(s.t, err)
	return sub
}

func (s *scenario) invoice(id string) *Invoice {
	s.t.Helper()
	inv, err := s.l.Invoice(id)
	require.NoError(s.t, err)
	return inv
}

func (s *scenario) eventTypes() []EventType {
	var out []EventType
	for _, ev := range s.l.events {
		out = append(out, ev.Type)
	}
	return out
}

func errCode(t *testing.T, err error) Code {
	t.Helper()
	var be *Error
	require.ErrorAs(t, err, &be)
	return be.Code
}

// A subscription waiting for its first payment is incomplete, is charged
// nothing and does not expire; paying its first invoice (a checkout)
// makes it active, and it renews as usual.
func TestWaitingForFirstPayment(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.useCard("")
	sub := s.subscribeSeats(docsPlan, 6, waitingForPayment)
	assert.Equal(t, StatusIncomplete, sub.Status)
	first := s.invoice(sub.LatestInvoice)
	assert.Equal(t, InvoiceOpen, first.Status)
	assert.EqualValues(t, 12400, first.AmountDue())
	assert.Zero(t, first.AttemptCount, "nothing charged before the customer pays")
	assert.NotContains(t, s.eventTypes(), EventInvoicePaymentFailed)

	s.advance(s.now + 2*day)
	assert.Equal(t, StatusIncomplete, s.sub(sub.ID).Status, "no expiry after 23 hours")
	_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "seats", Op: UnitsAdd, Count: 1}}, s.now)
	assert.Equal(t, CodeNoActiveSubscription, errCode(t, err), "no units before the first payment")

	// A checkout stores the card as the default and pays with it.
	s.useCard("pm_visa")
	require.NoError(t, s.pay(first.ID, nil))
	assert.Equal(t, StatusActive, s.sub(sub.ID).Status)
	s.seats(sub, UnitsAdd, 1)
	s.advance(utc("2025-05-01T00:00:00Z") + FinalizeDelay)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 2, "31/31", 5000}, {"true_up", 1, "28/30", 2333}},
		summarize(invs[1]))
	assert.Equal(t, InvoicePaid, invs[1].Status, "paid by the card of the checkout")
}

// Unpaid, its periods go by without invoices; paid later, it renews at the
// end of the period it was paid in.
func TestWaitingForFirstPaymentAcrossPeriods(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.useCard("")
	sub := s.subscribeSeats(docsPlan, 6, waitingForPayment)
	s.advance(utc("2025-06-10T00:00:00Z"))
	assert.Len(t, s.l.invoices(), 1)
	got := s.sub(sub.ID)
	assert.Equal(t, StatusIncomplete, got.Status)
	assert.Equal(t, [2]int64{utc("2025-06-01T00:00:00Z"), utc("2025-07-01T00:00:00Z")}, [2]int64{got.PeriodStart, got.PeriodEnd})

	s.useCard("pm_visa")
	require.NoError(t, s.pay(sub.LatestInvoice, nil))
	assert.Equal(t, StatusActive, s.sub(sub.ID).Status)
	s.advance(utc("2025-07-01T00:00:00Z") + FinalizeDelay)
	invs := s.l.invoices()
	require.Len(t, invs, 2)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 1, "31/31", 2500}}, summarize(invs[1]))
	assert.Equal(t, InvoicePaid, invs[1].Status)
}

// A free plan (nothing to pay) is active at once.
func TestFreePlanActiveAtOnce(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.useCard("")
	sub := s.subscribeSeats(seatPlan{Unit: Month, Count: 1, Base: 0, Seat: 2500, Included: 5}, 3, waitingForPayment)
	assert.Equal(t, StatusActive, sub.Status)
	assert.Equal(t, InvoicePaid, s.invoice(sub.LatestInvoice).Status)
}

// Dunning with retries 1, 3, 5 and 7 days after the failure, then cancel
// and mark the invoice uncollectible: past due meanwhile (units keep
// working), then canceled for failed payment.
func TestRetriesExhaustedCancel(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	s.l.policy = DunningPolicy{RetryAfter: []int64{1 * day, 3 * day, 5 * day, 7 * day},
		SubscriptionAction: FinalCancel, InvoiceAction: InvoiceMarkUncollectible, FinalizeDelay: FinalizeDelay}
	sub := s.subscribeSeats(docsPlan, 6, nil)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	failed := utc("2025-05-01T00:00:00Z") + FinalizeDelay
	s.advance(failed)
	got := s.sub(sub.ID)
	assert.Equal(t, StatusPastDue, got.Status)
	renewal := s.invoice(got.LatestInvoice)
	assert.Equal(t, InvoiceOpen, renewal.Status)
	assert.Equal(t, failed+day, renewal.NextPaymentAttempt)
	s.seats(sub, UnitsAdd, 1)

	s.advance(failed + 7*day - 1)
	assert.Equal(t, StatusPastDue, s.sub(sub.ID).Status)
	assert.Equal(t, 4, s.invoice(renewal.ID).AttemptCount)
	s.advance(failed + 7*day)
	got = s.sub(sub.ID)
	assert.Equal(t, StatusCanceled, got.Status)
	assert.Equal(t, CancelPaymentFailed, got.CancellationReason)
	renewal = s.invoice(renewal.ID)
	assert.Equal(t, InvoiceUncollectible, renewal.Status)
	assert.Equal(t, 5, renewal.AttemptCount)
	var charges []int64
	for _, ev := range s.l.events {
		if ev.Type == EventChargeFailed {
			charges = append(charges, (ev.Time-failed)/day)
		}
	}
	assert.Equal(t, []int64{0, 1, 3, 5, 7}, charges)
	_, err := s.e.ChangeUnits(sub.ID, []UnitRequest{{Feature: "seats", Op: UnitsAdd, Count: 1}}, s.now)
	assert.Equal(t, CodeNoActiveSubscription, errCode(t, err))
}

// Canceled at period end: the period ends without a renewal invoice (and
// the units added in it are not trued up); reversed before the end, the
// subscription renews as usual.
func TestCancelAtPeriodEndWithUnits(t *testing.T) {
	for _, reverse := range []bool{false, true} {
		s := newScenario(t, utc("2025-04-01T00:00:00Z"))
		sub := s.subscribeSeats(docsPlan, 6, nil)
		s.advance(utc("2025-04-16T00:00:00Z"))
		s.seats(sub, UnitsAdd, 1)
		yes := true
		_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{CancelAtPeriodEnd: &yes}, s.now)
		require.NoError(t, err)
		if reverse {
			no := false
			_, err := s.e.UpdateSubscription(sub.ID, SubscriptionChange{CancelAtPeriodEnd: &no}, s.now)
			require.NoError(t, err)
		}
		s.advance(utc("2025-05-01T00:00:00Z") + FinalizeDelay)
		got := s.sub(sub.ID)
		if reverse {
			assert.Equal(t, StatusActive, got.Status)
			require.Len(t, s.l.invoices(), 2)
			assert.EqualValues(t, 16150, s.l.invoices()[1].Total())
			continue
		}
		assert.Equal(t, StatusCanceled, got.Status)
		assert.Equal(t, utc("2025-05-01T00:00:00Z"), got.EndedAt)
		assert.Len(t, s.l.invoices(), 1)
	}
}

// A canceled subscription reactivated starts a fresh period at once with
// its plan and units: base and advance, no true-up of the period it ended
// in; it renews a period later.
func TestReactivateCanceled(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	s.advance(utc("2025-04-16T00:00:00Z"))
	s.seats(sub, UnitsAdd, 2)
	_, err := s.e.CancelSubscription(sub.ID, false, false, s.now)
	require.NoError(t, err)
	s.advance(utc("2025-05-10T12:00:00Z"))
	assert.Len(t, s.l.invoices(), 1)

	got, err := s.e.ReactivateSubscription(sub.ID, s.now)
	require.NoError(t, err)
	assert.Equal(t, StatusActive, got.Status)
	assert.Zero(t, got.CanceledAt)
	assert.Zero(t, got.EndedAt)
	assert.Equal(t, [2]int64{s.now, utc("2025-06-10T12:00:00Z")}, [2]int64{got.PeriodStart, got.PeriodEnd})
	inv := s.invoice(got.LatestInvoice)
	assert.Equal(t, ReasonSubscriptionReactivate, inv.BillingReason)
	assert.Equal(t, InvoicePaid, inv.Status)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 3, "31/31", 7500}}, summarize(inv))
	var updated *Event
	for i := range s.l.events {
		if s.l.events[i].Type == EventSubscriptionUpdated {
			updated = &s.l.events[i]
		}
	}
	require.NotNil(t, updated)
	assert.Equal(t, StatusCanceled, updated.Before.(*Subscription).Status)
	assert.Equal(t, StatusActive, updated.Object.(*Subscription).Status)

	s.seats(sub, UnitsRemove, 1)
	s.advance(utc("2025-06-10T12:00:00Z"))
	invs := s.l.invoices()
	require.Len(t, invs, 3)
	assert.Equal(t, []lineSummary{{"base", 1, "", 9900}, {"advance", 2, "30/30", 5000}}, summarize(invs[2]))
}

// Reactivation that cannot be paid is refused with the decline.
func TestReactivateDeclined(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	_, err := s.e.CancelSubscription(sub.ID, false, false, s.now)
	require.NoError(t, err)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	_, err = s.e.ReactivateSubscription(sub.ID, s.now+day)
	var decl *Declined
	require.ErrorAs(t, err, &decl)
	assert.Equal(t, DeclineInsufficientFunds, decl.Reason)
}

// A past-due subscription reactivated has its invoice collected again now
// and keeps its period.
func TestReactivatePastDue(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	s.card("pm_fail", declining)
	s.useCard("pm_fail")
	s.advance(utc("2025-05-01T12:00:00Z"))
	got := s.sub(sub.ID)
	require.Equal(t, StatusPastDue, got.Status)

	_, err := s.e.ReactivateSubscription(sub.ID, s.now)
	var decl *Declined
	require.ErrorAs(t, err, &decl, "still the failing card")
	s.useCard("pm_visa")
	again, err := s.e.ReactivateSubscription(sub.ID, s.now)
	require.NoError(t, err)
	assert.Equal(t, StatusActive, again.Status)
	assert.Equal(t, [2]int64{got.PeriodStart, got.PeriodEnd}, [2]int64{again.PeriodStart, again.PeriodEnd})
	assert.Equal(t, InvoicePaid, s.invoice(got.LatestInvoice).Status)
	assert.Len(t, s.l.invoices(), 2)
}

func TestReactivateNeedsPastDueOrCanceled(t *testing.T) {
	s := newScenario(t, utc("2025-04-01T00:00:00Z"))
	sub := s.subscribeSeats(docsPlan, 6, nil)
	_, err := s.e.ReactivateSubscription(sub.ID, s.now)
	assert.Equal(t, CodeInvalidStatus, errCode(t, err))
	_, err = s.e.ReactivateSubscription("sub_nope", s.now)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
}
