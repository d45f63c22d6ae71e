package emulator_test

// End-to-end tests of refunds: a charge or a PaymentIntent refunded in
// full or in parts, what the charge then shows, the events, and an
// invoice whose payment is refunded, as a user reads them with stripe-go.

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// refunds lists refunds with the auto-pager, newest first.
func (b *billingEnv) refunds(p *stripe.RefundListParams) []string {
	b.t.Helper()
	var out []string
	for r, err := range b.sc.V1Refunds.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, r.ID)
	}
	return out
}

// refundOf refunds amount (0: all that is left) of a charge.
func (b *billingEnv) refundOf(p *stripe.RefundCreateParams) (*stripe.Refund, error) {
	b.t.Helper()
	return b.sc.V1Refunds.Create(b.t.Context(), p)
}

func TestRefundInPartsOnClock(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)
	pi, err := b.pay(cust.ID, "pm_card_visa", 5000, nil)
	require.NoError(t, err)
	chID := pi.LatestCharge.ID
	b.advance(clock.ID, frozen0+3600)

	// A part, by PaymentIntent.
	r1, err := b.refundOf(&stripe.RefundCreateParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(1200),
		Reason: stripe.String("requested_by_customer"), Metadata: map[string]string{"ticket": "T-1"}})
	require.NoError(t, err)
	assert.Regexp(t, `^re_[0-9A-Za-z]{24}$`, r1.ID)
	assert.EqualValues(t, 1200, r1.Amount)
	assert.Equal(t, stripe.Currency("usd"), r1.Currency)
	assert.Equal(t, chID, r1.Charge.ID)
	assert.Equal(t, pi.ID, r1.PaymentIntent.ID)
	assert.Equal(t, stripe.RefundStatusSucceeded, r1.Status)
	assert.Equal(t, stripe.RefundReasonRequestedByCustomer, r1.Reason)
	assert.Equal(t, "T-1", r1.Metadata["ticket"])
	assert.Equal(t, frozen0+3600, r1.Created, "a clock customer's refund lives in the clock's time")
	require.NotNil(t, r1.DestinationDetails)
	assert.Equal(t, "card", r1.DestinationDetails.Type)

	ch := b.charge(chID)
	assert.EqualValues(t, 1200, ch.AmountRefunded)
	assert.False(t, ch.Refunded, "a partial refund")
	assert.EqualValues(t, 5000, ch.Amount)
	assert.EqualValues(t, 5000, ch.AmountCaptured)

	// The rest, by charge: now it is refunded.
	r2, err := b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(chID)})
	require.NoError(t, err)
	assert.EqualValues(t, 3800, r2.Amount)
	assert.Empty(t, r2.Reason)
	ch = b.charge(chID)
	assert.EqualValues(t, 5000, ch.AmountRefunded)
	assert.True(t, ch.Refunded)

	// The PaymentIntent is not changed by its refunds.
	got := b.intent(pi.ID)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, got.Status)
	assert.EqualValues(t, 5000, got.AmountReceived)

	// Nothing is left.
	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(chID), Amount: stripe.Int64(1)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodeChargeAlreadyRefunded, se.Code)
	assert.Equal(t, "Charge "+chID+" has already been refunded.", se.Msg)

	// The charge's refunds, expanded and listed, newest first.
	exp, err := b.sc.V1Charges.Retrieve(ctx, chID, &stripe.ChargeRetrieveParams{Params: stripe.Params{Expand: []*string{stripe.String("refunds")}}})
	require.NoError(t, err)
	require.NotNil(t, exp.Refunds)
	require.Len(t, exp.Refunds.Data, 2)
	assert.Equal(t, []string{r2.ID, r1.ID}, []string{exp.Refunds.Data[0].ID, exp.Refunds.Data[1].ID})
	assert.Equal(t, "/v1/charges/"+chID+"/refunds", exp.Refunds.URL)
	assert.Nil(t, b.charge(chID).Refunds, "refunds are shown only when expanded")
	var listed []string
	for r, err := range b.sc.V1Refunds.List(ctx, &stripe.RefundListParams{Charge: stripe.String(chID)}).All(ctx) {
		require.NoError(t, err)
		listed = append(listed, r.ID)
	}
	assert.Equal(t, []string{r2.ID, r1.ID}, listed)
	assert.Equal(t, []string{r2.ID, r1.ID}, b.refunds(&stripe.RefundListParams{PaymentIntent: stripe.String(pi.ID)}))
	assert.Equal(t, []string{r2.ID, r1.ID}, b.refunds(nil))
	raw := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/charges/" + chID + "/refunds", Key: testKey}).object(t)
	assert.Len(t, raw["data"], 2)
	one := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/charges/" + chID + "/refunds/" + r1.ID, Key: testKey}).object(t)
	assert.Equal(t, r1.ID, one["id"])

	// Events: charge.refunded (the charge) and refund.created, each time.
	var types []string
	for _, ev := range b.events(nil) {
		b.checkEventObject(ev)
		switch ev.Type {
		case "charge.refunded", "refund.created", "refund.updated":
			types = append(types, string(ev.Type))
			assert.Equal(t, frozen0+3600, ev.Created)
		}
	}
	assert.Equal(t, []string{"charge.refunded", "refund.created", "charge.refunded", "refund.created"}, types)
	refunded := b.events(&stripe.EventListParams{Type: stripe.String("charge.refunded")})
	assert.Equal(t, chID, refunded[0].Data.Object["id"])
	assert.EqualValues(t, 1200, refunded[0].Data.Object["amount_refunded"])
	assert.EqualValues(t, 5000, refunded[1].Data.Object["amount_refunded"])

	// Update: metadata only, announced.
	up, err := b.sc.V1Refunds.Update(ctx, r1.ID, &stripe.RefundUpdateParams{Metadata: map[string]string{"ticket": "T-2"}})
	require.NoError(t, err)
	assert.Equal(t, "T-2", up.Metadata["ticket"])
	updated := b.eventsAbout(r1.ID)
	assert.Equal(t, []string{"refund.created", "refund.updated", "charge.refund.updated"}, eventTypes(updated))
	for _, ev := range updated[1:] {
		assert.Equal(t, map[string]any{"ticket": "T-1"}, ev.Data.PreviousAttributes["metadata"])
		assert.Equal(t, "T-2", ev.Data.Object["metadata"].(map[string]any)["ticket"])
	}
	// The same metadata again changes nothing and announces nothing.
	_, err = b.sc.V1Refunds.Update(ctx, r1.ID, &stripe.RefundUpdateParams{Metadata: map[string]string{"ticket": "T-2"}})
	require.NoError(t, err)
	assert.Len(t, b.eventsAbout(r1.ID), 3)

	// A card refund cannot be canceled.
	_, err = b.sc.V1Refunds.Cancel(ctx, r1.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Contains(t, se.Msg, "requires_action")
	assert.Equal(t, stripe.RefundStatusSucceeded, b.refund(r1.ID).Status)
}

func (b *billingEnv) refund(id string) *stripe.Refund {
	b.t.Helper()
	r, err := b.sc.V1Refunds.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return r
}

// Refunding a paid invoice's payment leaves the invoice paid, as at
// Stripe, and its subscription as it is.
func TestRefundOfPaidInvoice(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, b.price("Pro", 2900, stripe.PriceRecurringIntervalMonth).ID, 1, nil)
	inv := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	pi := b.paymentIntentOf(inv.ID)
	r, err := b.refundOf(&stripe.RefundCreateParams{PaymentIntent: stripe.String(pi.ID)})
	require.NoError(t, err)
	assert.EqualValues(t, 2900, r.Amount)
	assert.Equal(t, frozen0, r.Created)
	after := b.invoice(inv.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, after.Status)
	assert.EqualValues(t, 2900, after.AmountPaid)
	assert.EqualValues(t, 0, after.AmountRemaining)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
	assert.True(t, b.charge(pi.LatestCharge.ID).Refunded)
	for _, ev := range b.eventsAbout(inv.ID) {
		assert.NotEqual(t, "invoice.updated", string(ev.Type), "the refund does not touch the invoice")
	}
}

func TestRefundErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	cust := b.bareCustomer("")
	pi, err := b.pay(cust.ID, "pm_card_visa", 2000, nil)
	require.NoError(t, err)
	chID := pi.LatestCharge.ID

	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/refunds", Key: testKey, Body: "amount=100"})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error",
		Message: "One of the following params should be provided for this request: payment_intent or charge."}, ae)

	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(chID), Amount: stripe.Int64(2001)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodeAmountTooLarge, se.Code)
	assert.Equal(t, "amount", se.Param)
	assert.Equal(t, "Refund amount ($20.01) is greater than unrefunded amount on charge ($20.00)", se.Msg)
	assert.EqualValues(t, 0, b.charge(chID).AmountRefunded, "a refused refund changes nothing")

	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(chID), Amount: stripe.Int64(0)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "amount", se.Param)

	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String("ch_nope")})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "charge", se.Param)
	assert.Equal(t, "No such charge: 'ch_nope'", se.Msg)
	_, err = b.refundOf(&stripe.RefundCreateParams{PaymentIntent: stripe.String("pi_nope")})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "payment_intent", se.Param)
	_, err = b.sc.V1Refunds.Retrieve(ctx, "re_nope", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such refund: 're_nope'", se.Msg)

	// A declined payment, an uncaptured one and one never confirmed have
	// nothing to refund.
	_, err = b.pay(cust.ID, "pm_card_chargeDeclined", 2000, nil)
	declined := stripeError(t, err, http.StatusPaymentRequired)
	held, err := b.pay(cust.ID, "pm_card_visa", 2000, func(p *stripe.PaymentIntentCreateParams) {
		p.CaptureMethod = stripe.String("manual")
	})
	require.NoError(t, err)
	open, err := b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(900), Currency: stripe.String("usd")})
	require.NoError(t, err)
	for _, id := range []string{declined.PaymentIntent.ID, held.ID, open.ID} {
		_, err = b.refundOf(&stripe.RefundCreateParams{PaymentIntent: stripe.String(id)})
		se = stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, "This PaymentIntent ("+id+") does not have a successful charge to refund.", se.Msg)
	}
	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(declined.ChargeID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This PaymentIntent ("+declined.PaymentIntent.ID+") does not have a successful charge to refund.", se.Msg)

	// A charge and a PaymentIntent that do not go together.
	other, err := b.pay(cust.ID, "pm_card_visa", 2000, nil)
	require.NoError(t, err)
	_, err = b.refundOf(&stripe.RefundCreateParams{Charge: stripe.String(chID), PaymentIntent: stripe.String(other.ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "charge", se.Param)

	// Refunds to a customer's cash balance are not emulated.
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/refunds", Key: testKey,
		Body: "origin=customer_balance&customer=" + cust.ID + "&currency=usd&amount=100"})
	assert.Equal(t, "origin", r.apiError(t, http.StatusBadRequest).Param)
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/refunds", Key: testKey, Body: "charge=" + chID + "&reason=because"})
	assert.Equal(t, "reason", r.apiError(t, http.StatusBadRequest).Param)
	assert.Empty(t, b.refunds(nil), "no refund was made by any of these")
}
