package emulator_test

// Stripe's pages in a real headless Chromium (emulator/browsertest): a
// customer pays on Checkout and lands on the success_url, is declined
// there, reduces seats and cancels in the Billing Portal, and pays a
// past-due invoice on its hosted page. The browser has no API key; what
// the pages did is checked through the API with stripe-go.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/browsertest"
)

// browser is the package's one Chromium; it starts at the first Tab, so a
// run that selects no browser test starts none.
var browser = browsertest.New(browsertest.Options{})

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

// shop is the integration's own site, where Checkout and the portal send
// the customer back: it records the address of each page visited (not
// the browser's request for a favicon).
type shop struct {
	*httptest.Server
	mu     sync.Mutex
	visits []string
}

func startShop(t *testing.T) *shop {
	s := &shop{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/favicon.ico" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.visits = append(s.visits, r.URL.String())
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(`<!doctype html><title>Shop</title><h1 id="shop">Thanks from the shop</h1>`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *shop) visited() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.visits...)
}

// evalIn evaluates a JavaScript expression in the tab.
func evalIn[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// open navigates the tab to u and waits for sel.
func open(t *testing.T, ctx context.Context, u, sel string) {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(u))
	require.NoError(t, err, u)
	require.Equal(t, int64(http.StatusOK), resp.Status, u)
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(sel))), "waiting for %s on %s", sel, u)
}

// typeCard types a card as a person does, into the page's card form.
func typeCard(t *testing.T, ctx context.Context, number string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Clear(chromedp.CSS("#card")),
		chromedp.SendKeys(chromedp.CSS("#card"), number),
		chromedp.Clear(chromedp.CSS("#exp")),
		chromedp.SendKeys(chromedp.CSS("#exp"), "1234"),
		chromedp.SendKeys(chromedp.CSS("#cvc"), "123")))
}

// submit clicks sel and waits for the page the form leads to (after its
// redirects); it returns that page's HTTP status.
func submit(t *testing.T, ctx context.Context, sel string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
	require.NoError(t, err, "submitting with %s", sel)
	return resp.Status
}

// TestBrowserCheckout: a subscription-mode session's url opens Checkout;
// the customer types an email and 4242 4242 4242 4242, subscribes, and
// lands on the success_url with {CHECKOUT_SESSION_ID} replaced; the
// subscription exists and checkout.session.completed was sent. On another
// session a declined card shows Stripe's message on the page.
func TestBrowserCheckout(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	site := startShop(t)
	price := b.price("Team seat", 1500, stripe.PriceRecurringIntervalMonth)
	newSession := func() *stripe.CheckoutSession {
		cs, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{
			Mode:       stripe.String("subscription"),
			SuccessURL: stripe.String(site.URL + "/welcome?session_id={CHECKOUT_SESSION_ID}"),
			CancelURL:  stripe.String(site.URL + "/pricing"),
			LineItems: []*stripe.CheckoutSessionCreateLineItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(3),
				AdjustableQuantity: &stripe.CheckoutSessionCreateLineItemAdjustableQuantityParams{Enabled: stripe.Bool(true),
					Minimum: stripe.Int64(1), Maximum: stripe.Int64(20)}}},
			ClientReferenceID: stripe.String("user-42"),
		})
		require.NoError(t, err)
		return cs
	}
	cs := newSession()
	ctx := browser.Tab(t)

	open(t, ctx, cs.URL, "#card")
	assert.Equal(t, "$45.00", evalIn[string](t, ctx, `document.getElementById("total").textContent`))
	assert.Contains(t, evalIn[string](t, ctx, `document.getElementById("lines").innerText`), "Team seat")
	assert.Equal(t, "Subscribe", evalIn[string](t, ctx, `document.getElementById("submit").textContent`))
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), "jenny@example.com"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Jenny Rosen")))
	typeCard(t, ctx, "4242 4242 4242 4242")
	assert.Equal(t, "4242 4242 4242 4242", evalIn[string](t, ctx, `document.getElementById("card").value`))
	assert.Equal(t, "12 / 34", evalIn[string](t, ctx, `document.getElementById("exp").value`))
	browsertest.ViewportScreenshot(t, ctx, "checkout")

	status := submit(t, ctx, "#submit")
	assert.Equal(t, int64(http.StatusOK), status)
	want := site.URL + "/welcome?session_id=" + cs.ID
	assert.Equal(t, want, evalIn[string](t, ctx, `location.href`))
	assert.Equal(t, "Thanks from the shop", evalIn[string](t, ctx, `document.getElementById("shop").textContent`))
	assert.Equal(t, []string{"/welcome?session_id=" + cs.ID}, site.visited())

	done := b.checkoutSession(cs.ID)
	assert.Equal(t, stripe.CheckoutSessionStatusComplete, done.Status)
	assert.Equal(t, stripe.CheckoutSessionPaymentStatusPaid, done.PaymentStatus)
	require.NotNil(t, done.Subscription)
	require.NotNil(t, done.Customer)
	sub := b.subscription(done.Subscription.ID)
	assert.Equal(t, stripe.SubscriptionStatusActive, sub.Status)
	require.Len(t, sub.Items.Data, 1)
	assert.Equal(t, int64(3), sub.Items.Data[0].Quantity)
	assert.Equal(t, price.ID, sub.Items.Data[0].Price.ID)
	cust, err := b.sc.V1Customers.Retrieve(t.Context(), done.Customer.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "jenny@example.com", cust.Email)
	require.NotNil(t, sub.DefaultPaymentMethod)
	pm, err := b.sc.V1PaymentMethods.Retrieve(t.Context(), sub.DefaultPaymentMethod.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "4242", pm.Card.Last4)
	evs := b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.completed")})
	require.Len(t, evs, 1)
	assert.Equal(t, cs.ID, evs[0].Data.Object["id"])
	assert.Equal(t, sub.ID, evs[0].Data.Object["subscription"])
	assert.Equal(t, "user-42", evs[0].Data.Object["client_reference_id"])

	// A declined card: Stripe's message on the page, the session still
	// open, nothing made.
	declined := newSession()
	open(t, ctx, declined.URL, "#card")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), "sam@example.com")))
	typeCard(t, ctx, "4000 0000 0000 0002")
	status = submit(t, ctx, "#submit")
	assert.Equal(t, int64(http.StatusPaymentRequired), status)
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#error"))))
	assert.Equal(t, "Your card was declined.", evalIn[string](t, ctx, `document.getElementById("error").textContent`))
	assert.Equal(t, declined.URL, evalIn[string](t, ctx, `location.href`), "the customer stays on Checkout")
	assert.Equal(t, "sam@example.com", evalIn[string](t, ctx, `document.getElementById("email").value`), "what was typed is kept")
	assert.Empty(t, evalIn[string](t, ctx, `document.getElementById("card").value`), "the card number is not sent back")
	browsertest.ViewportScreenshot(t, ctx, "checkout-declined")
	assert.Equal(t, stripe.CheckoutSessionStatusOpen, b.checkoutSession(declined.ID).Status)
	assert.Len(t, b.events(&stripe.EventListParams{Type: stripe.String("checkout.session.completed")}), 1)
	assert.Len(t, site.visited(), 1, "no second visit to the success_url")

	// Setup mode: the customer saves a card, which confirms the session's
	// SetupIntent.
	setup, err := b.sc.V1CheckoutSessions.Create(t.Context(), &stripe.CheckoutSessionCreateParams{
		Mode: stripe.String("setup"), Customer: stripe.String(cust.ID), Currency: stripe.String("usd"),
		SuccessURL: stripe.String(site.URL + "/saved?session_id={CHECKOUT_SESSION_ID}")})
	require.NoError(t, err)
	require.NotNil(t, setup.SetupIntent)
	open(t, ctx, setup.URL, "#card")
	assert.Equal(t, "Save card", evalIn[string](t, ctx, `document.getElementById("submit").textContent`))
	typeCard(t, ctx, "5555 5555 5555 4444")
	assert.Equal(t, int64(http.StatusOK), submit(t, ctx, "#submit"))
	assert.Equal(t, site.URL+"/saved?session_id="+setup.ID, evalIn[string](t, ctx, `location.href`))
	si := b.setupIntent(setup.SetupIntent.ID)
	assert.Equal(t, stripe.SetupIntentStatusSucceeded, si.Status)
	require.NotNil(t, si.PaymentMethod)
	saved, err := b.sc.V1PaymentMethods.Retrieve(t.Context(), si.PaymentMethod.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, "4444", saved.Card.Last4)
	assert.Equal(t, cust.ID, saved.Customer.ID)
}

// TestBrowserPortal: a customer with 5 seats opens a portal session's url,
// reduces the seats to 3 and then cancels; each action is seen through the
// API, with its customer.subscription.updated event.
func TestBrowserPortal(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	site := startShop(t)
	clock := b.clockAt(frozen0)
	price := b.price("Team seat", 1000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 5, nil)
	item := sub.Items.Data[0].ID
	ps, err := b.sc.V1BillingPortalSessions.Create(t.Context(), &stripe.BillingPortalSessionCreateParams{
		Customer: stripe.String(cust.ID), ReturnURL: stripe.String(site.URL + "/account")})
	require.NoError(t, err)
	ctx := browser.Tab(t)

	qty := "#item-" + item + " input.qty"
	open(t, ctx, ps.URL, qty)
	assert.Equal(t, "5", evalIn[string](t, ctx, `document.querySelector("`+qty+`").value`))
	assert.Contains(t, evalIn[string](t, ctx, `document.getElementById("sub-`+sub.ID+`").innerText`), "$50.00")
	assert.Equal(t, 1, evalIn[int](t, ctx, `document.querySelectorAll("#invoices tr.invoice").length`))
	assert.Contains(t, evalIn[string](t, ctx, `document.getElementById("payment-methods").innerText`), "4242")
	browsertest.ViewportScreenshot(t, ctx, "portal")

	// Fewer seats.
	before := len(b.events(nil))
	require.NoError(t, chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(qty), "3")))
	assert.Equal(t, int64(http.StatusOK), submit(t, ctx, "#item-"+item+" button.update"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#notice"))))
	assert.Equal(t, "3", evalIn[string](t, ctx, `document.querySelector("`+qty+`").value`))
	updated := b.subscription(sub.ID)
	require.Len(t, updated.Items.Data, 1)
	assert.Equal(t, int64(3), updated.Items.Data[0].Quantity)
	assert.Equal(t, stripe.SubscriptionStatusActive, updated.Status)
	assert.False(t, updated.CancelAtPeriodEnd)
	evs := b.eventsAfter(before)
	require.Equal(t, []string{"customer.subscription.updated"}, subscriptionEvents(evs))
	prev := evs[len(evs)-1].Data.PreviousAttributes
	require.Contains(t, prev, "items", "the event says the items changed")

	// Cancel, at the end of the period (the default configuration's).
	before = len(b.events(nil))
	assert.Equal(t, int64(http.StatusOK), submit(t, ctx, "#sub-"+sub.ID+" button.cancel"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#sub-"+sub.ID+" .cancels"))))
	assert.Contains(t, evalIn[string](t, ctx, `document.querySelector("#sub-`+sub.ID+` .cancels").textContent`), "23 Dec 2024")
	assert.Equal(t, 1, evalIn[int](t, ctx, `document.querySelectorAll("#sub-`+sub.ID+` button.renew").length`),
		"a cancellation at period end can be undone")
	canceled := b.subscription(sub.ID)
	assert.True(t, canceled.CancelAtPeriodEnd)
	assert.Equal(t, stripe.SubscriptionStatusActive, canceled.Status, "it runs to the end of the period")
	assert.Equal(t, frozen0+30*86400, canceled.CancelAt)
	evs = b.eventsAfter(before)
	require.Equal(t, []string{"customer.subscription.updated"}, subscriptionEvents(evs))
	assert.Equal(t, false, evs[len(evs)-1].Data.PreviousAttributes["cancel_at_period_end"])

	// Back to the shop.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#return")), chromedp.WaitVisible(chromedp.CSS("#shop"))))
	assert.Equal(t, []string{"/account"}, site.visited())
}

// subscriptionEvents are the customer.subscription.* events among evs.
func subscriptionEvents(evs []*stripe.Event) []string {
	var out []string
	for _, ev := range evs {
		if strings.HasPrefix(string(ev.Type), "customer.subscription.") {
			out = append(out, string(ev.Type))
		}
	}
	return out
}

// TestBrowserHostedInvoice: the dunning issue's past-due invoice (a
// renewal declined by pm_card_chargeCustomerFail) is paid on its hosted
// page, opened without a key, with 4242: the invoice is paid and the
// subscription active again.
func TestBrowserHostedInvoice(t *testing.T) {
	t.Parallel()
	b := startDunning(t, nil)
	clock, _, sub := b.failingRenewal("pm_card_chargeCustomerFail")
	b.advance(clock.ID, dunAttempt)
	inv := b.latestInvoice(sub.ID)
	require.Equal(t, stripe.InvoiceStatusOpen, inv.Status)
	require.Equal(t, stripe.SubscriptionStatusPastDue, b.subscription(sub.ID).Status)
	ctx := browser.Tab(t)

	open(t, ctx, inv.HostedInvoiceURL, "#card")
	assert.Equal(t, inv.Number, evalIn[string](t, ctx, `document.getElementById("number").textContent`))
	assert.Equal(t, "open", evalIn[string](t, ctx, `document.getElementById("status").textContent`))
	assert.Equal(t, "$12.00", evalIn[string](t, ctx, `document.getElementById("amount_remaining").textContent`))
	assert.Equal(t, "Pay $12.00", evalIn[string](t, ctx, `document.getElementById("submit").textContent`))
	typeCard(t, ctx, "4242 4242 4242 4242")
	browsertest.ViewportScreenshot(t, ctx, "hosted-invoice")

	before := len(b.events(nil))
	assert.Equal(t, int64(http.StatusOK), submit(t, ctx, "#submit"))
	require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#notice"))))
	assert.Contains(t, evalIn[string](t, ctx, `document.getElementById("notice").textContent`), "the invoice is paid")
	assert.Equal(t, "paid", evalIn[string](t, ctx, `document.getElementById("status").textContent`))
	assert.Zero(t, evalIn[int](t, ctx, `document.querySelectorAll("#pay").length`), "nothing left to pay")

	paid := b.invoice(inv.ID)
	assert.Equal(t, stripe.InvoiceStatusPaid, paid.Status)
	assert.Equal(t, int64(1200), paid.AmountPaid)
	assert.Equal(t, stripe.SubscriptionStatusActive, b.subscription(sub.ID).Status)
	types := billingTypes(b.eventsAfter(before))
	for _, want := range []string{"invoice.paid", "customer.subscription.updated"} {
		assert.Contains(t, types, want)
	}

	// The PDF link on the page is the invoice's invoice_pdf.
	href := evalIn[string](t, ctx, `document.getElementById("pdf").href`)
	assert.Equal(t, paid.InvoicePDF, href)
}
