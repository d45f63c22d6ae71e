package dashboard_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/browsertest"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// The dashboard in a real headless Chromium (emulator/browsertest), over a
// real server: one browser for the package, a tab per test.

var browser = browsertest.New(browsertest.Options{})

func TestMain(m *testing.M) { os.Exit(browser.Run(m)) }

const (
	stripeKey = "sk_test_browserDashboard00000000001"
	cbKey     = "test_browsersite0000000000000002"
	commetKey = "ck_browserorg000000000000000003"
	jan1      = 1767225600 // 2026-01-01T00:00:00Z
)

// startServer runs billclock with advances that last at least delay, so
// that a page can be seen following one.
func startServer(t *testing.T, delay time.Duration) *emulatortest.Server {
	return emulatortest.Start(t, emulator.Config{AdvanceDelay: delay, NoSync: true})
}

func stripeClient(srv *emulatortest.Server) *stripe.Client {
	b := stripe.NewBackendsWithConfig(&stripe.BackendConfig{URL: stripe.String(srv.URL()), MaxNetworkRetries: stripe.Int64(0),
		EnableTelemetry: stripe.Bool(false), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}})
	return stripe.NewClient(stripeKey, stripe.WithBackends(b))
}

// stripeWorld makes a test clock at 2026-01-01 with two customers on a
// 7-day trial of 3 seats at 15.00 a month: Ada's card pays, Bob's fails
// (so his first renewal goes past due, is retried and the subscription is
// canceled); then it advances the clock 20 days through the API.
func stripeWorld(t *testing.T, srv *emulatortest.Server) (clock string) {
	t.Helper()
	ctx := t.Context()
	sc := stripeClient(srv)
	c, err := sc.V1TestHelpersTestClocks.Create(ctx, &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(jan1), Name: stripe.String("Seats, monthly")})
	require.NoError(t, err)
	price, err := sc.V1Prices.Create(ctx, &stripe.PriceCreateParams{Currency: stripe.String("usd"), UnitAmount: stripe.Int64(1500),
		Recurring:   &stripe.PriceCreateRecurringParams{Interval: stripe.String("month")},
		ProductData: &stripe.PriceCreateProductDataParams{Name: stripe.String("Seats")}})
	require.NoError(t, err)
	for _, who := range []struct{ email, card string }{{"ada@example.com", "pm_card_visa"}, {"bob@example.com", "pm_card_chargeCustomerFail"}} {
		cus, err := sc.V1Customers.Create(ctx, &stripe.CustomerCreateParams{TestClock: stripe.String(c.ID), Email: stripe.String(who.email),
			PaymentMethod:   stripe.String(who.card),
			InvoiceSettings: &stripe.CustomerCreateInvoiceSettingsParams{DefaultPaymentMethod: stripe.String(who.card)}})
		require.NoError(t, err)
		_, err = sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cus.ID),
			Items:           []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(3)}},
			TrialPeriodDays: stripe.Int64(7)})
		require.NoError(t, err)
	}
	_, err = sc.V1TestHelpersTestClocks.Advance(ctx, c.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(jan1 + 20*86400)})
	require.NoError(t, err)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := sc.V1TestHelpersTestClocks.Retrieve(ctx, c.ID, nil)
		require.NoError(t, err)
		if got.Status == stripe.TestHelpersTestClockStatusReady {
			break
		}
		require.True(t, time.Now().Before(deadline), "the clock never got ready")
	}
	return c.ID
}

// send calls an API over HTTP with a body of contentType, and requires a
// 2xx.
func send(t *testing.T, srv *emulatortest.Server, method, path string, header http.Header, contentType, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header = header.Clone()
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	return string(raw)
}

// chargebeeWorld makes a Chargebee site started afresh six months ago,
// with a customer on a monthly plan.
func chargebeeWorld(t *testing.T, srv *emulatortest.Server) {
	t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey+":"))}}
	post := func(path string, form url.Values) string {
		return send(t, srv, http.MethodPost, "/api/v2"+path, h, "application/x-www-form-urlencoded", form.Encode())
	}
	post("/time_machines/delorean/start_afresh", url.Values{})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if strings.Contains(send(t, srv, http.MethodGet, "/api/v2/time_machines/delorean", h, "", ""), `"succeeded"`) {
			break
		}
		require.True(t, time.Now().Before(deadline), "the time machine never got back")
	}
	post("/item_families", url.Values{"id": {"fam"}, "name": {"Family"}})
	post("/items", url.Values{"id": {"seat"}, "name": {"Seat"}, "type": {"plan"}, "item_family_id": {"fam"}})
	post("/item_prices", url.Values{"id": {"seat-monthly"}, "item_id": {"seat"}, "name": {"Seat monthly"},
		"pricing_model": {"per_unit"}, "price": {"1000"}, "period": {"1"}, "period_unit": {"month"}})
	post("/customers", url.Values{"id": {"ada"}, "first_name": {"Ada"}, "email": {"ada@example.com"},
		"card[number]": {"4111111111111111"}, "card[expiry_month]": {"12"}, "card[expiry_year]": {"2040"}})
	post("/customers/ada/subscription_for_items", url.Values{"subscription_items[item_price_id][0]": {"seat-monthly"},
		"subscription_items[quantity][0]": {"2"}})
}

// commetWorld makes a Commet organization with a customer; its test clock
// comes with its first write.
func commetWorld(t *testing.T, srv *emulatortest.Server) {
	t.Helper()
	send(t, srv, http.MethodPost, "/api/v1/customers", http.Header{"X-Api-Key": {commetKey}}, "application/json",
		`{"email":"ada@example.test","id":"ada"}`)
}

// waitFor polls a JavaScript condition in the page until it holds.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("status")?.textContent + " " + document.getElementById("advance-message")?.textContent`))
		t.Fatalf("waiting for %s (%s): %v; the page says %q", what, cond, err, state)
	}
}

func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	require.NoError(t, err, expr)
	return v
}

// TestBrowserAdvanceAMonth: the index lists the clock; its page shows the
// timeline; "a month" advances it, the page follows it from advancing to
// ready and a new invoice marker appears; clicking that marker shows the
// invoice's JSON as Stripe's API returns it.
func TestBrowserAdvanceAMonth(t *testing.T) {
	t.Parallel()
	srv := startServer(t, 1500*time.Millisecond)
	clock := stripeWorld(t, srv)
	ctx := browser.Tab(t)

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL()+"/_billclock/"),
		chromedp.WaitVisible(chromedp.CSS(`tr.clock[data-clock="`+clock+`"] a.clock-link`))))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('section.account').textContent`), "sk_test_…0001")
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr.clock[data-clock="`+clock+`"] a.clock-link`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`))))
	assert.Equal(t, "2026-01-21 00:00", eval[string](t, ctx, `document.getElementById("frozen").textContent`))

	before := eval[[]string](t, ctx, `[...document.querySelectorAll("g.invoice")].map(g => g.dataset.id)`)
	require.Len(t, before, 4, "each customer's trial invoice and first renewal")
	assert.Equal(t, 2, eval[int](t, ctx, `document.querySelectorAll("g.row.subscription").length`))
	assert.Positive(t, eval[int](t, ctx, `document.querySelectorAll("g.attempt.failed").length`), "Bob's failed attempts")
	assert.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll(".stretch.past_due").length`), "Bob is past due")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-by="month"]`))))
	waitFor(t, ctx, "the page to show the clock advancing", `document.getElementById("status").textContent === "advancing"`)
	waitFor(t, ctx, "the clock ready with a new invoice",
		`document.getElementById("status").textContent === "ready" && document.querySelectorAll("g.invoice").length === 5`)
	assert.Equal(t, "2026-02-21 00:00", eval[string](t, ctx, `document.getElementById("frozen").textContent`))
	after := eval[[]string](t, ctx, `[...document.querySelectorAll("g.invoice")].map(g => g.dataset.id)`)
	var added []string
	for _, id := range after {
		if !strings.Contains(strings.Join(before, " "), id) {
			added = append(added, id)
		}
	}
	require.Len(t, added, 1, "one new invoice: Ada's renewal of 2026-02-08 (Bob's subscription was canceled)")
	assert.Equal(t, "paid", eval[string](t, ctx, fmt.Sprintf(`document.querySelector('g.invoice[data-id="%s"]').dataset.status`, added[0])))
	assert.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll(".stretch.canceled").length`), "Bob's subscription ended")

	browsertest.ViewportScreenshot(t, ctx, "dashboard-timeline")

	// Its JSON, as GET /v1/invoices/{id} answers.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`g.invoice[data-id="`+added[0]+`"] circle`))))
	waitFor(t, ctx, "the invoice's JSON", `document.getElementById("json").dataset.id === "`+added[0]+`"`)
	json := eval[string](t, ctx, `document.getElementById("json").textContent`)
	assert.Contains(t, json, `"object": "invoice"`)
	assert.Contains(t, json, `"id": "`+added[0]+`"`)
	assert.Contains(t, json, `"billing_reason": "subscription_cycle"`)
	assert.Contains(t, json, `"amount_paid": 4500`)
	assert.Equal(t, "GET /v1/invoices/"+added[0]+" → 200", eval[string](t, ctx, `document.getElementById("json-source").textContent`))
	assert.NotContains(t, eval[string](t, ctx, `document.documentElement.outerHTML`), stripeKey, "the page shows the key")
	browsertest.ViewportScreenshot(t, ctx, "dashboard-invoice-json")
}

// TestBrowserFilterEvents: unticking an event type hides its events, on
// the timeline and in the list, and only those; "none" and "all" hide and
// show every type.
func TestBrowserFilterEvents(t *testing.T) {
	t.Parallel()
	srv := startServer(t, 0)
	clock := stripeWorld(t, srv)
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL()+"/_billclock/dashboard/clocks/"+clock),
		chromedp.WaitVisible(chromedp.CSS(`input.type-filter[value="invoice.payment_failed"]`))))
	shown := func(typ string) int {
		return eval[int](t, ctx, fmt.Sprintf(`[...document.querySelectorAll('.ev[data-type="%s"]')].filter(e => getComputedStyle(e).display !== "none").length`, typ))
	}
	failed, paid := shown("invoice.payment_failed"), shown("invoice.paid")
	require.Positive(t, failed)
	require.Positive(t, paid)
	assert.Equal(t, 2*eval[int](t, ctx, `document.querySelectorAll('tr.ev[data-type="invoice.payment_failed"]').length`), failed,
		"each event is a tick on the timeline and a row in the list")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`input.type-filter[value="invoice.payment_failed"]`))))
	assert.Zero(t, shown("invoice.payment_failed"))
	assert.Equal(t, paid, shown("invoice.paid"), "other types stay")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-filter="none"]`))))
	assert.Zero(t, shown("invoice.paid"))
	assert.Zero(t, eval[int](t, ctx, `[...document.querySelectorAll(".ev")].filter(e => getComputedStyle(e).display !== "none").length`))
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-filter="all"]`))))
	assert.Equal(t, failed, shown("invoice.payment_failed"))
	assert.Equal(t, paid, shown("invoice.paid"))

	// An event's JSON, from the list.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr.ev[data-type="invoice.payment_failed"]`))))
	waitFor(t, ctx, "the event's JSON", `document.getElementById("json").dataset.kind === "event"`)
	assert.Contains(t, eval[string](t, ctx, `document.getElementById("json").textContent`), `"type": "invoice.payment_failed"`)
}

// TestBrowserChargebeeAndCommet: a Chargebee site and a Commet
// organization are listed with their one clock; the site's time machine
// shows its subscription and travels a day with the button.
func TestBrowserChargebeeAndCommet(t *testing.T) {
	t.Parallel()
	srv := startServer(t, 500*time.Millisecond)
	chargebeeWorld(t, srv)
	commetWorld(t, srv)
	ctx := browser.Tab(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL()+"/_billclock/"),
		chromedp.WaitVisible(chromedp.CSS(`section[data-provider="Chargebee"] tr.clock[data-clock="delorean"]`)),
		chromedp.WaitVisible(chromedp.CSS(`section[data-provider="Commet"] tr.clock[data-clock="org_test_clock"]`))))
	index := eval[string](t, ctx, `document.querySelector("main").innerText`)
	assert.Contains(t, index, "Chargebee site test_…0002")
	assert.Contains(t, index, "Commet organization ck_…0003")
	assert.NotContains(t, eval[string](t, ctx, `document.documentElement.outerHTML`), cbKey)
	assert.NotContains(t, eval[string](t, ctx, `document.documentElement.outerHTML`), commetKey)
	browsertest.ViewportScreenshot(t, ctx, "dashboard-index")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr.clock[data-clock="delorean"] a.clock-link`)),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`))))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector("h1").textContent`), "time machine")
	assert.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("g.row.subscription").length`))
	assert.Equal(t, 1, eval[int](t, ctx, `document.querySelectorAll("g.invoice.paid").length`))
	frozen := eval[string](t, ctx, `document.getElementById("frozen").textContent`)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[data-by="day"]`))))
	waitFor(t, ctx, "the site's travel", `document.getElementById("status").textContent === "ready" && document.getElementById("frozen").textContent !== "`+frozen+`"`)
	moved, err := time.Parse("2006-01-02 15:04", eval[string](t, ctx, `document.getElementById("frozen").textContent`))
	require.NoError(t, err)
	was, err := time.Parse("2006-01-02 15:04", frozen)
	require.NoError(t, err)
	assert.Equal(t, 24*time.Hour, moved.Sub(was))

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL()+"/_billclock/dashboard/clocks/org_test_clock"),
		chromedp.WaitVisible(chromedp.CSS(`svg.chart`))))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector("h1").textContent`), "test clock")
	assert.Contains(t, eval[string](t, ctx, `document.querySelector(".crumbs").textContent`), "Commet organization")
}
