package main

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// triggerSucceeded is trigger's last line.
const triggerSucceeded = "Trigger succeeded! See its events with `billclock events list`."

// createdLine is a line of the objects a fixture made: step name, object
// type, id (a coupon's, as at Stripe, has no prefix; a schedule's has two
// parts, sub_sched_).
var createdLine = regexp.MustCompile(`^[a-z0-9_]+ +[a-z_.]+ +([a-z]+_)*[A-Za-z0-9]+$`)

// required are the events the trigger command must support.
var requiredTriggers = []string{
	"customer.created", "customer.updated", "product.created", "price.created",
	"customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
	"invoice.created", "invoice.finalized", "invoice.paid", "invoice.payment_succeeded", "invoiceitem.created",
	"invoice.payment_failed", "payment_intent.payment_failed", "charge.failed",
	"coupon.created", "coupon.updated", "coupon.deleted",
	"customer.discount.created", "customer.discount.updated", "customer.discount.deleted",
	"promotion_code.created", "promotion_code.updated", "tax_rate.created", "tax_rate.updated",
	"setup_intent.created", "setup_intent.succeeded", "setup_intent.setup_failed", "setup_intent.requires_action",
	"setup_intent.canceled", "charge.refunded", "charge.refund.updated",
}

// waitEvent polls until the account has an event of type typ and returns
// its events of that type.
func waitEvent(t *testing.T, api *apiClient, typ string) []apiEvent {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		if evs := listEvents(t, api, url.Values{"type": {typ}}); len(evs) > 0 {
			return evs
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s event; events: %+v", typ, listEvents(t, api, nil))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestTriggerEachEvent(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	events := triggerEvents()
	for _, ev := range requiredTriggers {
		if !slices.Contains(events, ev) {
			t.Errorf("trigger does not support %s", ev)
		}
	}
	for _, ev := range events {
		t.Run(ev, func(t *testing.T) {
			t.Parallel()
			// One account per trigger, so its events are its own.
			key := "sk_test_trigger_" + strings.ReplaceAll(ev, ".", "_")
			stdout, _, err := runCLI(t, nil, "trigger", ev, "--api-base", srv.URL(), "--api-key", key)
			if err != nil {
				t.Fatalf("trigger %s: %v\n%s", ev, err, stdout)
			}
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if len(lines) < 3 || lines[len(lines)-1] != triggerSucceeded {
				t.Errorf("output:\n%s", stdout)
			}
			// Each step is announced, then each object it answered
			// is listed: step name, object type, id.
			steps := 0
			for _, line := range lines[:len(lines)-1] {
				if strings.HasPrefix(line, "Setting up fixture for: ") {
					steps++
				}
			}
			made := lines[steps : len(lines)-1]
			// A step answering no object with an id (an expected
			// error) lists nothing.
			if steps == 0 || len(made) == 0 || len(made) > steps {
				t.Errorf("%d steps, %d objects listed:\n%s", steps, len(made), stdout)
			}
			for _, line := range made {
				if !createdLine.MatchString(line) {
					t.Errorf("output line %q is not step, object type and id", line)
				}
			}
			waitEvent(t, testAPI(srv, key), ev)
		})
	}
}

func TestTriggerInvoicePaid(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_invoice_paid"
	stdout, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "invoice.paid")
	if err != nil {
		t.Fatal(err)
	}
	api := testAPI(srv, key)
	subs := mustDo(t, api, http.MethodGet, "/v1/subscriptions", nil)["data"].([]any)
	if len(subs) != 1 {
		t.Fatalf("subscriptions: %v", subs)
	}
	sub := subs[0].(map[string]any)
	price := sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)["price"].(map[string]any)["id"]
	// The ids listed are the objects made, aligned in columns.
	want := "Setting up fixture for: customer\nSetting up fixture for: price\nSetting up fixture for: subscription\n" +
		fmt.Sprintf("customer      customer      %s\n", sub["customer"]) +
		fmt.Sprintf("price         price         %s\n", price) +
		fmt.Sprintf("subscription  subscription  %s\n", sub["id"]) +
		triggerSucceeded + "\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
	paid := listEvents(t, api, url.Values{"type": {"invoice.paid"}})
	if len(paid) != 1 {
		t.Fatalf("invoice.paid events: %+v", paid)
	}
	// The paid invoice is the subscription's, for the customer created.
	raw := mustDo(t, api, http.MethodGet, "/v1/events/"+paid[0].ID, nil)
	inv := raw["data"].(map[string]any)["object"].(map[string]any)
	if inv["status"] != "paid" || inv["customer"] != sub["customer"] || inv["id"] != sub["latest_invoice"] {
		t.Errorf("invoice %v %v %v, subscription %v %v", inv["id"], inv["status"], inv["customer"], sub["customer"], sub["latest_invoice"])
	}
}

func TestTriggerInvoiceItemIsProration(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_invoiceitem"
	if _, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "invoiceitem.created"); err != nil {
		t.Fatal(err)
	}
	api := testAPI(srv, key)
	items := mustDo(t, api, http.MethodGet, "/v1/invoiceitems", nil)["data"].([]any)
	if len(items) == 0 {
		t.Fatal("no invoice items")
	}
	for _, it := range items {
		if it := it.(map[string]any); it["proration"] != true {
			t.Errorf("invoice item %v is not a proration", it["id"])
		}
	}
	sub := mustDo(t, api, http.MethodGet, "/v1/subscriptions", nil)["data"].([]any)[0].(map[string]any)
	item := sub["items"].(map[string]any)["data"].([]any)[0].(map[string]any)
	if item["quantity"] != float64(5) {
		t.Errorf("quantity after the seat change = %v, want 5", item["quantity"])
	}
}

// TestTriggerSetupFailedListsSetupIntent: a declined setup is kept, and the
// trigger lists it like the objects its steps answered.
func TestTriggerSetupFailedListsSetupIntent(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_setup_failed"
	stdout, _, err := runCLI(t, nil, "--api-base", srv.URL(), "--api-key", key, "trigger", "setup_intent.setup_failed")
	if err != nil {
		t.Fatal(err)
	}
	sis := mustDo(t, testAPI(srv, key), http.MethodGet, "/v1/setup_intents", nil)["data"].([]any)
	if len(sis) != 1 {
		t.Fatalf("setup intents: %v", sis)
	}
	si := sis[0].(map[string]any)
	if si["status"] != "requires_payment_method" || si["last_setup_error"] == nil {
		t.Errorf("the declined SetupIntent: %v", si)
	}
	want := "Setting up fixture for: setup_intent\n" + fmt.Sprintf("setup_intent  setup_intent  %s\n", si["id"]) + triggerSucceeded + "\n"
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestTriggerHelpAndUnsupported(t *testing.T) {
	t.Parallel()
	help, _, err := runCLI(t, nil, "trigger", "--help")
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range triggerEvents() {
		if !strings.Contains(help, "\n  "+ev+"\n") {
			t.Errorf("trigger --help does not list %s:\n%s", ev, help)
		}
	}
	stdout, _, err := runCLI(t, map[string]string{"BILLCLOCK_API_BASE": "http://127.0.0.1:1"}, "trigger", "charge.succeeded")
	if err == nil || !strings.Contains(err.Error(), `event "charge.succeeded" is not supported`) ||
		!strings.Contains(err.Error(), "\n  invoice.paid\n") {
		t.Errorf("unsupported event: err = %v", err)
	}
	if stdout != "" {
		t.Errorf("unsupported event printed %q", stdout)
	}
}

// TestTriggerFixturesParse checks every embedded trigger is a valid
// fixture, so a broken file fails here rather than for a user.
func TestTriggerFixturesParse(t *testing.T) {
	for _, ev := range triggerEvents() {
		raw, err := readTrigger(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseFixture(raw); err != nil {
			t.Errorf("%s: %v", ev, err)
		}
	}
}
