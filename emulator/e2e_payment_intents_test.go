package emulator_test

// End-to-end tests of PaymentIntents, charges and the account: each way a
// direct payment can go, with the test card deciding the outcome, checked
// as a user reads it with stripe-go.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// pay creates and confirms a PaymentIntent of amount usd for customer
// (may be "") with pm; edit, if not nil, adds to the parameters.
func (b *billingEnv) pay(customer, pm string, amount int64, edit func(*stripe.PaymentIntentCreateParams)) (*stripe.PaymentIntent, error) {
	b.t.Helper()
	p := &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(amount), Currency: stripe.String("usd"),
		PaymentMethod: stripe.String(pm), Confirm: stripe.Bool(true)}
	if customer != "" {
		p.Customer = stripe.String(customer)
	}
	if edit != nil {
		edit(p)
	}
	return b.sc.V1PaymentIntents.Create(b.t.Context(), p)
}

func (b *billingEnv) intent(id string) *stripe.PaymentIntent {
	b.t.Helper()
	pi, err := b.sc.V1PaymentIntents.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return pi
}

func (b *billingEnv) charge(id string) *stripe.Charge {
	b.t.Helper()
	ch, err := b.sc.V1Charges.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return ch
}

func (b *billingEnv) charges(p *stripe.ChargeListParams) []string {
	b.t.Helper()
	var out []string
	for ch, err := range b.sc.V1Charges.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, ch.ID)
	}
	return out
}

func TestPaymentIntentSucceeds(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)

	pi, err := b.pay(cust.ID, "pm_card_visa", 2000, func(p *stripe.PaymentIntentCreateParams) {
		p.Description = stripe.String("Order 42")
		p.ReceiptEmail = stripe.String("payer@example.com")
		p.Metadata = map[string]string{"order": "42"}
		p.AddExpand("latest_charge")
	})
	require.NoError(t, err)
	assert.Regexp(t, `^pi_[0-9A-Za-z]{24}$`, pi.ID)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
	assert.Equal(t, frozen0, pi.Created, "a clock customer's payment lives in the clock's time")
	assert.EqualValues(t, 2000, pi.Amount)
	assert.EqualValues(t, 2000, pi.AmountReceived)
	assert.Zero(t, pi.AmountCapturable)
	assert.Equal(t, stripe.PaymentIntentCaptureMethodAutomaticAsync, pi.CaptureMethod)
	assert.True(t, strings.HasPrefix(pi.ClientSecret, pi.ID+"_secret_"))
	assert.Nil(t, pi.LastPaymentError)
	assert.Nil(t, pi.NextAction)
	assert.Equal(t, "Order 42", pi.Description)
	assert.Equal(t, "payer@example.com", pi.ReceiptEmail)
	assert.Equal(t, cust.ID, pi.Customer.ID)
	require.NotNil(t, pi.AutomaticPaymentMethods, "no payment_method_types: the account's automatic payment methods")
	assert.True(t, pi.AutomaticPaymentMethods.Enabled)

	ch := pi.LatestCharge
	require.NotNil(t, ch)
	assert.Regexp(t, `^ch_`, ch.ID)
	assert.Equal(t, stripe.ChargeStatusSucceeded, ch.Status)
	assert.True(t, ch.Paid)
	assert.True(t, ch.Captured)
	assert.EqualValues(t, 2000, ch.AmountCaptured)
	assert.Equal(t, frozen0, ch.Created)
	assert.Equal(t, pi.ID, ch.PaymentIntent.ID)
	assert.Equal(t, cust.ID, ch.Customer.ID)
	assert.Equal(t, "Order 42", ch.Description)
	assert.Equal(t, "42", ch.Metadata["order"])
	require.NotNil(t, ch.Outcome)
	assert.Equal(t, "authorized", ch.Outcome.Type)
	assert.Equal(t, "approved_by_network", ch.Outcome.NetworkStatus)
	assert.Empty(t, ch.FailureCode)
	require.NotNil(t, ch.PaymentMethodDetails)
	require.NotNil(t, ch.PaymentMethodDetails.Card)
	assert.Equal(t, "4242", ch.PaymentMethodDetails.Card.Last4)
	assert.Equal(t, stripe.PaymentMethodCardBrand("visa"), ch.PaymentMethodDetails.Card.Brand)
	assert.Equal(t, pi.PaymentMethod.ID, ch.PaymentMethod)

	// The magic id made a payment method, not attached (no
	// setup_future_usage).
	pm, err := b.sc.V1PaymentMethods.Retrieve(ctx, pi.PaymentMethod.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, pm.Customer)

	piEvents := b.eventsAbout(pi.ID)
	assert.Equal(t, []string{"payment_intent.created", "payment_intent.succeeded"}, eventTypes(piEvents))
	// The events show the PaymentIntent as the API does, with its settings.
	for _, ev := range piEvents {
		assert.Equal(t, "payer@example.com", ev.Data.Object["receipt_email"], ev.Type)
		assert.Equal(t, true, ev.Data.Object["automatic_payment_methods"].(map[string]any)["enabled"], ev.Type)
	}
	assert.Equal(t, []string{"charge.succeeded"}, eventTypes(b.eventsAbout(ch.ID)))
	var order []string
	for _, ev := range b.events(nil) {
		if strings.HasPrefix(string(ev.Type), "payment_intent.") || strings.HasPrefix(string(ev.Type), "charge.") {
			order = append(order, string(ev.Type))
			assert.Equal(t, frozen0, ev.Created)
		}
	}
	assert.Equal(t, []string{"payment_intent.created", "charge.succeeded", "payment_intent.succeeded"}, order)

	// setup_future_usage keeps the card on the customer after it paid.
	saved, err := b.pay(cust.ID, "pm_card_mastercard", 500, func(p *stripe.PaymentIntentCreateParams) {
		p.SetupFutureUsage = stripe.String("off_session")
	})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentSetupFutureUsageOffSession, saved.SetupFutureUsage)
	assert.Equal(t, []string{saved.PaymentMethod.ID}, ids(b.customerPaymentMethods(cust.ID)))
}

// The declining cards, charged directly: Stripe's 402, with the
// PaymentIntent and the failed charge kept.
func TestPaymentIntentDeclines(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	for _, row := range magicRows {
		if row.code == "" && !row.chargesFail {
			continue
		}
		t.Run(row.ids[0], func(t *testing.T) {
			code, declineCode, msg := row.code, row.declineCode, row.msg
			if row.chargesFail {
				code, declineCode, msg = "card_declined", "generic_decline", "Your card was declined."
			}
			cust := b.bareCustomer("")
			_, err := b.pay(cust.ID, row.ids[0], 1500, nil)
			se := stripeError(t, err, http.StatusPaymentRequired)
			assert.Equal(t, stripe.ErrorTypeCard, se.Type)
			assert.Equal(t, stripe.ErrorCode(code), se.Code)
			assert.Equal(t, stripe.DeclineCode(declineCode), se.DeclineCode)
			assert.Equal(t, msg, se.Msg)
			require.NotNil(t, se.PaymentIntent, "the error carries the PaymentIntent")
			assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
			require.NotNil(t, se.PaymentIntent.LastPaymentError)
			assert.Equal(t, stripe.ErrorCode(code), se.PaymentIntent.LastPaymentError.Code)
			require.NotNil(t, se.PaymentMethod)
			assert.Equal(t, row.last4, se.PaymentMethod.Card.Last4)
			require.NotEmpty(t, se.ChargeID)

			// Both are kept.
			pi := b.intent(se.PaymentIntent.ID)
			assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, pi.Status)
			require.NotNil(t, pi.LastPaymentError)
			assert.Equal(t, stripe.DeclineCode(declineCode), pi.LastPaymentError.DeclineCode)
			assert.Equal(t, msg, pi.LastPaymentError.Msg)
			assert.Equal(t, se.ChargeID, pi.LastPaymentError.ChargeID)
			assert.Equal(t, se.PaymentMethod.ID, pi.LastPaymentError.PaymentMethod.ID)
			assert.Equal(t, se.ChargeID, pi.LatestCharge.ID)
			ch := b.charge(se.ChargeID)
			assert.Equal(t, stripe.ChargeStatusFailed, ch.Status)
			assert.False(t, ch.Paid)
			assert.False(t, ch.Captured)
			assert.Equal(t, code, ch.FailureCode)
			assert.Equal(t, msg, ch.FailureMessage)
			assert.Equal(t, "issuer_declined", ch.Outcome.Type)
			assert.Equal(t, declineCode, ch.Outcome.Reason)
			assert.Equal(t, "declined_by_network", ch.Outcome.NetworkStatus)
			assert.Equal(t, []string{se.ChargeID}, b.charges(&stripe.ChargeListParams{PaymentIntent: stripe.String(pi.ID)}))
			assert.Equal(t, []string{"payment_intent.created", "payment_intent.payment_failed"}, eventTypes(b.eventsAbout(pi.ID)))
			assert.Equal(t, []string{"charge.failed"}, eventTypes(b.eventsAbout(ch.ID)))

			// Another card pays it.
			ok, err := b.sc.V1PaymentIntents.Confirm(ctx, pi.ID, &stripe.PaymentIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
			require.NoError(t, err)
			assert.Equal(t, stripe.PaymentIntentStatusSucceeded, ok.Status)
			assert.Nil(t, ok.LastPaymentError)
			assert.NotEqual(t, se.ChargeID, ok.LatestCharge.ID)
			assert.Len(t, b.charges(&stripe.ChargeListParams{PaymentIntent: stripe.String(pi.ID)}), 2)
		})
	}
}

// A replayed decline answers the same 402, and makes nothing more.
func TestPaymentIntentDeclineReplays(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	body := "amount=1000&currency=usd&confirm=true&payment_method=pm_card_chargeCustomerFail"
	hdr := map[string]string{"Idempotency-Key": "decline-once"}
	first := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/payment_intents", Body: body, Key: testKey, Header: hdr})
	require.Equal(t, http.StatusPaymentRequired, first.Status, "%s", first.Body)
	again := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/payment_intents", Body: body, Key: testKey, Header: hdr})
	require.Equal(t, http.StatusPaymentRequired, again.Status)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.JSONEq(t, string(first.Body), string(again.Body))
	var env struct {
		Error struct {
			Charge        string         `json:"charge"`
			PaymentIntent map[string]any `json:"payment_intent"`
		} `json:"error"`
	}
	require.NoError(t, json.Unmarshal(first.Body, &env))
	assert.Equal(t, []string{env.Error.Charge}, b.charges(nil))
}

func TestPaymentIntentAuthentication(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	cust := b.bareCustomer("")
	card, err := b.sc.V1PaymentMethods.Attach(ctx, "pm_card_authenticationRequired", &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err, "a card that needs authentication attaches fine")

	// On session: the customer must authenticate, which never happens by
	// itself in billclock.
	pi, err := b.pay(cust.ID, card.ID, 3000, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresAction, pi.Status)
	require.NotNil(t, pi.NextAction)
	assert.Equal(t, stripe.PaymentIntentNextActionType("use_stripe_sdk"), pi.NextAction.Type)
	assert.Nil(t, pi.LastPaymentError)
	assert.Nil(t, pi.LatestCharge, "nothing is charged while waiting")
	assert.Equal(t, []string{"payment_intent.created", "payment_intent.requires_action"}, eventTypes(b.eventsAbout(pi.ID)))
	assert.Empty(t, b.charges(&stripe.ChargeListParams{PaymentIntent: stripe.String(pi.ID)}))

	canceled, err := b.sc.V1PaymentIntents.Cancel(ctx, pi.ID, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusCanceled, canceled.Status)
	assert.Equal(t, stripe.PaymentIntentCancellationReasonAbandoned, canceled.CancellationReason)
	assert.NotZero(t, canceled.CanceledAt)
	assert.Equal(t, "payment_intent.canceled", eventTypes(b.eventsAbout(pi.ID))[2])

	// Off session there is no one to authenticate: Stripe declines with
	// authentication_required and the PaymentIntent needs a new payment
	// method.
	_, err = b.pay(cust.ID, card.ID, 3000, func(p *stripe.PaymentIntentCreateParams) { p.OffSession = stripe.Bool(true) })
	se := stripeError(t, err, http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("authentication_required"), se.Code)
	assert.Equal(t, stripe.DeclineCode("authentication_required"), se.DeclineCode)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, se.PaymentIntent.Status)
	require.NotEmpty(t, se.ChargeID)
	assert.Equal(t, "authentication_required", b.charge(se.ChargeID).FailureCode)
	assert.Nil(t, b.intent(se.PaymentIntent.ID).NextAction)

	// error_on_requires_action does the same on session.
	_, err = b.pay(cust.ID, card.ID, 3000, func(p *stripe.PaymentIntentCreateParams) { p.ErrorOnRequiresAction = stripe.Bool(true) })
	se = stripeError(t, err, http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("authentication_required"), se.Code)

	// off_session needs confirm.
	_, err = b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(3000), Currency: stripe.String("usd"),
		OffSession: stripe.Bool(true)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "off_session", se.Param)
}

func TestPaymentIntentManualCapture(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	cust := b.bareCustomer("")
	pi, err := b.pay(cust.ID, "pm_card_visa", 2000, func(p *stripe.PaymentIntentCreateParams) {
		p.CaptureMethod = stripe.String("manual")
	})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresCapture, pi.Status)
	assert.Equal(t, stripe.PaymentIntentCaptureMethodManual, pi.CaptureMethod)
	assert.EqualValues(t, 2000, pi.AmountCapturable)
	assert.Zero(t, pi.AmountReceived)
	auth := b.charge(pi.LatestCharge.ID)
	assert.Equal(t, stripe.ChargeStatusSucceeded, auth.Status)
	assert.True(t, auth.Paid)
	assert.False(t, auth.Captured)
	assert.NotZero(t, auth.PaymentMethodDetails.Card.CaptureBefore)

	_, err = b.sc.V1PaymentIntents.Capture(ctx, pi.ID, &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(2001)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("amount_too_large"), se.Code)
	assert.Equal(t, "amount_to_capture", se.Param)

	captured, err := b.sc.V1PaymentIntents.Capture(ctx, pi.ID, &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(1500)})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, captured.Status)
	assert.EqualValues(t, 1500, captured.AmountReceived)
	assert.Zero(t, captured.AmountCapturable)
	ch := b.charge(pi.LatestCharge.ID)
	assert.True(t, ch.Captured)
	assert.EqualValues(t, 1500, ch.AmountCaptured)
	assert.EqualValues(t, 500, ch.AmountRefunded, "the rest of the authorization is released")
	assert.False(t, ch.Refunded)

	assert.Equal(t, []string{"payment_intent.created", "payment_intent.amount_capturable_updated", "payment_intent.succeeded"},
		eventTypes(b.eventsAbout(pi.ID)))
	assert.Equal(t, []string{"charge.succeeded", "charge.captured"}, eventTypes(b.eventsAbout(ch.ID)))

	// Wrong states, in Stripe's words, with the PaymentIntent.
	_, err = b.sc.V1PaymentIntents.Capture(ctx, pi.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodePaymentIntentUnexpectedState, se.Code)
	assert.Equal(t, "This PaymentIntent could not be captured because it has a status of succeeded. "+
		"Only a PaymentIntent with one of the following statuses may be captured: requires_capture.", se.Msg)
	require.NotNil(t, se.PaymentIntent)
	assert.Equal(t, pi.ID, se.PaymentIntent.ID)
	_, err = b.sc.V1PaymentIntents.Cancel(ctx, pi.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of "+
		"the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, requires_action, processing.", se.Msg)
	_, err = b.sc.V1PaymentIntents.Confirm(ctx, pi.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.", se.Msg)

	// Canceling an authorization releases it.
	held, err := b.pay(cust.ID, "pm_card_visa", 900, func(p *stripe.PaymentIntentCreateParams) { p.CaptureMethod = stripe.String("manual") })
	require.NoError(t, err)
	rel, err := b.sc.V1PaymentIntents.Cancel(ctx, held.ID, &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("requested_by_customer")})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusCanceled, rel.Status)
	assert.Zero(t, rel.AmountCapturable)
	relCh := b.charge(held.LatestCharge.ID)
	assert.False(t, relCh.Captured)
	assert.True(t, relCh.Refunded)
	assert.EqualValues(t, 900, relCh.AmountRefunded)
}

func TestPaymentIntentStepByStep(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	cust := b.bareCustomer("")

	pi, err := b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd"),
		Customer: stripe.String(cust.ID), PaymentMethodTypes: []*string{stripe.String("card")}})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresPaymentMethod, pi.Status)
	assert.Equal(t, []string{"card"}, pi.PaymentMethodTypes)
	assert.Nil(t, pi.AutomaticPaymentMethods)

	_, err = b.sc.V1PaymentIntents.Confirm(ctx, pi.ID, nil)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodePaymentIntentUnexpectedState, se.Code)
	assert.Equal(t, "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent with "+
		cust.ID+", specify a payment method attached to this customer along with the customer ID.", se.Msg)

	upd, err := b.sc.V1PaymentIntents.Update(ctx, pi.ID, &stripe.PaymentIntentUpdateParams{Amount: stripe.Int64(1200),
		PaymentMethod: stripe.String("pm_card_mastercard"), Description: stripe.String("two")})
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusRequiresConfirmation, upd.Status)
	assert.EqualValues(t, 1200, upd.Amount)

	_, err = b.sc.V1PaymentIntents.Update(ctx, pi.ID, &stripe.PaymentIntentUpdateParams{Customer: stripe.String(b.bareCustomer("").ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "customer", se.Param)

	done, err := b.sc.V1PaymentIntents.Confirm(ctx, pi.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, done.Status)
	assert.EqualValues(t, 1200, done.AmountReceived)

	_, err = b.sc.V1PaymentIntents.Update(ctx, pi.ID, &stripe.PaymentIntentUpdateParams{Amount: stripe.Int64(1300)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This PaymentIntent's amount could not be updated because it has a status of succeeded. You may only update "+
		"the amount of a PaymentIntent with one of the following statuses: requires_payment_method, requires_confirmation, requires_action.", se.Msg)
	md, err := b.sc.V1PaymentIntents.Update(ctx, pi.ID, &stripe.PaymentIntentUpdateParams{Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err, "metadata may change after the payment")
	assert.Equal(t, "v", md.Metadata["k"])

	// A card of another customer cannot pay.
	other := b.bareCustomer("")
	theirs, err := b.sc.V1PaymentMethods.Attach(ctx, "pm_card_visa", &stripe.PaymentMethodAttachParams{Customer: stripe.String(other.ID)})
	require.NoError(t, err)
	_, err = b.pay(cust.ID, theirs.ID, 1000, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "payment_method", se.Param)

	// Amounts Stripe would not charge.
	_, err = b.pay("", "pm_card_visa", 49, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Amount must be at least $0.50 usd", se.Msg)
	assert.Equal(t, stripe.ErrorCode("amount_too_small"), se.Code)
	_, err = b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Currency: stripe.String("usd")})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Missing required param: amount.", se.Msg)
	_, err = b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd"),
		PaymentMethodTypes: []*string{stripe.String("card")}, AutomaticPaymentMethods: &stripe.PaymentIntentCreateAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)}})
	stripeError(t, err, http.StatusBadRequest)

	_, err = b.sc.V1PaymentIntents.Retrieve(ctx, "pi_nope", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such payment_intent: 'pi_nope'", se.Msg)

	// A PaymentIntent of no customer lives in wall time; lists filter by
	// customer.
	loose, err := b.pay("", "pm_card_visa", 700, nil)
	require.NoError(t, err)
	var mine []string
	for p, err := range b.sc.V1PaymentIntents.List(ctx, &stripe.PaymentIntentListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
		require.NoError(t, err)
		mine = append(mine, p.ID)
	}
	assert.Equal(t, []string{pi.ID}, mine)
	var all []string
	for p, err := range b.sc.V1PaymentIntents.List(ctx, &stripe.PaymentIntentListParams{}).All(ctx) {
		require.NoError(t, err)
		all = append(all, p.ID)
	}
	assert.Contains(t, all, loose.ID)
	assert.Contains(t, all, pi.ID)
	assert.Equal(t, b.charges(&stripe.ChargeListParams{Customer: stripe.String(cust.ID)}), []string{done.LatestCharge.ID})
}

func TestChargesList(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	a, c := b.bareCustomer(clock.ID), b.bareCustomer("")
	p1, err := b.pay(a.ID, "pm_card_visa", 1000, nil)
	require.NoError(t, err)
	_, err = b.pay(a.ID, "pm_card_chargeCustomerFail", 1000, nil)
	se := stripeError(t, err, http.StatusPaymentRequired)
	p3, err := b.pay(c.ID, "pm_card_visa", 1000, nil)
	require.NoError(t, err)

	assert.ElementsMatch(t, []string{p1.LatestCharge.ID, se.ChargeID}, b.charges(&stripe.ChargeListParams{Customer: stripe.String(a.ID)}))
	assert.Equal(t, []string{p3.LatestCharge.ID}, b.charges(&stripe.ChargeListParams{PaymentIntent: stripe.String(p3.ID)}))
	assert.Len(t, b.charges(nil), 3)
	lp := &stripe.ChargeListParams{}
	lp.Filters.AddFilter("created", "lte", "1732320000")
	assert.ElementsMatch(t, []string{p1.LatestCharge.ID, se.ChargeID}, b.charges(lp), "charges on the clock were made at its time")

	p := &stripe.ChargeRetrieveParams{}
	p.AddExpand("payment_intent")
	ch, err := b.sc.V1Charges.Retrieve(ctx, p1.LatestCharge.ID, p)
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, ch.PaymentIntent.Status, "expanded")
	_, err = b.sc.V1Charges.Retrieve(ctx, "ch_nope", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such charge: 'ch_nope'", se.Msg)
}

func TestAccount(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	acct, err := b.sc.V1Accounts.Retrieve(ctx, nil)
	require.NoError(t, err)
	assert.Regexp(t, `^acct_[0-9A-Za-z]{16}$`, acct.ID)
	assert.NotContains(t, acct.ID, strings.TrimPrefix(testKey, "sk_test_"), "the id never shows the key")
	assert.Equal(t, "US", acct.Country)
	assert.Equal(t, stripe.Currency("usd"), acct.DefaultCurrency)
	assert.True(t, acct.ChargesEnabled)
	assert.True(t, acct.PayoutsEnabled)
	assert.True(t, acct.DetailsSubmitted)

	again, err := b.sc.V1Accounts.Retrieve(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, acct.ID, again.ID, "stable for a key")
	b.srv.Restart()
	after, err := b.env.client(testKey).V1Accounts.Retrieve(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, acct.ID, after.ID, "and across restarts")
	other, err := b.env.client("sk_test_someone_else").V1Accounts.Retrieve(ctx, nil)
	require.NoError(t, err)
	assert.NotEqual(t, acct.ID, other.ID, "each key is its own account")
	raw := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/account", Key: testKey})
	assert.NotContains(t, string(raw.Body), testKey)
}
