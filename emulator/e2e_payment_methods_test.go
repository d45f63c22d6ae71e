package emulator_test

// End-to-end tests of payment methods: Stripe's test ids, tokens and card
// numbers, attach and detach, a customer's payment methods, defaults and
// legacy card sources, driven with stripe-go. Every response goes through
// the conformance check, and the objects events carry are checked against
// their schemas too.

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

// customerPaymentMethods lists a customer's payment methods, newest first.
func (b *billingEnv) customerPaymentMethods(customer string) []*stripe.PaymentMethod {
	b.t.Helper()
	var out []*stripe.PaymentMethod
	for pm, err := range b.sc.V1Customers.ListPaymentMethods(b.t.Context(),
		&stripe.CustomerListPaymentMethodsParams{Customer: stripe.String(customer)}).All(b.t.Context()) {
		require.NoError(b.t, err)
		out = append(out, pm)
	}
	return out
}

func ids(pms []*stripe.PaymentMethod) []string {
	out := make([]string, len(pms))
	for i, pm := range pms {
		out[i] = pm.ID
	}
	return out
}

// eventsAbout returns the events whose object is id, oldest first, after
// checking every event object of the account against its schema.
func (b *billingEnv) eventsAbout(id string) []*stripe.Event {
	b.t.Helper()
	var out []*stripe.Event
	for _, ev := range b.events(nil) {
		b.checkEventObject(ev)
		if ev.Data.Object["id"] == id {
			out = append(out, ev)
		}
	}
	return out
}

// checkEventObject validates an event's data.object against the schema of
// its object type.
func (b *billingEnv) checkEventObject(ev *stripe.Event) {
	b.t.Helper()
	spec, err := loadSpec()
	require.NoError(b.t, err)
	object, _ := ev.Data.Object["object"].(string)
	schema := map[string]string{"test_helpers.test_clock": "test_helpers.test_clock"}[object]
	if schema == "" {
		schema = object
	}
	var v any
	require.NoError(b.t, json.Unmarshal(ev.Data.Raw, &v))
	assert.NoError(b.t, spec.ValidateSchema(schema, v), "%s %s: %s", ev.Type, ev.ID, ev.Data.Raw)
}

func TestPaymentMethodLifecycle(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)

	pm, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
		Card:           &stripe.PaymentMethodCreateCardParams{Token: stripe.String("tok_visa")},
		BillingDetails: &stripe.PaymentMethodCreateBillingDetailsParams{Name: stripe.String("Jenny Rosen")},
		Metadata:       map[string]string{"source": "test"}})
	require.NoError(t, err)
	assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, pm.ID)
	assert.Equal(t, stripe.PaymentMethodTypeCard, pm.Type)
	assert.Nil(t, pm.Customer)
	assert.Equal(t, "Jenny Rosen", pm.BillingDetails.Name)
	assert.Equal(t, "test", pm.Metadata["source"])
	assert.Equal(t, stripe.PaymentMethodCardBrand("visa"), pm.Card.Brand)
	assert.Equal(t, "4242", pm.Card.Last4)

	got, err := b.sc.V1PaymentMethods.Retrieve(ctx, pm.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, pm.ID, got.ID)
	assert.Equal(t, pm.Created, got.Created)

	// Stripe updates only payment methods saved to a customer.
	_, err = b.sc.V1PaymentMethods.Update(ctx, pm.ID, &stripe.PaymentMethodUpdateParams{Metadata: map[string]string{"a": "b"}})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You must save this PaymentMethod to a customer before you can update it.", se.Msg)

	attached, err := b.sc.V1PaymentMethods.Attach(ctx, pm.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.Equal(t, pm.ID, attached.ID, "attaching a stored payment method keeps its id")
	require.NotNil(t, attached.Customer)
	assert.Equal(t, cust.ID, attached.Customer.ID)

	upd, err := b.sc.V1PaymentMethods.Update(ctx, pm.ID, &stripe.PaymentMethodUpdateParams{
		BillingDetails: &stripe.PaymentMethodUpdateBillingDetailsParams{Email: stripe.String("jenny@example.com"),
			Address: &stripe.AddressParams{City: stripe.String("Berlin"), Country: stripe.String("DE")}},
		Card:     &stripe.PaymentMethodUpdateCardParams{ExpMonth: stripe.Int64(6), ExpYear: stripe.Int64(2031)},
		Metadata: map[string]string{"source": ""}})
	require.NoError(t, err)
	assert.Equal(t, "Jenny Rosen", upd.BillingDetails.Name, "fields not sent are kept")
	assert.Equal(t, "jenny@example.com", upd.BillingDetails.Email)
	assert.Equal(t, "Berlin", upd.BillingDetails.Address.City)
	assert.Equal(t, "DE", upd.BillingDetails.Address.Country)
	assert.EqualValues(t, 6, upd.Card.ExpMonth)
	assert.EqualValues(t, 2031, upd.Card.ExpYear)
	assert.Empty(t, upd.Metadata)

	// Listed with the customer, by both routes.
	assert.Equal(t, []string{pm.ID}, ids(b.customerPaymentMethods(cust.ID)))
	var listed []string
	for m, err := range b.sc.V1PaymentMethods.List(ctx, &stripe.PaymentMethodListParams{Customer: stripe.String(cust.ID),
		Type: stripe.String("card")}).All(ctx) {
		require.NoError(t, err)
		listed = append(listed, m.ID)
	}
	assert.Equal(t, []string{pm.ID}, listed)
	one, err := b.sc.V1Customers.RetrievePaymentMethod(ctx, pm.ID, &stripe.CustomerRetrievePaymentMethodParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.Equal(t, "jenny@example.com", one.BillingDetails.Email)
	other := b.bareCustomer("")
	_, err = b.sc.V1Customers.RetrievePaymentMethod(ctx, pm.ID, &stripe.CustomerRetrievePaymentMethodParams{Customer: stripe.String(other.ID)})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such PaymentMethod: '"+pm.ID+"'", se.Msg)

	// Attached elsewhere: refused.
	_, err = b.sc.V1PaymentMethods.Attach(ctx, pm.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(other.ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "The payment method you provided has already been attached to a customer.", se.Msg)

	det, err := b.sc.V1PaymentMethods.Detach(ctx, pm.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, det.Customer)
	assert.Empty(t, b.customerPaymentMethods(cust.ID))

	// A detached payment method is done with.
	_, err = b.sc.V1PaymentMethods.Detach(ctx, pm.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "The payment method "+pm.ID+" is not attached to a customer so detachment is impossible.", se.Msg)
	_, err = b.sc.V1PaymentMethods.Attach(ctx, pm.ID, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.", se.Msg)
	_, err = b.sc.V1PaymentIntents.Create(ctx, &stripe.PaymentIntentCreateParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd"),
		PaymentMethod: stripe.String(pm.ID), Confirm: stripe.Bool(true)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Contains(t, se.Msg, "It may not be used again.")

	// Events, in the customer's clock time once attached.
	evs := b.eventsAbout(pm.ID)
	assert.Equal(t, []string{"payment_method.attached", "payment_method.updated", "payment_method.detached"}, eventTypes(evs))
	for _, ev := range evs {
		assert.Equal(t, frozen0, ev.Created, "%s happens in the customer's time", ev.Type)
	}
	assert.Equal(t, "jenny@example.com", evs[1].Data.Object["billing_details"].(map[string]any)["email"])
	assert.Nil(t, evs[2].Data.Object["customer"])

	_, err = b.sc.V1PaymentMethods.Retrieve(ctx, "pm_nope", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such PaymentMethod: 'pm_nope'", se.Msg)
	assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)
}

// magicRow is one row of Stripe's test card table as a user checks it.
type magicRow struct {
	ids, tokens            []string
	number                 string
	brand, last4, funding  string
	country                string
	code, declineCode, msg string // set for cards declined when attached
	chargesFail            bool   // attaches fine, every charge declined
	needsAuth              bool
}

var magicRows = []magicRow{
	{ids: []string{"pm_card_visa"}, tokens: []string{"tok_visa"}, number: "4242424242424242", brand: "visa", last4: "4242", funding: "credit", country: "US"},
	{ids: []string{"pm_card_mastercard"}, tokens: []string{"tok_mastercard"}, number: "5555555555554444", brand: "mastercard", last4: "4444", funding: "credit", country: "US"},
	{ids: []string{"pm_card_amex"}, tokens: []string{"tok_amex"}, number: "378282246310005", brand: "amex", last4: "0005", funding: "credit", country: "US"},
	{ids: []string{"pm_card_visa_debit"}, tokens: []string{"tok_visa_debit"}, number: "4000056655665556", brand: "visa", last4: "5556", funding: "debit", country: "US"},
	{ids: []string{"pm_card_visa_chargeDeclined", "pm_card_chargeDeclined"}, tokens: []string{"tok_visa_chargeDeclined", "tok_chargeDeclined"},
		number: "4000000000000002", brand: "visa", last4: "0002", funding: "credit", country: "US",
		code: "card_declined", declineCode: "generic_decline", msg: "Your card was declined."},
	{ids: []string{"pm_card_visa_chargeDeclinedInsufficientFunds"}, tokens: []string{"tok_visa_chargeDeclinedInsufficientFunds"},
		number: "4000000000009995", brand: "visa", last4: "9995", funding: "credit", country: "US",
		code: "card_declined", declineCode: "insufficient_funds", msg: "Your card has insufficient funds."},
	{ids: []string{"pm_card_visa_chargeDeclinedLostCard"}, tokens: []string{"tok_visa_chargeDeclinedLostCard"},
		number: "4000000000009987", brand: "visa", last4: "9987", funding: "credit", country: "US",
		code: "card_declined", declineCode: "lost_card", msg: "Your card was declined."},
	{ids: []string{"pm_card_visa_chargeDeclinedStolenCard"}, tokens: []string{"tok_visa_chargeDeclinedStolenCard"},
		number: "4000000000009979", brand: "visa", last4: "9979", funding: "credit", country: "US",
		code: "card_declined", declineCode: "stolen_card", msg: "Your card was declined."},
	{ids: []string{"pm_card_chargeDeclinedExpiredCard", "pm_card_visa_chargeDeclinedExpiredCard"}, tokens: []string{"tok_chargeDeclinedExpiredCard"},
		number: "4000000000000069", brand: "visa", last4: "0069", funding: "credit", country: "US",
		code: "expired_card", declineCode: "expired_card", msg: "Your card has expired."},
	{ids: []string{"pm_card_chargeDeclinedIncorrectCvc", "pm_card_visa_chargeDeclinedIncorrectCvc"}, tokens: []string{"tok_chargeDeclinedIncorrectCvc"},
		number: "4000000000000127", brand: "visa", last4: "0127", funding: "credit", country: "US",
		code: "incorrect_cvc", declineCode: "incorrect_cvc", msg: "Your card's security code is incorrect."},
	{ids: []string{"pm_card_chargeDeclinedProcessingError", "pm_card_visa_chargeDeclinedProcessingError"}, tokens: []string{"tok_chargeDeclinedProcessingError"},
		number: "4000000000000119", brand: "visa", last4: "0119", funding: "credit", country: "US",
		code: "processing_error", declineCode: "processing_error", msg: "An error occurred while processing your card. Try again in a little bit."},
	{ids: []string{"pm_card_chargeCustomerFail"}, tokens: []string{"tok_chargeCustomerFail"},
		number: "4000000000000341", brand: "visa", last4: "0341", funding: "credit", country: "US", chargesFail: true},
	{ids: []string{"pm_card_authenticationRequired"}, tokens: []string{"tok_authenticationRequired"},
		number: "4000002760003184", brand: "visa", last4: "3184", funding: "credit", country: "DE", needsAuth: true},
}

func (r magicRow) checkCard(t *testing.T, pm *stripe.PaymentMethod) {
	t.Helper()
	require.NotNil(t, pm.Card)
	assert.Equal(t, stripe.PaymentMethodCardBrand(r.brand), pm.Card.Brand)
	assert.Equal(t, r.last4, pm.Card.Last4)
	assert.Equal(t, stripe.CardFunding(r.funding), pm.Card.Funding)
	assert.Equal(t, r.country, pm.Card.Country)
	assert.NotEmpty(t, pm.Card.Fingerprint)
	assert.NotContains(t, pm.Card.Fingerprint, r.last4)
}

// Every row of Stripe's test card table, by its magic ids, its tokens and
// its number: what attaching it does, and what it shows.
func TestMagicPaymentMethods(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	for _, row := range magicRows {
		t.Run(row.ids[0], func(t *testing.T) {
			cust := b.bareCustomer("")
			var kept []string
			for _, id := range row.ids {
				pm, err := b.sc.V1PaymentMethods.Attach(ctx, id, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
				if row.code != "" {
					se := stripeError(t, err, http.StatusPaymentRequired)
					assert.Equal(t, stripe.ErrorTypeCard, se.Type)
					assert.Equal(t, stripe.ErrorCode(row.code), se.Code)
					assert.Equal(t, stripe.DeclineCode(row.declineCode), se.DeclineCode)
					assert.Equal(t, row.msg, se.Msg)
					continue
				}
				require.NoError(t, err)
				assert.Regexp(t, `^pm_[0-9A-Za-z]{24}$`, pm.ID, "attaching %s makes a new payment method", id)
				assert.NotEqual(t, id, pm.ID)
				require.NotNil(t, pm.Customer)
				assert.Equal(t, cust.ID, pm.Customer.ID)
				row.checkCard(t, pm)
				kept = append(kept, pm.ID)
				// Again: another new one.
				again, err := b.sc.V1PaymentMethods.Attach(ctx, id, &stripe.PaymentMethodAttachParams{Customer: stripe.String(cust.ID)})
				require.NoError(t, err)
				assert.NotEqual(t, pm.ID, again.ID)
				kept = append(kept, again.ID)
			}
			// A declined card leaves nothing behind: no payment method, no
			// event.
			assert.ElementsMatch(t, kept, ids(b.customerPaymentMethods(cust.ID)))
			if row.code != "" {
				for _, ev := range b.events(nil) {
					if ev.Data.Object["customer"] == cust.ID {
						assert.NotEqual(t, "payment_method.attached", string(ev.Type))
					}
				}
			}

			// Tokens and numbers make payment methods of the same card, not
			// yet attached (so even the declining cards are made).
			for _, tok := range row.tokens {
				pm, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
					Card: &stripe.PaymentMethodCreateCardParams{Token: stripe.String(tok)}})
				require.NoError(t, err, tok)
				row.checkCard(t, pm)
				assert.EqualValues(t, 12, pm.Card.ExpMonth)
				assert.EqualValues(t, 2034, pm.Card.ExpYear)
			}
			pm, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
				Card: &stripe.PaymentMethodCreateCardParams{Number: stripe.String(row.number), ExpMonth: stripe.Int64(4),
					ExpYear: stripe.Int64(2030), CVC: stripe.String("123")}})
			require.NoError(t, err)
			row.checkCard(t, pm)
			assert.EqualValues(t, 4, pm.Card.ExpMonth)
			assert.EqualValues(t, 2030, pm.Card.ExpYear)

			// Reading a magic id gives a new payment method of the card too.
			got, err := b.sc.V1PaymentMethods.Retrieve(ctx, row.ids[0], nil)
			require.NoError(t, err)
			row.checkCard(t, got)
			assert.NotEqual(t, row.ids[0], got.ID)
			again, err := b.sc.V1PaymentMethods.Retrieve(ctx, got.ID, nil)
			require.NoError(t, err)
			assert.Equal(t, got.ID, again.ID)
		})
	}
}

func TestPaymentMethodCreateErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	create := func(card *stripe.PaymentMethodCreateCardParams) error {
		_, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"), Card: card})
		return err
	}
	se := stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Token: stripe.String("tok_nope")}), http.StatusNotFound)
	assert.Equal(t, "No such token: 'tok_nope'", se.Msg)

	se = stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Number: stripe.String("4242424242424241"),
		ExpMonth: stripe.Int64(1), ExpYear: stripe.Int64(2030)}), http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("incorrect_number"), se.Code)
	assert.Equal(t, "Your card number is incorrect.", se.Msg)
	assert.NotContains(t, se.Msg, "424242", "errors never repeat a card number")

	// A valid number that is not a test card is a live card.
	se = stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Number: stripe.String("4111111111111111"),
		ExpMonth: stripe.Int64(1), ExpYear: stripe.Int64(2030)}), http.StatusPaymentRequired)
	assert.Equal(t, stripe.DeclineCode("test_mode_live_card"), se.DeclineCode)
	assert.NotContains(t, se.Msg, "4111111111111111")

	se = stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Number: stripe.String("4242424242424242"),
		ExpMonth: stripe.Int64(13), ExpYear: stripe.Int64(2030)}), http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("invalid_expiry_month"), se.Code)
	se = stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Number: stripe.String("4242424242424242"),
		ExpMonth: stripe.Int64(1), ExpYear: stripe.Int64(2001)}), http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("invalid_expiry_year"), se.Code)
	se = stripeError(t, create(&stripe.PaymentMethodCreateCardParams{Number: stripe.String("4242424242424242")}), http.StatusBadRequest)
	assert.Equal(t, "card[exp_month]", se.Param)
	se = stripeError(t, create(nil), http.StatusBadRequest)
	assert.Equal(t, "Missing required param: card.", se.Msg)

	_, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("sepa_debit")})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "type", se.Param)

	_, err = b.sc.V1PaymentMethods.Attach(ctx, "pm_card_visa", &stripe.PaymentMethodAttachParams{})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "Missing required param: customer.", se.Msg)
	_, err = b.sc.V1PaymentMethods.Attach(ctx, "pm_card_visa", &stripe.PaymentMethodAttachParams{Customer: stripe.String("cus_nope")})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "customer", se.Param)
	assert.Equal(t, "No such customer: 'cus_nope'", se.Msg)

	// Nothing above stored a payment method.
	var n int
	for _, err := range b.sc.V1PaymentMethods.List(ctx, &stripe.PaymentMethodListParams{}).All(ctx) {
		require.NoError(t, err)
		n++
	}
	assert.Zero(t, n)
}

func TestCustomerDefaultPaymentMethods(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)

	// payment_method=pm_card_visa attaches a new copy, which billclock also
	// makes the default.
	cust, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID),
		PaymentMethod: stripe.String("pm_card_visa")})
	require.NoError(t, err)
	require.NotNil(t, cust.InvoiceSettings.DefaultPaymentMethod)
	visa := cust.InvoiceSettings.DefaultPaymentMethod.ID
	assert.Equal(t, []string{visa}, ids(b.customerPaymentMethods(cust.ID)))

	// Expanded, it is the payment method.
	p := &stripe.CustomerRetrieveParams{}
	p.AddExpand("invoice_settings.default_payment_method")
	got, err := b.sc.V1Customers.Retrieve(ctx, cust.ID, p)
	require.NoError(t, err)
	require.NotNil(t, got.InvoiceSettings.DefaultPaymentMethod.Card)
	assert.Equal(t, "4242", got.InvoiceSettings.DefaultPaymentMethod.Card.Last4)
	assert.Equal(t, frozen0, got.InvoiceSettings.DefaultPaymentMethod.Created, "made in the customer's time")

	// A magic id as the default attaches another copy.
	upd, err := b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String("pm_card_mastercard")}})
	require.NoError(t, err)
	mc := upd.InvoiceSettings.DefaultPaymentMethod.ID
	assert.NotEqual(t, visa, mc)
	assert.ElementsMatch(t, []string{visa, mc}, ids(b.customerPaymentMethods(cust.ID)))

	// A stored one must be attached to the customer.
	loose, err := b.sc.V1PaymentMethods.Create(ctx, &stripe.PaymentMethodCreateParams{Type: stripe.String("card"),
		Card: &stripe.PaymentMethodCreateCardParams{Token: stripe.String("tok_amex")}})
	require.NoError(t, err)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(loose.ID)}})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "invoice_settings[default_payment_method]", se.Param)
	assert.Equal(t, "The customer does not have a payment method with the ID "+loose.ID+". The payment method must be attached to the customer.", se.Msg)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String("pm_nope")}})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "invoice_settings[default_payment_method]", se.Param)
	// Back to the first one, which is attached.
	upd, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(visa)}})
	require.NoError(t, err)
	assert.Equal(t, visa, upd.InvoiceSettings.DefaultPaymentMethod.ID)

	// A declining card as the default is refused, and nothing changes.
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String("pm_card_visa_chargeDeclined")}})
	se = stripeError(t, err, http.StatusPaymentRequired)
	assert.Equal(t, stripe.DeclineCode("generic_decline"), se.DeclineCode)
	assert.Len(t, b.customerPaymentMethods(cust.ID), 2)

	// Detaching the default leaves the customer without one.
	_, err = b.sc.V1PaymentMethods.Detach(ctx, visa, nil)
	require.NoError(t, err)
	got, err = b.sc.V1Customers.Retrieve(ctx, cust.ID, nil)
	require.NoError(t, err)
	assert.Nil(t, got.InvoiceSettings.DefaultPaymentMethod)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{
		InvoiceSettings: &stripe.CustomerUpdateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(visa)}})
	stripeError(t, err, http.StatusBadRequest)

	// Subscriptions take a default too, and magic ids attach a copy.
	price := b.price("Plan", 1000, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.DefaultPaymentMethod = stripe.String("pm_card_amex")
		p.AddExpand("default_payment_method")
	})
	require.NotNil(t, sub.DefaultPaymentMethod)
	require.NotNil(t, sub.DefaultPaymentMethod.Card, "expanded")
	assert.Equal(t, stripe.PaymentMethodCardBrand("amex"), sub.DefaultPaymentMethod.Card.Brand)
	require.NotNil(t, sub.DefaultPaymentMethod.Customer)
	assert.Equal(t, cust.ID, sub.DefaultPaymentMethod.Customer.ID)
	subUpd, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{DefaultPaymentMethod: stripe.String(mc)})
	require.NoError(t, err)
	assert.Equal(t, mc, subUpd.DefaultPaymentMethod.ID)
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{DefaultPaymentMethod: stripe.String(loose.ID)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "default_payment_method", se.Param)
	subUpd, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{DefaultPaymentMethod: stripe.String("")})
	require.NoError(t, err)
	assert.Nil(t, subUpd.DefaultPaymentMethod)

	// A fresh customer can have the payment method it is given as default.
	c2, err := b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{PaymentMethod: stripe.String(loose.ID),
		InvoiceSettings: &stripe.CustomerCreateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(loose.ID)}})
	require.NoError(t, err)
	assert.Equal(t, loose.ID, c2.InvoiceSettings.DefaultPaymentMethod.ID)
	// ... but not another customer's.
	_, err = b.sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{PaymentMethod: stripe.String(mc)})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "The payment method you provided has already been attached to a customer.", se.Msg)
}

func TestCustomerSources(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()

	p := &stripe.CustomerCreateParams{Source: stripe.String("tok_visa")}
	p.AddExpand("default_source")
	cust, err := b.sc.V1Customers.Create(ctx, p)
	require.NoError(t, err)
	require.NotNil(t, cust.DefaultSource)
	require.NotNil(t, cust.DefaultSource.Card, "expanded: a card")
	first := cust.DefaultSource.ID
	assert.Regexp(t, `^card_[0-9A-Za-z]{24}$`, first)
	assert.Equal(t, stripe.CardBrand("Visa"), cust.DefaultSource.Card.Brand)
	assert.Equal(t, "4242", cust.DefaultSource.Card.Last4)
	assert.Nil(t, cust.InvoiceSettings.DefaultPaymentMethod, "a source is not a default payment method")

	list := func() []string {
		var out []string
		for s, err := range b.sc.V1PaymentSources.List(ctx, &stripe.PaymentSourceListParams{Customer: stripe.String(cust.ID)}).All(ctx) {
			require.NoError(t, err)
			out = append(out, s.ID)
		}
		return out
	}
	assert.Equal(t, []string{first}, list())
	src, err := b.sc.V1PaymentSources.Retrieve(ctx, first, &stripe.PaymentSourceRetrieveParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	require.NotNil(t, src.Card)
	assert.Equal(t, stripe.CardFunding("credit"), src.Card.Funding)

	// A new source replaces the default, which is deleted.
	up := &stripe.CustomerUpdateParams{Source: stripe.String("tok_mastercard")}
	upd, err := b.sc.V1Customers.Update(ctx, cust.ID, up)
	require.NoError(t, err)
	second := upd.DefaultSource.ID
	assert.NotEqual(t, first, second)
	assert.Equal(t, []string{second}, list())
	_, err = b.sc.V1PaymentSources.Retrieve(ctx, first, &stripe.PaymentSourceRetrieveParams{Customer: stripe.String(cust.ID)})
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such source: '"+first+"'", se.Msg)

	// Declined cards are refused as sources, and nothing is kept.
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Source: stripe.String("tok_chargeDeclinedExpiredCard")})
	se = stripeError(t, err, http.StatusPaymentRequired)
	assert.Equal(t, stripe.ErrorCode("expired_card"), se.Code)
	assert.Equal(t, []string{second}, list())
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Source: stripe.String("tok_nope")})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such token: 'tok_nope'", se.Msg)

	// default_source takes one of the customer's sources only.
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{DefaultSource: stripe.String(first)})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "default_source", se.Param)

	// The source is a payment method to the payment method API too.
	pm, err := b.sc.V1PaymentMethods.Retrieve(ctx, second, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentMethodCardBrand("mastercard"), pm.Card.Brand)

	evs := b.eventsAbout(second)
	assert.Equal(t, []string{"customer.source.created"}, eventTypes(evs))
	assert.Equal(t, []string{"customer.source.created", "customer.source.deleted"}, eventTypes(b.eventsAbout(first)))
	assert.True(t, strings.HasPrefix(evs[0].Data.Object["id"].(string), "card_"))
}
