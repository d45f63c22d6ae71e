package emulator_test

// End-to-end tests of SetupIntents: a customer's card saved for later,
// checked as attaching it checks it, with the test card deciding the
// outcome, as a user reads it with stripe-go.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// setupIntent retrieves a SetupIntent.
func (b *billingEnv) setupIntent(id string) *stripe.SetupIntent {
	b.t.Helper()
	si, err := b.sc.V1SetupIntents.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return si
}

// setupIntents lists SetupIntents with the auto-pager, newest first.
func (b *billingEnv) setupIntents(p *stripe.SetupIntentListParams) []string {
	b.t.Helper()
	var out []string
	for si, err := range b.sc.V1SetupIntents.List(b.t.Context(), p).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, si.ID)
	}
	return out
}

func TestSetupIntentSavesCardOnClock(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)

	si, err := b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{
		Customer: stripe.String(cust.ID), Description: stripe.String("save for renewals"),
		Metadata: map[string]string{"plan": "pro"},
	})
	require.NoError(t, err)
	assert.Regexp(t, `^seti_[0-9A-Za-z]{24}$`, si.ID)
	assert.Equal(t, stripe.SetupIntentStatusRequiresPaymentMethod, si.Status)
	assert.Equal(t, frozen0, si.Created, "a clock customer's SetupIntent lives in the clock's time")
	assert.Equal(t, stripe.SetupIntentUsageOffSession, si.Usage)
	assert.True(t, strings.HasPrefix(si.ClientSecret, si.ID+"_secret_"))
	assert.Equal(t, cust.ID, si.Customer.ID)
	assert.Nil(t, si.PaymentMethod)
	assert.Equal(t, []string{"card"}, si.PaymentMethodTypes)
	require.NotNil(t, si.AutomaticPaymentMethods, "no payment_method_types: the account's automatic payment methods")
	assert.True(t, si.AutomaticPaymentMethods.Enabled)
	assert.Equal(t, "save for renewals", si.Description)
	assert.Equal(t, "pro", si.Metadata["plan"])

	// Confirming without a payment method is refused, with the SetupIntent.
	_, err = b.sc.V1SetupIntents.Confirm(ctx, si.ID, nil)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodeSetupIntentUnexpectedState, se.Code)
	assert.Equal(t, "You cannot confirm this SetupIntent because it's missing a payment method. You can either update the "+
		"SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.", se.Msg)
	require.NotNil(t, se.SetupIntent)
	assert.Equal(t, si.ID, se.SetupIntent.ID)

	b.advance(clock.ID, frozen0+86400)
	ok, err := b.sc.V1SetupIntents.Confirm(ctx, si.ID, &stripe.SetupIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
	require.NoError(t, err)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, ok.Status)
	require.NotNil(t, ok.PaymentMethod)
	assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, ok.PaymentMethod.ID, "the test id makes a new payment method")
	assert.Nil(t, ok.LastSetupError)
	assert.Nil(t, ok.NextAction)

	// The card is now the customer's.
	pm, err := b.sc.V1PaymentMethods.Retrieve(ctx, ok.PaymentMethod.ID, nil)
	require.NoError(t, err)
	require.NotNil(t, pm.Customer)
	assert.Equal(t, cust.ID, pm.Customer.ID)
	assert.Equal(t, []string{pm.ID}, ids(b.customerPaymentMethods(cust.ID)))

	assert.Equal(t, []string{"setup_intent.created", "setup_intent.succeeded"}, eventTypes(b.eventsAbout(si.ID)))
	attached := b.eventsAbout(pm.ID)
	assert.Equal(t, []string{"payment_method.attached"}, eventTypes(attached))
	for _, ev := range append(b.eventsAbout(si.ID), attached...) {
		want := frozen0
		if ev.Type != "setup_intent.created" {
			want = frozen0 + 86400
		}
		assert.Equal(t, want, ev.Created, "%s happens in the clock's time", ev.Type)
	}
	// The attachment comes before the success it makes.
	var order []string
	for _, ev := range b.events(nil) {
		if ev.Type == "payment_method.attached" || ev.Type == "setup_intent.succeeded" {
			order = append(order, string(ev.Type))
		}
	}
	assert.Equal(t, []string{"payment_method.attached", "setup_intent.succeeded"}, order)

	// A SetupIntent that succeeded cannot be confirmed again or canceled.
	_, err = b.sc.V1SetupIntents.Confirm(ctx, si.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You cannot confirm this SetupIntent because it has already succeeded after being previously confirmed.", se.Msg)
	_, err = b.sc.V1SetupIntents.Cancel(ctx, si.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodeSetupIntentUnexpectedState, se.Code)
	assert.Equal(t, "You cannot cancel this SetupIntent because it has a status of succeeded. Only a SetupIntent with one of the "+
		"following statuses may be canceled: requires_payment_method, requires_confirmation, requires_action.", se.Msg)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, se.SetupIntent.Status)

	// The saved card pays the customer's subscription.
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(pm.ID)}})
	require.NoError(t, err)
	sub := b.subscribe(cust.ID, b.price("Pro", 1500, stripe.PriceRecurringIntervalMonth).ID, 1, nil)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	assert.Equal(t, stripe.InvoiceStatusPaid, b.latestInvoice(sub.ID).Status)
}

// Each test card, confirmed at creation: the outcome Stripe gives, and
// what is kept.
func TestSetupIntentCards(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	for _, row := range magicRows {
		t.Run(row.ids[0], func(t *testing.T) {
			cust := b.bareCustomer("")
			si, err := b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{Customer: stripe.String(cust.ID),
				PaymentMethod: stripe.String(row.ids[0]), Confirm: stripe.Bool(true),
				PaymentMethodTypes: []*string{stripe.String("card")}})
			switch {
			case row.code != "":
				// Declined as attaching declines it: a 402 carrying the
				// SetupIntent, which is kept waiting for another card.
				se := stripeError(t, err, http.StatusPaymentRequired)
				assert.Equal(t, stripe.ErrorTypeCard, se.Type)
				assert.Equal(t, stripe.ErrorCode(row.code), se.Code)
				assert.Equal(t, stripe.DeclineCode(row.declineCode), se.DeclineCode)
				assert.Equal(t, row.msg, se.Msg)
				require.NotNil(t, se.SetupIntent)
				require.NotNil(t, se.PaymentMethod)
				assert.Equal(t, row.last4, se.PaymentMethod.Card.Last4)
				kept := b.setupIntent(se.SetupIntent.ID)
				assert.Equal(t, stripe.SetupIntentStatusRequiresPaymentMethod, kept.Status)
				assert.Nil(t, kept.PaymentMethod)
				require.NotNil(t, kept.LastSetupError)
				assert.Equal(t, stripe.ErrorCode(row.code), kept.LastSetupError.Code)
				assert.Equal(t, stripe.DeclineCode(row.declineCode), kept.LastSetupError.DeclineCode)
				assert.Equal(t, row.msg, kept.LastSetupError.Msg)
				assert.Equal(t, stripe.ErrorTypeCard, kept.LastSetupError.Type)
				assert.Equal(t, se.PaymentMethod.ID, kept.LastSetupError.PaymentMethod.ID)
				assert.Empty(t, b.customerPaymentMethods(cust.ID), "a declined card is not attached")
				assert.Equal(t, []string{"setup_intent.created", "setup_intent.setup_failed"}, eventTypes(b.eventsAbout(kept.ID)))

				// Another card saves it.
				ok, err := b.sc.V1SetupIntents.Confirm(ctx, kept.ID, &stripe.SetupIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
				require.NoError(t, err)
				assert.Equal(t, stripe.SetupIntentStatusSucceeded, ok.Status)
				assert.Nil(t, ok.LastSetupError)
				assert.Len(t, b.customerPaymentMethods(cust.ID), 1)
			case row.needsAuth:
				require.NoError(t, err)
				assert.Equal(t, stripe.SetupIntentStatusRequiresAction, si.Status)
				require.NotNil(t, si.NextAction)
				assert.Equal(t, stripe.SetupIntentNextActionType("use_stripe_sdk"), si.NextAction.Type)
				assert.Nil(t, si.LastSetupError)
				assert.Empty(t, b.customerPaymentMethods(cust.ID), "nothing is saved until the customer authenticates")
				assert.Equal(t, []string{"setup_intent.created", "setup_intent.requires_action"}, eventTypes(b.eventsAbout(si.ID)))
				// billclock has no customer to authenticate: cancel it.
				canceled, err := b.sc.V1SetupIntents.Cancel(ctx, si.ID, &stripe.SetupIntentCancelParams{
					CancellationReason: stripe.String("abandoned")})
				require.NoError(t, err)
				assert.Equal(t, stripe.SetupIntentStatusCanceled, canceled.Status)
				assert.Equal(t, stripe.SetupIntentCancellationReasonAbandoned, canceled.CancellationReason)
				assert.Nil(t, canceled.NextAction)
				assert.Equal(t, []string{"setup_intent.created", "setup_intent.requires_action", "setup_intent.canceled"},
					eventTypes(b.eventsAbout(si.ID)))
			default:
				// Including the card whose charges fail: it is saved fine.
				require.NoError(t, err)
				assert.Equal(t, stripe.SetupIntentStatusSucceeded, si.Status)
				assert.Nil(t, si.AutomaticPaymentMethods, "payment_method_types given")
				saved := b.customerPaymentMethods(cust.ID)
				require.Len(t, saved, 1)
				assert.Equal(t, si.PaymentMethod.ID, saved[0].ID)
				assert.Equal(t, row.last4, saved[0].Card.Last4)
			}
		})
	}
}

// A SetupIntent of no customer checks the card and attaches it to no one;
// one for a customer may only take a card that is not someone else's.
func TestSetupIntentWithoutCustomer(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	si, err := b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{PaymentMethod: stripe.String("pm_card_mastercard"),
		Usage: stripe.String("on_session")})
	require.NoError(t, err)
	assert.Equal(t, stripe.SetupIntentStatusRequiresConfirmation, si.Status)
	assert.Equal(t, stripe.SetupIntentUsageOnSession, si.Usage)
	assert.Nil(t, si.Customer)
	ok, err := b.sc.V1SetupIntents.Confirm(ctx, si.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, ok.Status)
	pm, err := b.sc.V1PaymentMethods.Retrieve(ctx, ok.PaymentMethod.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, pm.Customer)
	assert.Greater(t, si.Created, int64(1700000000), "no clock: wall time")

	// A card attached to another customer.
	owner := b.customer("")
	theirs := b.customerPaymentMethods(owner.ID)[0]
	other := b.bareCustomer("")
	_, err = b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{Customer: stripe.String(other.ID),
		PaymentMethod: stripe.String(theirs.ID)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "payment_method", se.Param)
}

func TestSetupIntentUpdateListAndErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	a, c := b.bareCustomer(""), b.bareCustomer("")
	si1, err := b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{Customer: stripe.String(a.ID)})
	require.NoError(t, err)
	si2, err := b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{})
	require.NoError(t, err)

	// Update: the customer once, a payment method, metadata.
	up, err := b.sc.V1SetupIntents.Update(ctx, si2.ID, &stripe.SetupIntentUpdateParams{Customer: stripe.String(c.ID),
		PaymentMethod: stripe.String("pm_card_visa"), Metadata: map[string]string{"k": "v"}})
	require.NoError(t, err)
	assert.Equal(t, c.ID, up.Customer.ID)
	assert.Equal(t, stripe.SetupIntentStatusRequiresConfirmation, up.Status)
	assert.Equal(t, "v", up.Metadata["k"])
	_, err = b.sc.V1SetupIntents.Update(ctx, si2.ID, &stripe.SetupIntentUpdateParams{Customer: stripe.String(a.ID)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "customer", se.Param)
	assert.Equal(t, "You cannot modify `customer` on a SetupIntent once it already has been set. "+
		"To use a different Customer, cancel this SetupIntent and create a new one.", se.Msg)
	done, err := b.sc.V1SetupIntents.Confirm(ctx, si2.ID, nil)
	require.NoError(t, err)
	_, err = b.sc.V1SetupIntents.Update(ctx, si2.ID, &stripe.SetupIntentUpdateParams{PaymentMethod: stripe.String("pm_card_visa")})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCodeSetupIntentUnexpectedState, se.Code)
	assert.Equal(t, "payment_method", se.Param)

	// List: newest first, by customer and by payment method.
	assert.Equal(t, []string{si2.ID, si1.ID}, b.setupIntents(nil))
	assert.Equal(t, []string{si1.ID}, b.setupIntents(&stripe.SetupIntentListParams{Customer: stripe.String(a.ID)}))
	assert.Equal(t, []string{si2.ID}, b.setupIntents(&stripe.SetupIntentListParams{PaymentMethod: stripe.String(done.PaymentMethod.ID)}))
	assert.Empty(t, b.setupIntents(&stripe.SetupIntentListParams{PaymentMethod: stripe.String("pm_nope")}))

	// Expand, client_secret, and the errors of bad requests.
	got, err := b.sc.V1SetupIntents.Retrieve(ctx, si2.ID, &stripe.SetupIntentRetrieveParams{
		Params: stripe.Params{Expand: []*string{stripe.String("customer"), stripe.String("payment_method")}}})
	require.NoError(t, err)
	assert.Equal(t, c.Email, got.Customer.Email)
	assert.Equal(t, "4242", got.PaymentMethod.Card.Last4)
	r := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/setup_intents/" + si2.ID + "?client_secret=" + si2.ClientSecret, Key: testKey})
	assert.Equal(t, http.StatusOK, r.Status)
	r = b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/setup_intents/" + si2.ID + "?client_secret=seti_x_secret_y", Key: testKey})
	assert.Equal(t, "client_secret", r.apiError(t, http.StatusBadRequest).Param)
	_, err = b.sc.V1SetupIntents.Retrieve(ctx, "seti_nope", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such setupintent: 'seti_nope'", se.Msg)
	_, err = b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{Customer: stripe.String("cus_nope")})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "customer", se.Param)
	_, err = b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{PaymentMethodTypes: []*string{stripe.String("sepa_debit")}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "payment_method_types", se.Param)
	_, err = b.sc.V1SetupIntents.Create(ctx, &stripe.SetupIntentCreateParams{PaymentMethodTypes: []*string{stripe.String("card")},
		AutomaticPaymentMethods: &stripe.SetupIntentCreateAutomaticPaymentMethodsParams{Enabled: stripe.Bool(true)}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.", se.Msg)
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/setup_intents", Key: testKey, Body: "usage=sometimes"})
	assert.Equal(t, "usage", r.apiError(t, http.StatusBadRequest).Param)
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/setup_intents", Key: testKey, Body: "bogus=1"})
	assert.Equal(t, "Received unknown parameter: bogus", r.apiError(t, http.StatusBadRequest).Message)
}

// A declined confirmation replays the same 402 under its idempotency key,
// and is not confirmed again.
func TestSetupIntentDeclineReplays(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	body := "confirm=true&payment_method=pm_card_chargeDeclined"
	hdr := map[string]string{"Idempotency-Key": "setup-once"}
	first := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/setup_intents", Key: testKey, Body: body, Header: hdr})
	require.Equal(t, http.StatusPaymentRequired, first.Status, "%s", first.Body)
	again := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/setup_intents", Key: testKey, Body: body, Header: hdr})
	assert.Equal(t, http.StatusPaymentRequired, again.Status)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, string(first.Body), string(again.Body))
	assert.Len(t, b.setupIntents(nil), 1)
}
