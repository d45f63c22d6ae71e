package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newDirect(t *testing.T, e *Engine, cust *Customer, pm *PaymentMethod, manual bool) *Payment {
	p, err := e.CreatePayment(NewPayment{Customer: cust, Amount: 2000, Currency: "usd", PaymentMethod: pm, CaptureManual: manual}, 1000)
	require.NoError(t, err)
	return p
}

func TestCreatePayment(t *testing.T) {
	l, e, cust := methodsFixture(t)
	p := newDirect(t, e, cust, nil, false)
	assert.Equal(t, PaymentRequiresPaymentMethod, p.Status)
	assert.Equal(t, "clock_1", p.Clock, "a customer's payment lives on the customer's clock")
	pm := newVisa(t, e, CardBehavior{})
	p2 := newDirect(t, e, nil, pm, false)
	assert.Equal(t, PaymentRequiresConfirmation, p2.Status)
	assert.Equal(t, pm.ID, p2.PaymentMethod)
	assert.Equal(t, []EventType{EventPaymentCreated, EventPaymentCreated}, eventTypesOf(l))

	// Someone else's card cannot pay.
	require.NoError(t, e.AttachPaymentMethod(pm, cust, 1000))
	_, err := e.CreatePayment(NewPayment{Customer: &Customer{ID: "cus_other"}, Amount: 100, Currency: "usd", PaymentMethod: pm}, 1000)
	var pmErr *PaymentMethodError
	require.ErrorAs(t, err, &pmErr)
	assert.Equal(t, PaymentMethodOtherCustomer, pmErr.Problem)
}

// Each kind of card, confirmed on and off session.
func TestConfirmPaymentOutcomes(t *testing.T) {
	cases := []struct {
		name       string
		behavior   CardBehavior
		offSession bool
		manual     bool
		status     PaymentStatus
		reason     DeclineReason
		charge     ChargeStatus // "" when no charge is made
		events     []EventType
	}{
		{"succeeds", CardBehavior{}, false, false, PaymentSucceeded, "", ChargeSucceeded,
			[]EventType{EventChargeSucceeded, EventPaymentSucceeded}},
		{"manual capture", CardBehavior{}, false, true, PaymentRequiresCapture, "", ChargeSucceeded,
			[]EventType{EventChargeSucceeded, EventPaymentAmountCapturableUpdate}},
		{"declined charges", CardBehavior{DeclineCharges: DeclineGeneric}, false, false, PaymentRequiresPaymentMethod, DeclineGeneric, ChargeFailed,
			[]EventType{EventChargeFailed, EventPaymentFailed}},
		{"declined when stored, charged directly", CardBehavior{DeclineOnAttach: DeclineLostCard}, true, false, PaymentRequiresPaymentMethod, DeclineLostCard, ChargeFailed,
			[]EventType{EventChargeFailed, EventPaymentFailed}},
		{"3DS on session waits", CardBehavior{RequiresAuthentication: true}, false, false, PaymentRequiresAction, DeclineAuthenticationRequired, "",
			[]EventType{EventPaymentRequiresAction}},
		{"3DS off session is declined", CardBehavior{RequiresAuthentication: true}, true, false, PaymentRequiresPaymentMethod, DeclineAuthenticationRequired, ChargeFailed,
			[]EventType{EventChargeFailed, EventPaymentFailed}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, e, cust := methodsFixture(t)
			pm := newVisa(t, e, tc.behavior)
			p := newDirect(t, e, cust, pm, tc.manual)
			l.events = nil
			decl, err := e.ConfirmPayment(p, ConfirmOptions{OffSession: tc.offSession}, 1500)
			require.NoError(t, err)
			assert.Equal(t, tc.events, eventTypesOf(l))
			stored, err := l.Payment(p.ID)
			require.NoError(t, err)
			assert.Equal(t, tc.status, stored.Status)
			assert.Equal(t, tc.offSession, stored.OffSession)
			if tc.charge == "" {
				assert.Empty(t, stored.LatestCharge)
			} else {
				ch, err := l.Charge(stored.LatestCharge)
				require.NoError(t, err)
				assert.Equal(t, tc.charge, ch.Status)
				assert.Equal(t, tc.reason, ch.Failure)
				assert.EqualValues(t, 1500, ch.Created)
				assert.Equal(t, "clock_1", ch.Clock)
			}
			if tc.reason == "" {
				assert.Nil(t, decl)
				return
			}
			require.NotNil(t, decl)
			assert.Equal(t, tc.reason, decl.Reason)
			assert.Equal(t, pm.Behavior, decl.PaymentMethod.Behavior, "the decline shows the card as it is stored")
			assert.Equal(t, tc.reason, stored.LastError.Reason)
		})
	}
}

func TestConfirmPaymentRefusals(t *testing.T) {
	l, e, cust := methodsFixture(t)
	var stateErr *PaymentStateError

	p := newDirect(t, e, cust, nil, false)
	_, err := e.ConfirmPayment(p, ConfirmOptions{}, 1500)
	require.ErrorAs(t, err, &stateErr)
	assert.True(t, stateErr.MissingPaymentMethod)

	pm := newVisa(t, e, CardBehavior{})
	decl, err := e.ConfirmPayment(p, ConfirmOptions{PaymentMethod: pm}, 1500)
	require.NoError(t, err)
	require.Nil(t, decl)
	_, err = e.ConfirmPayment(p, ConfirmOptions{}, 1600)
	require.ErrorAs(t, err, &stateErr)
	assert.Equal(t, PaymentSucceeded, stateErr.Payment.Status)
	assert.Equal(t, ActionConfirm, stateErr.Action)

	// A detached card is refused before anything is attempted.
	detached := newVisa(t, e, CardBehavior{})
	require.NoError(t, e.AttachPaymentMethod(detached, cust, 1500))
	require.NoError(t, e.DetachPaymentMethod(detached, 1500))
	p2 := newDirect(t, e, cust, nil, false)
	l.events = nil
	_, err = e.ConfirmPayment(p2, ConfirmOptions{PaymentMethod: detached}, 1600)
	var pmErr *PaymentMethodError
	require.ErrorAs(t, err, &pmErr)
	assert.Equal(t, PaymentMethodDetached, pmErr.Problem)
	assert.Empty(t, l.events)

	// An invoice's payment is the invoice's to collect.
	inv := &Payment{ID: "pi_inv", Invoice: "in_1", Status: PaymentRequiresPaymentMethod}
	_, err = e.ConfirmPayment(inv, ConfirmOptions{PaymentMethod: pm}, 1600)
	require.ErrorAs(t, err, &stateErr)
	assert.Equal(t, "in_1", stateErr.Invoice)
	require.ErrorAs(t, e.CancelPayment(inv, "", 1600), &stateErr)
}

func TestRetryAfterDecline(t *testing.T) {
	l, e, cust := methodsFixture(t)
	failing := newVisa(t, e, CardBehavior{DeclineCharges: DeclineInsufficientFunds})
	p := newDirect(t, e, cust, failing, false)
	decl, err := e.ConfirmPayment(p, ConfirmOptions{}, 1500)
	require.NoError(t, err)
	require.NotNil(t, decl)
	first := p.LatestCharge

	good := newVisa(t, e, CardBehavior{})
	decl, err = e.ConfirmPayment(p, ConfirmOptions{PaymentMethod: good}, 1600)
	require.NoError(t, err)
	assert.Nil(t, decl)
	stored, err := l.Payment(p.ID)
	require.NoError(t, err)
	assert.Equal(t, PaymentSucceeded, stored.Status)
	assert.Nil(t, stored.LastError)
	assert.NotEqual(t, first, stored.LatestCharge)
	assert.Equal(t, good.ID, stored.PaymentMethod)
}

func TestCaptureAndCancel(t *testing.T) {
	l, e, cust := methodsFixture(t)
	pm := newVisa(t, e, CardBehavior{})
	p := newDirect(t, e, cust, pm, true)
	_, err := e.ConfirmPayment(p, ConfirmOptions{}, 1500)
	require.NoError(t, err)
	require.Equal(t, PaymentRequiresCapture, p.Status)
	assert.EqualValues(t, 2000, p.AmountCapturable)

	var tooLarge *CaptureTooLargeError
	require.ErrorAs(t, e.CapturePayment(p, 2001, 1600), &tooLarge)
	assert.EqualValues(t, 2000, tooLarge.Capturable)

	l.events = nil
	require.NoError(t, e.CapturePayment(p, 1500, 1600))
	assert.Equal(t, []EventType{EventChargeCaptured, EventPaymentSucceeded}, eventTypesOf(l))
	stored, err := l.Payment(p.ID)
	require.NoError(t, err)
	assert.Equal(t, PaymentSucceeded, stored.Status)
	assert.EqualValues(t, 1500, stored.AmountReceived)
	assert.Zero(t, stored.AmountCapturable)
	ch, err := l.Charge(stored.LatestCharge)
	require.NoError(t, err)
	assert.True(t, ch.Captured)
	assert.EqualValues(t, 1500, ch.AmountCaptured)
	assert.EqualValues(t, 500, ch.AmountRefunded, "the rest of the authorization is released")

	var stateErr *PaymentStateError
	require.ErrorAs(t, e.CancelPayment(stored, "requested_by_customer", 1700), &stateErr)
	assert.Equal(t, ActionCancel, stateErr.Action)
	require.ErrorAs(t, e.CapturePayment(stored, 0, 1700), &stateErr)

	// Canceling an authorization releases it all.
	p2 := newDirect(t, e, cust, pm, true)
	_, err = e.ConfirmPayment(p2, ConfirmOptions{}, 1500)
	require.NoError(t, err)
	l.events = nil
	require.NoError(t, e.CancelPayment(p2, "requested_by_customer", 1800))
	assert.Equal(t, []EventType{EventPaymentCanceled}, eventTypesOf(l))
	assert.Equal(t, PaymentCanceled, p2.Status)
	assert.EqualValues(t, 1800, p2.CanceledAt)
	assert.Equal(t, "requested_by_customer", p2.CancellationReason)
	ch2, err := l.Charge(p2.LatestCharge)
	require.NoError(t, err)
	assert.False(t, ch2.Captured)
	assert.EqualValues(t, 2000, ch2.AmountRefunded)
	_, err = e.ConfirmPayment(p2, ConfirmOptions{}, 1900)
	require.ErrorAs(t, err, &stateErr)
}

func TestUpdatePayment(t *testing.T) {
	_, e, cust := methodsFixture(t)
	p := newDirect(t, e, nil, nil, false)
	amount, desc := int64(3000), "order 7"
	pm := newVisa(t, e, CardBehavior{})
	require.NoError(t, e.UpdatePayment(p, PaymentChange{Amount: &amount, Customer: cust, PaymentMethod: pm, Description: &desc}))
	assert.EqualValues(t, 3000, p.Amount)
	assert.Equal(t, cust.ID, p.Customer)
	assert.Equal(t, "clock_1", p.Clock)
	assert.Equal(t, PaymentRequiresConfirmation, p.Status)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodePaymentCustomerSet, Param: "customer", Resource: "payment", ID: p.ID},
		e.UpdatePayment(p, PaymentChange{Customer: &Customer{ID: "cus_other"}}), "the customer cannot change once set")

	_, err := e.ConfirmPayment(p, ConfirmOptions{}, 1500)
	require.NoError(t, err)
	var stateErr *PaymentStateError
	require.ErrorAs(t, e.UpdatePayment(p, PaymentChange{Amount: &amount}), &stateErr)
	assert.Equal(t, ActionUpdate, stateErr.Action)
	require.NoError(t, e.UpdatePayment(p, PaymentChange{Metadata: map[string]string{"order": "7"}}),
		"metadata may change after the payment")
	assert.Equal(t, "7", p.Metadata["order"])
}
