package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// runFixtureFile runs fixtures/name as key and checks it ran every step.
func runFixtureFile(t *testing.T, srv *emulatortest.Server, key, name string, steps int) {
	t.Helper()
	stdout, _, err := runCLI(t, nil, "fixtures", filepath.Join("..", "..", "fixtures", name), "--api-base", srv.URL(), "--api-key", key)
	if err != nil {
		t.Fatalf("fixtures %s: %v\n%s", name, err, stdout)
	}
	if n := strings.Count(stdout, "Setting up fixture for: "); n != steps {
		t.Errorf("fixtures %s ran %d steps, want %d:\n%s", name, n, steps, stdout)
	}
}

// countEvents counts the account's events of type typ.
func countEvents(t *testing.T, api *apiClient, typ string) int {
	t.Helper()
	return len(listEvents(t, api, url.Values{"type": {typ}, "limit": {"100"}}))
}

// onlyClock waits until the account's one clock is no longer advancing
// and returns its id.
func onlyClock(t *testing.T, api *apiClient) string {
	t.Helper()
	clocks := mustDo(t, api, http.MethodGet, clocksPath, nil)["data"].([]any)
	if len(clocks) != 1 {
		t.Fatalf("clocks: %v", clocks)
	}
	id := clocks[0].(map[string]any)["id"].(string)
	raw, err := waitReady(t.Context(), api, id, waitTimeout, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := decodeClock(t, string(raw)); c.Status != "ready" || c.FrozenTime != 1734912000 {
		t.Fatalf("clock after the fixture: %+v", c)
	}
	return id
}

// onlySubscription returns the one subscription of the clock's customers,
// whatever its status.
func onlySubscription(t *testing.T, api *apiClient, params url.Values) map[string]any {
	t.Helper()
	params.Set("status", "all")
	subs := mustDo(t, api, http.MethodGet, "/v1/subscriptions", params)["data"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subscriptions: %v", subs)
	}
	return subs[0].(map[string]any)
}

// TestFixturesDunning runs fixtures/dunning.json: a renewal at the end of a
// trial fails with pm_card_chargeCustomerFail, is retried on the default
// schedule (8 attempts within 14 days) and the subscription is canceled,
// its invoice left open.
func TestFixturesDunning(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fixture_dunning"
	runFixtureFile(t, srv, key, "dunning.json", 5)
	api := testAPI(srv, key)
	clock := onlyClock(t, api)

	sub := onlySubscription(t, api, url.Values{"test_clock": {clock}})
	if sub["status"] != "canceled" {
		t.Errorf("subscription status %v, want canceled", sub["status"])
	}
	if d, _ := sub["cancellation_details"].(map[string]any); d == nil || d["reason"] != "payment_failed" {
		t.Errorf("cancellation_details %v, want reason payment_failed", sub["cancellation_details"])
	}
	inv := mustDo(t, api, http.MethodGet, "/v1/invoices/"+sub["latest_invoice"].(string), nil)
	if inv["status"] != "open" || inv["attempted"] != true || inv["attempt_count"] != float64(8) ||
		inv["next_payment_attempt"] != nil || inv["amount_due"] != float64(2000) || inv["amount_paid"] != float64(0) {
		t.Errorf("the failed invoice: status %v attempted %v attempt_count %v next_payment_attempt %v amount_due %v amount_paid %v",
			inv["status"], inv["attempted"], inv["attempt_count"], inv["next_payment_attempt"], inv["amount_due"], inv["amount_paid"])
	}
	for typ, want := range map[string]int{"invoice.payment_failed": 8, "charge.failed": 8, "payment_intent.payment_failed": 8,
		"invoice.paid": 1, "customer.subscription.deleted": 1} {
		if n := countEvents(t, api, typ); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
}

// TestFixturesDunningUnpaid runs fixtures/dunning_unpaid.json: the account's
// settings retry twice (1 and 3 days after the attempt before), then mark
// the subscription unpaid and the invoice uncollectible.
func TestFixturesDunningUnpaid(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fixture_dunning_unpaid"
	runFixtureFile(t, srv, key, "dunning_unpaid.json", 6)
	api := testAPI(srv, key)
	clock := onlyClock(t, api)

	var s accountSettings
	raw, err := api.do(t.Context(), http.MethodGet, settingsPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &s); err != nil || s.SubscriptionAction != "unpaid" || len(s.RetryDays) != 2 {
		t.Errorf("settings after the fixture: %+v (%v)", s, err)
	}
	sub := onlySubscription(t, api, url.Values{"test_clock": {clock}})
	if sub["status"] != "unpaid" {
		t.Errorf("subscription status %v, want unpaid", sub["status"])
	}
	inv := mustDo(t, api, http.MethodGet, "/v1/invoices/"+sub["latest_invoice"].(string), nil)
	if inv["status"] != "uncollectible" || inv["attempt_count"] != float64(3) || inv["next_payment_attempt"] != nil {
		t.Errorf("the failed invoice: status %v attempt_count %v next_payment_attempt %v",
			inv["status"], inv["attempt_count"], inv["next_payment_attempt"])
	}
	for typ, want := range map[string]int{"invoice.payment_failed": 3, "invoice.marked_uncollectible": 1, "customer.subscription.deleted": 0} {
		if n := countEvents(t, api, typ); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
}

// TestFixturesChargeCustomerFail runs fixtures/pm_card_chargeCustomerFail.json:
// the card attaches, but every charge is declined, whether the subscription's
// first invoice, a manual pay or a direct PaymentIntent.
func TestFixturesChargeCustomerFail(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fixture_charge_customer_fail"
	runFixtureFile(t, srv, key, "pm_card_chargeCustomerFail.json", 6)
	api := testAPI(srv, key)

	customers := mustDo(t, api, http.MethodGet, "/v1/customers", nil)["data"].([]any)
	if len(customers) != 1 {
		t.Fatalf("customers: %v", customers)
	}
	cus := customers[0].(map[string]any)["id"].(string)
	pms := mustDo(t, api, http.MethodGet, "/v1/customers/"+cus+"/payment_methods", nil)["data"].([]any)
	if len(pms) == 0 {
		t.Fatal("the card was not attached")
	}
	for _, pm := range pms {
		if card := pm.(map[string]any)["card"].(map[string]any); card["last4"] != "0341" {
			t.Errorf("attached card: %v", card)
		}
	}

	// error_if_incomplete left nothing; allow_incomplete left an incomplete
	// subscription whose invoice stays open.
	sub := onlySubscription(t, api, url.Values{"customer": {cus}})
	if sub["status"] != "incomplete" {
		t.Errorf("subscription status %v, want incomplete", sub["status"])
	}
	inv := mustDo(t, api, http.MethodGet, "/v1/invoices/"+sub["latest_invoice"].(string), nil)
	if inv["status"] != "open" || inv["attempted"] != true || inv["attempt_count"] != float64(1) {
		t.Errorf("the first invoice: status %v attempted %v attempt_count %v (a manual pay does not count)",
			inv["status"], inv["attempted"], inv["attempt_count"])
	}
	charges := mustDo(t, api, http.MethodGet, "/v1/charges", url.Values{"customer": {cus}})["data"].([]any)
	if len(charges) != 3 {
		t.Errorf("%d charges, want 3 (first invoice, manual pay, direct PaymentIntent)", len(charges))
	}
	for _, ch := range charges {
		if ch := ch.(map[string]any); ch["status"] != "failed" || ch["failure_code"] != "card_declined" {
			t.Errorf("charge %v: status %v failure_code %v", ch["id"], ch["status"], ch["failure_code"])
		}
	}
	for typ, want := range map[string]int{"charge.failed": 3, "payment_intent.payment_failed": 3} {
		if n := countEvents(t, api, typ); n != want {
			t.Errorf("%d %s events, want %d", n, typ, want)
		}
	}
	if n := countEvents(t, api, "invoice.payment_failed"); n < 1 {
		t.Errorf("no invoice.payment_failed event")
	}
}
