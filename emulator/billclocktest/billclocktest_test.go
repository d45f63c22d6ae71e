package billclocktest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator/billclocktest"
	"github.com/billclock/billclock/emulator/billclocktest/stripego"
)

// get sends a GET with key and decodes the JSON answer; it returns the
// status.
func get(t *testing.T, srv *billclocktest.Server, key, path string, v any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

func TestStart(t *testing.T) {
	t.Parallel()
	srv := billclocktest.Start(t)
	other := billclocktest.Start(t)
	for _, k := range []struct{ key, prefix, other string }{
		{srv.StripeKey, "sk_test_", other.StripeKey},
		{srv.ChargebeeKey, "test_", other.ChargebeeKey},
		{srv.CommetKey, "ck_", other.CommetKey},
	} {
		if !strings.HasPrefix(k.key, k.prefix) || len(k.key) < len(k.prefix)+20 || k.key == k.other {
			t.Errorf("key %q: want a fresh random %s... key", k.key, k.prefix)
		}
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.Addr() != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("URL %q, Addr %q", srv.URL, srv.Addr())
	}
	if srv.ChargebeeURL() != srv.URL+"/api/v2" || srv.CommetURL() != srv.URL+"/api/v1" {
		t.Errorf("ChargebeeURL %q, CommetURL %q", srv.ChargebeeURL(), srv.CommetURL())
	}
	if filepath.Dir(srv.DBPath()) == "" || srv.DBPath() == other.DBPath() {
		t.Errorf("DBPath %q", srv.DBPath())
	}

	// Every key is an account of its own.
	sc := stripego.Client(srv)
	cus, err := sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{Name: stripe.String("Jenny")})
	if err != nil {
		t.Fatal(err)
	}
	fresh := srv.NewStripeKey()
	if _, err := stripego.ClientFor(srv, fresh).V1Customers.Retrieve(t.Context(), cus.ID, nil); err == nil {
		t.Errorf("%s is seen by another key's account", cus.ID)
	}
	if fresh == srv.StripeKey || fresh == srv.NewStripeKey() || !strings.HasPrefix(srv.NewChargebeeKey(), "test_") ||
		!strings.HasPrefix(srv.NewCommetKey(), "ck_") {
		t.Error("New*Key do not make fresh keys")
	}

	// Restart keeps the data; the new server has a new URL.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := stripego.Client(srv).V1Customers.Retrieve(t.Context(), cus.ID, nil); err != nil || got.Name != "Jenny" {
		t.Errorf("after Restart: %v, %v", got, err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestStartOptions(t *testing.T) {
	t.Parallel()
	three := 3
	srv := billclocktest.Start(t,
		billclocktest.AdvanceDelay(time.Hour),
		billclocktest.APIKeys("sk_test_allowed_key"),
		billclocktest.WithDunning(billclocktest.Dunning{RetryDays: []int{1, 3}, SubscriptionAction: "unpaid",
			InvoiceAction: "mark_uncollectible", UpcomingInvoiceDays: &three}),
		billclocktest.StripeLimits(),
		billclocktest.WebhookAttempts(2),
		billclocktest.WebhookRetryDelay(time.Millisecond, time.Millisecond),
		billclocktest.WebhookTimeout(time.Second),
		billclocktest.Retention(time.Hour),
	)

	// Only the allowed keys, and the Server's own.
	for key, want := range map[string]int{srv.StripeKey: 200, "sk_test_allowed_key": 200, "sk_test_not_allowed": 401, srv.NewStripeKey(): 401} {
		if got := get(t, srv, key, "/v1/customers", nil); got != want {
			t.Errorf("GET /v1/customers with %s: %d, want %d", key[:12], got, want)
		}
	}

	// The dunning settings of the StripeKey's account.
	var settings struct {
		RetryDays           []int  `json:"retry_days"`
		SubscriptionAction  string `json:"subscription_action"`
		InvoiceAction       string `json:"invoice_action"`
		UpcomingInvoiceDays int    `json:"upcoming_invoice_days"`
	}
	if status := get(t, srv, srv.StripeKey, "/_billclock/settings", &settings); status != 200 ||
		len(settings.RetryDays) != 2 || settings.RetryDays[0] != 1 || settings.RetryDays[1] != 3 ||
		settings.SubscriptionAction != "unpaid" || settings.InvoiceAction != "mark_uncollectible" || settings.UpcomingInvoiceDays != 3 {
		t.Errorf("settings: %d %+v", status, settings)
	}
	if err := srv.SetDunning(srv.StripeKey, billclocktest.Dunning{RetryDays: []int{}}); err != nil {
		t.Fatal(err)
	}
	get(t, srv, srv.StripeKey, "/_billclock/settings", &settings)
	if len(settings.RetryDays) != 0 || settings.SubscriptionAction != "unpaid" {
		t.Errorf("after SetDunning with no retries: %+v", settings)
	}
	if err := srv.SetDunning(srv.StripeKey, billclocktest.Dunning{SubscriptionAction: "bogus"}); err == nil ||
		!strings.Contains(err.Error(), "subscription_action") {
		t.Errorf("SetDunning with a bad action: %v", err)
	}

	// The advance delay keeps an advanced clock advancing.
	sc := stripego.Client(srv)
	clock, err := sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(1732320000)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(1732320000 + 86400)}); err != nil {
		t.Fatal(err)
	}
	if got, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil); err != nil || got.Status != "advancing" {
		t.Errorf("clock with an hour's advance delay: %v, %v", got, err)
	}

	// Stripe's limits: a fourth customer on a clock is refused.
	ready, err := sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(1732320000)})
	if err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for range 4 {
		_, lastErr = sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{TestClock: stripe.String(ready.ID)})
	}
	if lastErr == nil {
		t.Error("a fourth customer on a clock was accepted with StripeLimits")
	}
}

// TestNew: a server outside a test, in a temporary directory that Close
// removes.
func TestNew(t *testing.T) {
	t.Parallel()
	srv, err := billclocktest.New(billclocktest.WithDunning(billclocktest.Dunning{SubscriptionAction: "past_due"}))
	if err != nil {
		t.Fatal(err)
	}
	if status := get(t, srv, srv.StripeKey, "/v1/customers", nil); status != 200 {
		t.Errorf("GET /v1/customers: %d", status)
	}
	dir := filepath.Dir(srv.DBPath())
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left %s: %v", dir, err)
	}
	if _, err := billclocktest.New(billclocktest.WithDunning(billclocktest.Dunning{InvoiceAction: "bogus"})); err == nil {
		t.Error("New with bad dunning settings succeeded")
	}
}

// TestDependencies: billclocktest builds into users' tests without stripe-go
// or any test library; only its stripego sub-package needs stripe-go.
func TestDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	t.Parallel()
	out, err := exec.CommandContext(t.Context(), "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "stripe-go") || strings.Contains(dep, "testify") || strings.Contains(dep, "cobra") {
			t.Errorf("billclocktest depends on %s", dep)
		}
	}
}
