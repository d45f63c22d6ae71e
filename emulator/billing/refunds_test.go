package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// paidCharge makes a successful direct payment of 2000 by the fixture's
// customer and returns its charge.
func paidCharge(t *testing.T, e *Engine, cust *Customer, manual bool) *Charge {
	t.Helper()
	p := newDirect(t, e, cust, newVisa(t, e, CardBehavior{}), manual)
	decl, err := e.ConfirmPayment(p, ConfirmOptions{}, 1100)
	require.NoError(t, err)
	require.Nil(t, decl)
	ch, err := e.L.Charge(p.LatestCharge)
	require.NoError(t, err)
	return ch
}

func TestRefundChargeInParts(t *testing.T) {
	l, e, cust := methodsFixture(t)
	ch := paidCharge(t, e, cust, false)
	l.events = nil
	r, err := e.RefundCharge(NewRefund{Charge: ch, Amount: 500, Reason: "requested_by_customer",
		Metadata: map[string]string{"order": "1"}}, 1200)
	require.NoError(t, err)
	assert.Equal(t, &Refund{ID: r.ID, Created: 1200, Charge: ch.ID, Payment: ch.Payment, PaymentMethod: ch.PaymentMethod,
		Customer: cust.ID, Clock: "clock_1", Amount: 500, Currency: "usd", Reason: "requested_by_customer",
		Status: RefundSucceeded, Metadata: map[string]string{"order": "1"}}, r)
	assert.Equal(t, []EventType{EventChargeRefunded, EventRefundCreated}, eventTypesOf(l))
	assert.EqualValues(t, 500, l.events[0].Object.(*Charge).AmountRefunded)
	stored, err := l.Charge(ch.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 500, stored.AmountRefunded)

	// More than is left is refused and changes nothing.
	_, err = e.RefundCharge(NewRefund{Charge: stored, Amount: 1501}, 1200)
	var rerr *RefundError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, RefundError{Problem: RefundTooLarge, Charge: ch.ID, Payment: ch.Payment, Amount: 1501, Left: 1500,
		Currency: "usd"}, *rerr)

	// No amount refunds the rest; then nothing is left.
	r2, err := e.RefundCharge(NewRefund{Charge: stored}, 1300)
	require.NoError(t, err)
	assert.EqualValues(t, 1500, r2.Amount)
	stored, err = l.Charge(ch.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 2000, stored.AmountRefunded)
	_, err = e.RefundCharge(NewRefund{Charge: stored}, 1300)
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, RefundAlreadyRefunded, rerr.Problem)

	// The payment itself does not change.
	p, err := l.Payment(ch.Payment)
	require.NoError(t, err)
	assert.Equal(t, PaymentSucceeded, p.Status)
	assert.EqualValues(t, 2000, p.AmountReceived)
}

func TestRefundNeedsSuccessfulCapturedCharge(t *testing.T) {
	_, e, cust := methodsFixture(t)
	uncaptured := paidCharge(t, e, cust, true)
	_, err := e.RefundCharge(NewRefund{Charge: uncaptured}, 1200)
	var rerr *RefundError
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, RefundNoSuccessfulCharge, rerr.Problem)
	assert.Equal(t, uncaptured.Payment, rerr.Payment)

	p := newDirect(t, e, cust, newVisa(t, e, CardBehavior{DeclineCharges: DeclineGeneric}), false)
	decl, err := e.ConfirmPayment(p, ConfirmOptions{}, 1100)
	require.NoError(t, err)
	require.NotNil(t, decl)
	_, err = e.RefundCharge(NewRefund{Charge: decl.Charge}, 1200)
	require.ErrorAs(t, err, &rerr)
	assert.Equal(t, RefundNoSuccessfulCharge, rerr.Problem)
}

// A partial capture released the rest: only what was captured can be
// refunded.
func TestRefundPartialCapture(t *testing.T) {
	l, e, cust := methodsFixture(t)
	ch := paidCharge(t, e, cust, true)
	p, err := l.Payment(ch.Payment)
	require.NoError(t, err)
	require.NoError(t, e.CapturePayment(p, 1200, 1150))
	ch, err = l.Charge(ch.ID)
	require.NoError(t, err)
	_, err = e.RefundCharge(NewRefund{Charge: ch, Amount: 1201}, 1200)
	var rerr *RefundError
	require.ErrorAs(t, err, &rerr)
	assert.EqualValues(t, 1200, rerr.Left)
	r, err := e.RefundCharge(NewRefund{Charge: ch}, 1200)
	require.NoError(t, err)
	assert.EqualValues(t, 1200, r.Amount)
}

func TestUpdateAndCancelRefund(t *testing.T) {
	l, e, cust := methodsFixture(t)
	ch := paidCharge(t, e, cust, false)
	r, err := e.RefundCharge(NewRefund{Charge: ch, Amount: 700}, 1200)
	require.NoError(t, err)
	l.events = nil
	require.NoError(t, e.UpdateRefund(r, map[string]string{"a": "1"}, 1300))
	require.NoError(t, e.UpdateRefund(r, map[string]string{"a": "1"}, 1300), "no change, no event")
	require.Len(t, l.events, 1)
	assert.Equal(t, EventRefundUpdated, l.events[0].Type)
	assert.Empty(t, l.events[0].Before.(*Refund).Metadata)
	assert.Equal(t, map[string]string{"a": "1"}, l.events[0].Object.(*Refund).Metadata)

	// A card refund has succeeded: it cannot be canceled.
	var rerr *RefundError
	require.ErrorAs(t, e.CancelRefund(r, 1300), &rerr)
	assert.Equal(t, RefundNotCancelable, rerr.Problem)
	assert.Equal(t, RefundSucceeded, rerr.Status)

	// One waiting for an action can; its amount is no longer refunded.
	r.Status = RefundRequiresAction
	require.NoError(t, e.CancelRefund(r, 1400))
	assert.Equal(t, RefundCanceled, r.Status)
	stored, err := l.Charge(ch.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 0, stored.AmountRefunded)
}

// A ledger that keeps no refunds refuses them without touching the charge.
func TestRefundNeedsRefundLedger(t *testing.T) {
	l, e, cust := methodsFixture(t)
	ch := paidCharge(t, e, cust, false)
	plain := &Engine{L: struct{ Ledger }{l}}
	_, err := plain.RefundCharge(NewRefund{Charge: ch}, 1200)
	require.Error(t, err)
	stored, err := l.Charge(ch.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 0, stored.AmountRefunded)
}
