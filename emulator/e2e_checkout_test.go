package emulator_test

// Checkout Sessions end to end: the API with stripe-go (every response
// checked against Stripe's spec by the conformance transport), the Checkout
// page over plain HTTP, and the control route that completes a session
// without a browser.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// pageClient fetches billclock's pages as a browser would: no API key,
// and redirects not followed, so that a test sees where it is sent.
func pageClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// page is an answer of one of billclock's pages.
type page struct {
	Status int
	Header http.Header
	Body   string
}

func getPage(t *testing.T, u string) page {
	t.Helper()
	resp, err := pageClient().Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{resp.StatusCode, resp.Header, string(b)}
}

func postPage(t *testing.T, u string, form url.Values) page {
	t.Helper()
	resp, err := pageClient().PostForm(u, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return page{resp.StatusCode, resp.Header, string(b)}
}

// completeCheckout completes a session through the control route with
// form (card, email, ...), and returns the answer's status and body. The
// body of a 200 is checked against Stripe's checkout.session schema, and
// an error against its error envelope.
func (b *billingEnv) completeCheckout(id string, form url.Values) (int, map[string]any) {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.srv.URL()+"/_billclock/checkout/sessions/"+id+"/complete",
		strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	spec, err := loadSpec()
	require.NoError(b.t, err)
	schema := "checkout.session"
	if resp.StatusCode != http.StatusOK {
		schema = "error"
	}
	require.NoError(b.t, spec.ValidateSchema(schema, json.RawMessage(body)), "body: %s", body)
	var m map[string]any
	require.NoError(b.t, json.Unmarshal(body, &m))
	return resp.StatusCode, m
}

func (b *billingEnv) checkoutSession(id string) *stripe.CheckoutSession {
	b.t.Helper()
	cs, err := b.sc.V1CheckoutSessions.Retrieve(b.t.Context(), id, nil)
	require.NoError(b.t, err)
	return cs
}

// subscriptionSession creates a subscription-mode session of qty × price
// (adjustable from 1 to 10) for customer, or for a new customer given by
// email when customer is "".
func (b *billingEnv) subscriptionSession(price string, qty int64, customer string, edit func(*stripe.CheckoutSessionCreateParams)) *stripe.CheckoutSession {
	b.t.Helper()
	p := &stripe.CheckoutSessionCreateParams{
		Mode:       stripe.String("subscription"),
		SuccessURL: stripe.String("https://example.com/success?session_id={CHECKOUT_SESSION_ID}"),
		CancelURL:  stripe.String("https://example.com/cancel"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price), Quantity: stripe.Int64(qty),
			AdjustableQuantity: &stripe.CheckoutSessionCreateLineItemAdjustableQuantityParams{Enabled: stripe.Bool(true),
				Minimum: stripe.Int64(1), Maximum: stripe.Int64(10)}}},
		ClientReferenceID: stripe.String("user-42"),
		Metadata:          map[string]string{"order": "o-1"},
	}
	if customer != "" {
		p.Customer = stripe.String(customer)
	} else {
		p.CustomerEmail = stripe.String("new@example.com")
	}
	if edit != nil {
		edit(p)
	}
	cs, err := b.sc.V1CheckoutSessions.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return cs
}

func TestCheckoutSubscriptionSession(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 1500, stripe.PriceRecurringIntervalMonth)
	cs := b.subscriptionSession(price.ID, 3, "", nil)

	assert.Equal(t, stripe.CheckoutSessionStatusOpen, cs.Status)
	assert.Equal(t, stripe.CheckoutSessionPaymentStatusUnpaid, cs.PaymentStatus)
	assert.Equal(t, stripe.CheckoutSessionModeSubscription, cs.Mode)
	assert.Equal(t, int64(4500), cs.AmountSubtotal)
	assert.Equal(t, int64(4500), cs.AmountTotal)
	assert.Equal(t, "usd", string(cs.Currency))
	assert.Equal(t, cs.Created+86400, cs.ExpiresAt, "a session expires 24 hours after it is made")
	assert.Equal(t, "new@example.com", cs.CustomerEmail)
	assert.Equal(t, "user-42", cs.ClientReferenceID)
	assert.Nil(t, cs.Customer)
	require.True(t, strings.HasPrefix(cs.URL, b.srv.URL()+"/c/pay/test_"), "url %q", cs.URL)
	assert.True(t, strings.HasPrefix(cs.ID, "cs_test_"), cs.ID)

	var items []*stripe.LineItem
	for li, err := range b.sc.V1CheckoutSessions.ListLineItems(t.Context(), &stripe.CheckoutSessionListLineItemsParams{
		Session: stripe.String(cs.ID)}).All(t.Context()) {
		require.NoError(t, err)
		items = append(items, li)
	}
	require.Len(t, items, 1)
	assert.Equal(t, int64(3), items[0].Quantity)
	assert.Equal(t, int64(4500), items[0].AmountTotal)
	assert.Equal(t, price.ID, items[0].Price.ID)
	assert.Equal(t, "Seat", items[0].Description)

	// The page, without a key.
	pg := getPage(t, cs.URL)
	require.Equal(t, http.StatusOK, pg.Status, pg.Body)
	assert.Contains(t, pg.Header.Get("Content-Type"), "text/html")
	assert.Contains(t, pg.Body, "Seat")
	assert.Contains(t, pg.Body, "$45.00")
	assert.Contains(t, pg.Body, "Subscribe")

	// Pay with 4242 on the page, choosing 4 seats.
	resp := postPage(t, cs.URL, url.Values{"card": {"4242 4242 4242 4242"}, "exp": {"12 / 34"}, "cvc": {"123"},
		"name": {"Jenny Rosen"}, "quantity_0": {"4"}})
	require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
	assert.Equal(t, "https://example.com/success?session_id="+cs.ID, resp.Header.Get("Location"))

	done := b.checkoutSession(cs.ID)
	assert.Equal(t, stripe.CheckoutSessionStatusComplete, done.Status)
	assert.Equal(t, stripe.CheckoutSessionPaymentStatusPaid, done.PaymentStatus)
	assert.Empty(t, done.URL, "a complete session has no url")
	assert.Equal(t, int64(6000), done.AmountTotal)
	require.NotNil(t, done.Customer)
	require.NotNil(t, done.Subscription)
	require.NotNil(t, done.Invoice)
	require.NotNil(t, done.CustomerDetails)
	assert.Equal(t, "new@example.com", done.CustomerDetails.Email)
	assert.Equal(t, "Jenny Rosen", done.CustomerDetails.Name)

	cust, err := b.sc.V1Customers.Retrieve(t.Context(), done.Customer.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "new@example.com", cust.Email)
	sub := b.subscription(done.Subscription.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	require.Len(t, sub.Items.Data, 1)
	assert.Equal(t, int64(4), sub.Items.Data[0].Quantity)
	require.NotNil(t, sub.DefaultPaymentMethod, "Checkout saves the card as the subscription's default")
	pm, err := b.sc.V1PaymentMethods.Retrieve(t.Context(), sub.DefaultPaymentMethod.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "4242", pm.Card.Last4)
	assert.Equal(t, cust.ID, pm.Customer.ID)
	inv := b.invoice(done.Invoice.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.Equal(t, int64(6000), inv.AmountPaid)

	// The same events as the API's calls, then checkout.session.completed.
	types := eventTypes(b.events(nil))
	for _, want := range []string{"customer.created", "payment_method.attached", "customer.subscription.created",
		"invoice.paid", "checkout.session.completed"} {
		assert.Contains(t, types, want)
	}
	assert.Equal(t, "checkout.session.completed", types[len(types)-1])
	evs := b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.completed")})
	require.Len(t, evs, 1)
	assert.Equal(t, cs.ID, evs[0].Data.Object["id"])
	assert.Equal(t, "complete", evs[0].Data.Object["status"])

	// A complete session cannot be paid again, nor expired.
	again := postPage(t, cs.URL, url.Values{"card": {"4242424242424242"}})
	assert.Equal(t, http.StatusBadRequest, again.Status)
	assert.Contains(t, again.Body, "complete")
	_, err = b.sc.V1CheckoutSessions.Expire(t.Context(), cs.ID, nil)
	stripeError(t, err, http.StatusBadRequest)

	// Lists and their filters.
	var listed []string
	for s, err := range b.sc.V1CheckoutSessions.List(t.Context(), &stripe.CheckoutSessionListParams{
		Subscription: stripe.String(sub.ID)}).All(t.Context()) {
		require.NoError(t, err)
		listed = append(listed, s.ID)
	}
	assert.Equal(t, []string{cs.ID}, listed)
	for s, err := range b.sc.V1CheckoutSessions.List(t.Context(), &stripe.CheckoutSessionListParams{
		Status: stripe.String("open")}).All(t.Context()) {
		require.NoError(t, err)
		t.Errorf("no session is open, listed %s", s.ID)
	}
}

func TestCheckoutDeclinesShowStripesMessage(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 1500, stripe.PriceRecurringIntervalMonth)
	cs := b.subscriptionSession(price.ID, 1, "", nil)
	for _, c := range []struct{ card, message string }{
		{"4000 0000 0000 0002", "Your card was declined."},
		{"4000000000009995", "Your card has insufficient funds."},
		// Attaches, then the first invoice's charge is declined.
		{"4000 0000 0000 0341", "Your card was declined."},
		{"4242 4242 4242 4241", "Your card number is incorrect."},
	} {
		pg := postPage(t, cs.URL, url.Values{"card": {c.card}, "exp": {"12/34"}})
		assert.Equal(t, http.StatusPaymentRequired, pg.Status, c.card)
		assert.Contains(t, pg.Body, c.message, c.card)
		assert.NotContains(t, pg.Body, strings.ReplaceAll(c.card, " ", ""), "the page never shows the card number back")
	}
	// Nothing was left behind: the session is open, and no customer or
	// subscription exists.
	assert.Equal(t, stripe.CheckoutSessionStatusOpen, b.checkoutSession(cs.ID).Status)
	types := eventTypes(b.events(nil))
	assert.NotContains(t, types, "customer.created")
	assert.NotContains(t, types, "checkout.session.completed")

	// The control route answers the decline in Stripe's envelope.
	status, body := b.completeCheckout(cs.ID, url.Values{"card": {"pm_card_chargeDeclined"}})
	assert.Equal(t, http.StatusPaymentRequired, status)
	errObj := body["error"].(map[string]any)
	assert.Equal(t, "card_error", errObj["type"])
	assert.Equal(t, "card_declined", errObj["code"])

	status, body = b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}, "email": {"later@example.com"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "complete", body["status"])
}

func TestCheckoutPaymentMode(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	// price_data with product_data: an inline price, made for the session.
	cs, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String("payment"), SuccessURL: stripe.String("https://example.com/thanks"),
		CustomerCreation: stripe.String("always"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Quantity: stripe.Int64(2),
			PriceData: &stripe.CheckoutSessionCreateLineItemPriceDataParams{Currency: stripe.String("eur"), UnitAmount: stripe.Int64(2500),
				ProductData: &stripe.CheckoutSessionCreateLineItemPriceDataProductDataParams{Name: stripe.String("T-shirt")}}}},
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{Metadata: map[string]string{"order": "7"}},
	})
	require.NoError(t, err)
	assert.Equal(t, int64(5000), cs.AmountTotal)
	assert.Equal(t, stripe.CheckoutSessionCustomerCreationAlways, cs.CustomerCreation)
	pg := getPage(t, cs.URL)
	assert.Contains(t, pg.Body, "T-shirt")
	assert.Contains(t, pg.Body, "€50.00")

	status, body := b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}, "email": {"buyer@example.com"}})
	require.Equal(t, http.StatusOK, status, body)
	done := b.checkoutSession(cs.ID)
	assert.Equal(t, stripe.CheckoutSessionPaymentStatusPaid, done.PaymentStatus)
	require.NotNil(t, done.PaymentIntent)
	require.NotNil(t, done.Customer)
	assert.Nil(t, done.Subscription)
	pi, err := b.sc.V1PaymentIntents.Retrieve(t.Context(), done.PaymentIntent.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.PaymentIntentStatusSucceeded, pi.Status)
	assert.Equal(t, int64(5000), pi.AmountReceived)
	assert.Equal(t, "eur", string(pi.Currency))
	assert.Equal(t, map[string]string{"order": "7"}, pi.Metadata)
	assert.Equal(t, done.Customer.ID, pi.Customer.ID)
	types := eventTypes(b.events(nil))
	assert.Contains(t, types, "payment_intent.succeeded")
	assert.Contains(t, types, "charge.succeeded")
	assert.Equal(t, "checkout.session.completed", types[len(types)-1])

	// Without customer_creation, payment mode makes no customer.
	price := b.price("Poster", 900, "")
	cs2, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("payment"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}})
	require.NoError(t, err)
	assert.Equal(t, stripe.CheckoutSessionCustomerCreationIfRequired, cs2.CustomerCreation)
	status, body = b.completeCheckout(cs2.ID, url.Values{"card": {"pm_card_visa"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Nil(t, body["customer"])
	assert.NotNil(t, body["payment_intent"])
	// With no success_url, the page says it is done.
	cs3, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("payment"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}})
	require.NoError(t, err)
	resp := postPage(t, cs3.URL, url.Values{"card": {"5555 5555 5555 4444"}, "exp": {"01/40"}})
	require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
	assert.Contains(t, getPage(t, b.srv.URL()+resp.Header.Get("Location")).Body, "Payment complete")

	// setup_future_usage saves the card once the payment succeeds, as
	// POST /v1/payment_intents with confirm=true saves it: the same events
	// in the same order.
	buyer := b.bareCustomer("")
	cs4, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("payment"),
		Customer:          stripe.String(buyer.ID),
		LineItems:         []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}},
		PaymentIntentData: &stripe.CheckoutSessionCreatePaymentIntentDataParams{SetupFutureUsage: stripe.String("off_session")}})
	require.NoError(t, err)
	status, body = b.completeCheckout(cs4.ID, url.Values{"card": {"4242424242424242"}})
	require.Equal(t, http.StatusOK, status, body)
	saved := b.customerPaymentMethods(buyer.ID)
	require.Len(t, saved, 1)
	pi4, err := b.sc.V1PaymentIntents.Retrieve(t.Context(), body["payment_intent"].(string), nil)
	require.NoError(t, err)
	assert.Equal(t, saved[0].ID, pi4.PaymentMethod.ID)
	assert.Equal(t, stripe.PaymentIntentSetupFutureUsageOffSession, pi4.SetupFutureUsage)
	var order []string
	for _, ev := range b.events(nil) {
		if ev.Data.Object["id"] == pi4.ID || ev.Data.Object["id"] == saved[0].ID {
			order = append(order, string(ev.Type))
		}
	}
	assert.Equal(t, []string{"payment_intent.created", "payment_intent.succeeded", "payment_method.attached"}, order)

	// A recurring price has no place in payment mode.
	monthly := b.price("Plan", 900, stripe.PriceRecurringIntervalMonth)
	_, err = b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("payment"),
		LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(monthly.ID), Quantity: stripe.Int64(1)}}})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "line_items[0][price]", se.Param)
	assert.Contains(t, se.Msg, "recurring price")
}

func TestCheckoutSetupMode(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	cust := b.bareCustomer("")
	cs, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"),
		Customer: stripe.String(cust.ID), Currency: stripe.String("usd"), SuccessURL: stripe.String("https://example.com/saved")})
	require.NoError(t, err)
	assert.Equal(t, stripe.CheckoutSessionPaymentStatusNoPaymentRequired, cs.PaymentStatus)
	assert.Contains(t, getPage(t, cs.URL).Body, "Save card")
	resp := postPage(t, cs.URL, url.Values{"card": {"5555555555554444"}, "exp": {"09/31"}})
	require.Equal(t, http.StatusSeeOther, resp.Status, resp.Body)
	assert.Equal(t, "https://example.com/saved", resp.Header.Get("Location"))
	var pms []*stripe.PaymentMethod
	for pm, err := range b.sc.V1Customers.ListPaymentMethods(t.Context(), &stripe.CustomerListPaymentMethodsParams{
		Customer: stripe.String(cust.ID)}).All(t.Context()) {
		require.NoError(t, err)
		pms = append(pms, pm)
	}
	require.Len(t, pms, 1)
	assert.Equal(t, "4444", pms[0].Card.Last4)
	assert.Equal(t, stripe.CheckoutSessionStatusComplete, b.checkoutSession(cs.ID).Status)

	// A card declined when saved is refused on the page.
	cs2, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"),
		Customer: stripe.String(cust.ID), Currency: stripe.String("usd")})
	require.NoError(t, err)
	pg := postPage(t, cs2.URL, url.Values{"card": {"4000000000000069"}})
	assert.Equal(t, http.StatusPaymentRequired, pg.Status)
	assert.Contains(t, pg.Body, "Your card has expired.")
}

// Setup mode makes a SetupIntent when the session is made, as Stripe
// does (the 2022-08-01 change that made payment mode wait for its
// PaymentIntent left setup mode alone), with setup_intent_data's
// description and metadata. Completing the session confirms it with the
// card, through the same engine calls as POST /v1/setup_intents/{id}/confirm.
func TestCheckoutSetupModeConfirmsItsSetupIntent(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)
	cs, err := b.sc.V1CheckoutSessions.Create(ctx, &stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"),
		Customer: stripe.String(cust.ID), Currency: stripe.String("usd"), SuccessURL: stripe.String("https://example.com/saved"),
		SetupIntentData: &stripe.CheckoutSessionCreateSetupIntentDataParams{Description: stripe.String("card for renewals"),
			Metadata: map[string]string{"plan": "team"}}})
	require.NoError(t, err)
	require.NotNil(t, cs.SetupIntent, "a setup-mode session has its SetupIntent from the start")
	assert.Regexp(t, `^seti_[0-9A-Za-z]{24}$`, cs.SetupIntent.ID)
	assert.Nil(t, cs.PaymentIntent)
	si := b.setupIntent(cs.SetupIntent.ID)
	assert.Equal(t, stripe.SetupIntentStatusRequiresPaymentMethod, si.Status)
	assert.Equal(t, cust.ID, si.Customer.ID)
	assert.Equal(t, frozen0, si.Created, "made in the clock's time, with the session")
	assert.Equal(t, "card for renewals", si.Description)
	assert.Equal(t, map[string]string{"plan": "team"}, si.Metadata)
	assert.Equal(t, []string{"card"}, si.PaymentMethodTypes)
	assert.Equal(t, stripe.SetupIntentUsageOffSession, si.Usage)
	assert.Equal(t, []string{"setup_intent.created"}, eventTypes(b.eventsAbout(si.ID)))

	// Expanded, on create and retrieve.
	got, err := b.sc.V1CheckoutSessions.Retrieve(ctx, cs.ID, &stripe.CheckoutSessionRetrieveParams{
		Params: stripe.Params{Expand: []*string{stripe.String("setup_intent")}}})
	require.NoError(t, err)
	require.NotNil(t, got.SetupIntent)
	assert.Equal(t, stripe.SetupIntentStatusRequiresPaymentMethod, got.SetupIntent.Status)

	// As at Stripe, the session's SetupIntent is confirmed or canceled
	// only through the session.
	_, err = b.sc.V1SetupIntents.Confirm(ctx, si.ID, &stripe.SetupIntentConfirmParams{PaymentMethod: stripe.String("pm_card_visa")})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Contains(t, se.Msg, cs.ID)
	_, err = b.sc.V1SetupIntents.Cancel(ctx, si.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Contains(t, se.Msg, "expire the Checkout Session")

	// A declined card: Stripe's 402, the session still open, and the
	// SetupIntent's failed confirmation kept as the API keeps it.
	status, body := b.completeCheckout(cs.ID, url.Values{"card": {"4000000000000002"}})
	require.Equal(t, http.StatusPaymentRequired, status, body)
	errObj := body["error"].(map[string]any)
	assert.Equal(t, "card_declined", errObj["code"])
	assert.Equal(t, "Your card was declined.", errObj["message"])
	assert.Equal(t, stripe.CheckoutSessionStatusOpen, b.checkoutSession(cs.ID).Status)
	failed := b.setupIntent(si.ID)
	assert.Equal(t, stripe.SetupIntentStatusRequiresPaymentMethod, failed.Status)
	require.NotNil(t, failed.LastSetupError)
	assert.Equal(t, stripe.ErrorCodeCardDeclined, failed.LastSetupError.Code)
	assert.Equal(t, "Your card was declined.", failed.LastSetupError.Msg)
	require.NotNil(t, failed.LastSetupError.PaymentMethod)
	assert.Equal(t, "0002", failed.LastSetupError.PaymentMethod.Card.Last4)
	assert.Empty(t, b.customerPaymentMethods(cust.ID))
	assert.Equal(t, []string{"setup_intent.created", "setup_intent.setup_failed"}, eventTypes(b.eventsAbout(si.ID)))

	// The control route with a good card, the answer expanded.
	b.advance(clock.ID, frozen0+3600)
	status, body = b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}, "expand[]": {"setup_intent"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "complete", body["status"])
	assert.Equal(t, "no_payment_required", body["payment_status"])
	expanded, ok := body["setup_intent"].(map[string]any)
	require.True(t, ok, "setup_intent expanded: %v", body["setup_intent"])
	assert.Equal(t, si.ID, expanded["id"])
	assert.Equal(t, "succeeded", expanded["status"])

	done := b.setupIntent(si.ID)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, done.Status)
	assert.Nil(t, done.LastSetupError)
	require.NotNil(t, done.PaymentMethod)
	saved := b.customerPaymentMethods(cust.ID)
	require.Len(t, saved, 1)
	assert.Equal(t, done.PaymentMethod.ID, saved[0].ID)
	assert.Equal(t, "4242", saved[0].Card.Last4)
	assert.Equal(t, []string{"setup_intent.created", "setup_intent.setup_failed", "setup_intent.succeeded"},
		eventTypes(b.eventsAbout(si.ID)))
	var order []string
	for _, ev := range b.events(nil) {
		switch ev.Type {
		case "payment_method.attached", "setup_intent.succeeded", "checkout.session.completed":
			order = append(order, string(ev.Type))
			assert.Equal(t, frozen0+3600, ev.Created, "%s in the clock's time", ev.Type)
		}
		if ev.Type == "checkout.session.completed" {
			assert.Equal(t, si.ID, ev.Data.Object["setup_intent"])
		}
	}
	assert.Equal(t, []string{"payment_method.attached", "setup_intent.succeeded", "checkout.session.completed"}, order)
	got, err = b.sc.V1CheckoutSessions.Retrieve(ctx, cs.ID, &stripe.CheckoutSessionRetrieveParams{
		Params: stripe.Params{Expand: []*string{stripe.String("setup_intent")}}})
	require.NoError(t, err)
	require.NotNil(t, got.SetupIntent)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, got.SetupIntent.Status)
	assert.Equal(t, saved[0].ID, got.SetupIntent.PaymentMethod.ID)

	// A session of no customer: a decline leaves no customer behind, only
	// the SetupIntent's failure; the card that saves makes the customer,
	// who owns the SetupIntent and the card.
	cs2, err := b.sc.V1CheckoutSessions.Create(ctx, &stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"),
		Currency: stripe.String("usd")})
	require.NoError(t, err)
	require.NotNil(t, cs2.SetupIntent)
	assert.Nil(t, b.setupIntent(cs2.SetupIntent.ID).Customer)
	pg := postPage(t, cs2.URL, url.Values{"card": {"4000000000009995"}, "email": {"saver@example.com"}})
	assert.Equal(t, http.StatusPaymentRequired, pg.Status)
	assert.Contains(t, pg.Body, "Your card has insufficient funds.")
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("customer.created")}), 1,
		"no customer but the one made at the start")
	failed = b.setupIntent(cs2.SetupIntent.ID)
	require.NotNil(t, failed.LastSetupError)
	assert.Equal(t, stripe.DeclineCode("insufficient_funds"), failed.LastSetupError.DeclineCode)
	assert.Nil(t, failed.Customer)
	// A card that asks for authentication: the page cannot authenticate,
	// and the SetupIntent waits in requires_action, as the API leaves it.
	pg = postPage(t, cs2.URL, url.Values{"card": {"4000002760003184"}, "email": {"saver@example.com"}})
	assert.Equal(t, http.StatusPaymentRequired, pg.Status)
	assert.Contains(t, pg.Body, "This transaction requires authentication.")
	assert.Equal(t, stripe.SetupIntentStatusRequiresAction, b.setupIntent(cs2.SetupIntent.ID).Status)
	assert.Equal(t, stripe.CheckoutSessionStatusOpen, b.checkoutSession(cs2.ID).Status)
	pg = postPage(t, cs2.URL, url.Values{"card": {"5555555555554444"}, "email": {"saver@example.com"}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	done2 := b.checkoutSession(cs2.ID)
	require.NotNil(t, done2.Customer)
	require.NotNil(t, done2.SetupIntent)
	saved2 := b.setupIntent(done2.SetupIntent.ID)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, saved2.Status)
	require.NotNil(t, saved2.Customer)
	assert.Equal(t, done2.Customer.ID, saved2.Customer.ID)
	pms := b.customerPaymentMethods(done2.Customer.ID)
	require.Len(t, pms, 1)
	assert.Equal(t, saved2.PaymentMethod.ID, pms[0].ID)

	// Expiring a setup-mode session cancels its SetupIntent.
	cs3, err := b.sc.V1CheckoutSessions.Create(ctx, &stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"),
		Customer: stripe.String(cust.ID), Currency: stripe.String("usd")})
	require.NoError(t, err)
	_, err = b.sc.V1CheckoutSessions.Expire(ctx, cs3.ID, nil)
	require.NoError(t, err)
	canceled := b.setupIntent(cs3.SetupIntent.ID)
	assert.Equal(t, stripe.SetupIntentStatusCanceled, canceled.Status)
	assert.Equal(t, []string{"setup_intent.created", "setup_intent.canceled"}, eventTypes(b.eventsAbout(canceled.ID)))

	// Subscription mode has no SetupIntent (since 2022-08-01).
	price := b.price("Seat", 1500, stripe.PriceRecurringIntervalMonth)
	sub := b.subscriptionSession(price.ID, 1, cust.ID, nil)
	assert.Nil(t, sub.SetupIntent)
}

func TestCheckoutTrialsAndDiscounts(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 2000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)

	// A trial: nothing is paid now.
	cs := b.subscriptionSession(price.ID, 2, cust.ID, func(p *stripe.CheckoutSessionCreateParams) {
		p.SubscriptionData = &stripe.CheckoutSessionCreateSubscriptionDataParams{TrialPeriodDays: stripe.Int64(14),
			Metadata: map[string]string{"plan": "team"}}
	})
	assert.Equal(t, frozen0, cs.Created, "a session for a clock's customer lives in the clock's time")
	assert.Equal(t, frozen0+86400, cs.ExpiresAt)
	assert.Contains(t, getPage(t, cs.URL).Body, "14 days free")
	status, body := b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}})
	require.Equal(t, http.StatusOK, status, body)
	assert.Equal(t, "no_payment_required", body["payment_status"])
	sub := b.subscription(body["subscription"].(string))
	assert.Equal(t, stripe.SubscriptionStatusTrialing, sub.Status)
	assert.Equal(t, frozen0+14*86400, sub.TrialEnd)
	assert.Equal(t, map[string]string{"plan": "team"}, sub.Metadata)

	// A 25% coupon, on the session's totals, the page and the invoice.
	coupon, err := b.sc.V1Coupons.Create(t.Context(), &stripe.CouponCreateParams{PercentOff: stripe.Float64(25),
		Duration: stripe.String("forever")})
	require.NoError(t, err)
	cs = b.subscriptionSession(price.ID, 2, cust.ID, func(p *stripe.CheckoutSessionCreateParams) {
		p.Discounts = []*stripe.CheckoutSessionCreateDiscountParams{{Coupon: stripe.String(coupon.ID)}}
	})
	assert.Equal(t, int64(4000), cs.AmountSubtotal)
	assert.Equal(t, int64(3000), cs.AmountTotal)
	require.NotNil(t, cs.TotalDetails)
	assert.Equal(t, int64(1000), cs.TotalDetails.AmountDiscount)
	require.Len(t, cs.Discounts, 1)
	assert.Equal(t, coupon.ID, cs.Discounts[0].Coupon.ID)
	assert.Contains(t, getPage(t, cs.URL).Body, "−$10.00")
	status, body = b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}})
	require.Equal(t, http.StatusOK, status, body)
	inv := b.invoice(body["invoice"].(string))
	assert.Equal(t, int64(3000), inv.AmountPaid)
	sub = b.subscription(body["subscription"].(string))
	require.Len(t, sub.Discounts, 1)

	// Promotion codes typed on the page.
	_, err = b.sc.V1PromotionCodes.Create(t.Context(), &stripe.PromotionCodeCreateParams{Code: stripe.String("HALF"),
		Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(coupon.ID)}})
	require.NoError(t, err)
	cs = b.subscriptionSession(price.ID, 1, cust.ID, func(p *stripe.CheckoutSessionCreateParams) {
		p.AllowPromotionCodes = stripe.Bool(true)
	})
	assert.True(t, cs.AllowPromotionCodes)
	pg := postPage(t, cs.URL, url.Values{"card": {"4242424242424242"}, "promotion_code": {"NOPE"}})
	assert.Equal(t, http.StatusBadRequest, pg.Status)
	assert.Contains(t, pg.Body, "This code is invalid.")
	pg = postPage(t, cs.URL, url.Values{"card": {"4242424242424242"}, "promotion_code": {"half"}})
	require.Equal(t, http.StatusSeeOther, pg.Status, pg.Body)
	done := b.checkoutSession(cs.ID)
	assert.Equal(t, int64(1500), done.AmountTotal)
	require.Len(t, done.Discounts, 1)
	require.NotNil(t, done.Discounts[0].PromotionCode)

	// Refusals at create.
	for _, c := range []struct {
		p     *stripe.CheckoutSessionCreateParams
		param string
	}{
		{&stripe.CheckoutSessionCreateParams{LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID),
			Quantity: stripe.Int64(1)}}}, "mode"},
		{&stripe.CheckoutSessionCreateParams{Mode: stripe.String("subscription")}, "line_items"},
		{&stripe.CheckoutSessionCreateParams{Mode: stripe.String("subscription"), Customer: stripe.String(cust.ID),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}},
			ExpiresAt: stripe.Int64(frozen0 + 600)}, "expires_at"},
		{&stripe.CheckoutSessionCreateParams{Mode: stripe.String("subscription"), Customer: stripe.String("cus_nope"),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}}, "customer"},
		{&stripe.CheckoutSessionCreateParams{Mode: stripe.String("subscription"),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID)}}}, "line_items[0][quantity]"},
		{&stripe.CheckoutSessionCreateParams{Mode: stripe.String("setup"), Currency: stripe.String("usd"),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(1)}}}, "line_items"},
	} {
		_, err := b.sc.V1CheckoutSessions.Create(t.Context(), c.p)
		se := stripeError(t, err, map[bool]int{true: http.StatusNotFound, false: http.StatusBadRequest}[c.param == "customer"])
		assert.Equal(t, c.param, se.Param, se.Msg)
	}
}

func TestCheckoutExpiresOnTheClock(t *testing.T) {
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 1000, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(frozen0)
	cust := b.bareCustomer(clock.ID)
	cs := b.subscriptionSession(price.ID, 1, cust.ID, func(p *stripe.CheckoutSessionCreateParams) {
		p.ExpiresAt = stripe.Int64(frozen0 + 2*3600)
	})
	assert.Equal(t, frozen0+2*3600, cs.ExpiresAt)
	early := b.subscriptionSession(price.ID, 1, cust.ID, nil)

	b.advance(clock.ID, frozen0+3*3600)
	assert.Equal(t, stripe.CheckoutSessionStatusExpired, b.checkoutSession(cs.ID).Status)
	assert.Equal(t, stripe.CheckoutSessionStatusOpen, b.checkoutSession(early.ID).Status, "a session lives 24 hours")
	evs := b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.expired")})
	require.Len(t, evs, 1)
	assert.Equal(t, cs.ID, evs[0].Data.Object["id"])
	assert.Equal(t, frozen0+2*3600, evs[0].Created, "expired on the clock, at expires_at")
	pg := getPage(t, cs.URL)
	assert.Contains(t, pg.Body, "expired")
	assert.NotContains(t, pg.Body, `id="pay"`)
	status, _ := b.completeCheckout(cs.ID, url.Values{"card": {"4242424242424242"}})
	assert.Equal(t, http.StatusBadRequest, status)

	b.advance(clock.ID, frozen0+25*3600)
	assert.Equal(t, stripe.CheckoutSessionStatusExpired, b.checkoutSession(early.ID).Status)

	// Expired by hand.
	open := b.subscriptionSession(price.ID, 1, cust.ID, nil)
	exp, err := b.sc.V1CheckoutSessions.Expire(t.Context(), open.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.CheckoutSessionStatusExpired, exp.Status)
	assert.Empty(t, exp.URL)
	evs = b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.expired")})
	assert.Len(t, evs, 3)
	_, err = b.sc.V1CheckoutSessions.Expire(t.Context(), open.ID, nil)
	stripeError(t, err, http.StatusBadRequest)
	// Its expiry task finds it expired already: no second event.
	b.advance(clock.ID, frozen0+60*3600)
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.expired")}), 3)
}

// POST /v1/checkout/sessions/{id} changes the metadata, and nothing else.
func TestCheckoutSessionUpdate(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	price := b.price("Seat", 1500, stripe.PriceRecurringIntervalMonth)
	cs := b.subscriptionSession(price.ID, 1, "", nil)
	up, err := b.sc.V1CheckoutSessions.Update(t.Context(), cs.ID, &stripe.CheckoutSessionUpdateParams{
		Metadata: map[string]string{"campaign": "spring"}})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"order": "o-1", "campaign": "spring"}, up.Metadata)
	assert.Equal(t, cs.URL, up.URL)
	assert.Equal(t, cs.AmountTotal, up.AmountTotal)
	p := &stripe.CheckoutSessionUpdateParams{}
	p.AddMetadata("order", "")
	up, err = b.sc.V1CheckoutSessions.Update(t.Context(), cs.ID, p)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"campaign": "spring"}, up.Metadata)
	assert.Equal(t, up.Metadata, b.checkoutSession(cs.ID).Metadata)
	_, err = b.sc.V1CheckoutSessions.Update(t.Context(), "cs_test_nope", p)
	se := stripeError(t, err, http.StatusNotFound)
	assert.Contains(t, se.Msg, "No such checkout.session: 'cs_test_nope'")
}
