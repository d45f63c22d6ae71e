package emulator_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
)

// settings is the answer of /_billclock/settings.
type settings struct {
	Object              string  `json:"object"`
	RetryDays           []int64 `json:"retry_days"`
	SubscriptionAction  string  `json:"subscription_action"`
	InvoiceAction       string  `json:"invoice_action"`
	UpcomingInvoiceDays int64   `json:"upcoming_invoice_days"`
}

// defaultSettings are an account's settings before it changes any:
// Stripe's, with billclock's fixed stand-in for Smart Retries.
func defaultSettings() settings {
	return settings{Object: "billclock.settings", RetryDays: []int64{1, 2, 2, 2, 2, 2, 3},
		SubscriptionAction: "cancel", InvoiceAction: "leave_open", UpcomingInvoiceDays: 3}
}

// settingsOf reads key's settings.
func (e *env) settingsOf(t *testing.T, key string) settings {
	t.Helper()
	r := e.as(t, key, http.MethodGet, "/_billclock/settings", "", nil)
	return decodeSettings(t, r)
}

func decodeSettings(t *testing.T, r rawResponse) settings {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.True(t, strings.HasPrefix(r.Header.Get("Request-Id"), "req_"), "Request-Id %q", r.Header.Get("Request-Id"))
	var s settings
	require.NoError(t, json.Unmarshal(r.Body, &s), "%s", r.Body)
	return s
}

// TestSettings: each account reads and changes its own dunning settings
// through the control route; changes are partial, persist across
// restarts, and leave other accounts alone.
func TestSettings(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})
	const other = "sk_test_settingsother01"
	post := func(body string) settings {
		t.Helper()
		return decodeSettings(t, e.as(t, testKey, http.MethodPost, "/_billclock/settings", body, nil))
	}

	assert.Equal(t, defaultSettings(), e.settingsOf(t, testKey))

	want := defaultSettings()
	want.RetryDays, want.SubscriptionAction = []int64{1, 3}, "unpaid"
	assert.Equal(t, want, post("retry_days=1,3&subscription_action=unpaid"))
	assert.Equal(t, want, e.settingsOf(t, testKey), "GET reads what POST stored")

	want.RetryDays = []int64{2, 4, 60}
	assert.Equal(t, want, post("retry_days[]=2&retry_days[]=4&retry_days[]=60"), "the array form")
	want.InvoiceAction, want.UpcomingInvoiceDays = "mark_uncollectible", 7
	assert.Equal(t, want, post("invoice_action=mark_uncollectible&upcoming_invoice_days=7"), "retry_days kept")
	want.SubscriptionAction, want.UpcomingInvoiceDays = "past_due", 0
	assert.Equal(t, want, post("subscription_action=past_due&upcoming_invoice_days=0"))
	want.RetryDays = []int64{}
	assert.Equal(t, want, post("retry_days="), "an empty value means no retries")
	want.SubscriptionAction = "cancel"
	assert.Equal(t, want, post("subscription_action=cancel"))

	assert.Equal(t, defaultSettings(), e.settingsOf(t, other), "another account keeps the defaults")

	// An Idempotency-Key replays the answer and changes nothing again.
	h := map[string]string{"Idempotency-Key": "settings-1"}
	first := e.as(t, testKey, http.MethodPost, "/_billclock/settings", "retry_days=5", h)
	want.RetryDays = []int64{5}
	assert.Equal(t, want, decodeSettings(t, first))
	post("retry_days=6")
	again := e.as(t, testKey, http.MethodPost, "/_billclock/settings", "retry_days=5", h)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, string(first.Body), string(again.Body))
	want.RetryDays = []int64{6}
	assert.Equal(t, want, e.settingsOf(t, testKey), "the replay did not apply again")

	e.srv.Restart()
	assert.Equal(t, want, e.settingsOf(t, testKey), "settings survive a restart")
	assert.Equal(t, defaultSettings(), e.settingsOf(t, other))
}

// TestSettingsValidation: bad settings get Stripe's error envelope and
// change nothing.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})
	const range60 = "Invalid retry_days: each retry must come 1 to 60 days after the attempt before it; got "
	for _, tc := range []struct {
		body string
		want apiError
	}{
		{"retry_days=0", apiError{Param: "retry_days", Message: range60 + "0."}},
		{"retry_days=1,61", apiError{Param: "retry_days", Message: range60 + "61."}},
		{"retry_days=1,-2", apiError{Param: "retry_days", Message: range60 + "-2."}},
		{"retry_days=1,x", apiError{Param: "retry_days", Code: "parameter_invalid_integer", Message: "Invalid integer: x"}},
		{"retry_days=" + strings.Repeat("1,", 12) + "1",
			apiError{Param: "retry_days", Message: "Invalid retry_days: at most 12 retries; got 13."}},
		{"retry_days[a]=1", apiError{Param: "retry_days", Message: "Invalid array"}},
		{"subscription_action=none", apiError{Param: "subscription_action",
			Message: "Invalid subscription_action: must be one of cancel, unpaid, or past_due"}},
		{"subscription_action=", apiError{Param: "subscription_action", Message: "You passed an empty string for " +
			"'subscription_action'. We assume empty values are an attempt to unset a parameter; however 'subscription_action' " +
			"cannot be unset. You should remove 'subscription_action' from your request or supply a non-empty value."}},
		{"invoice_action=void", apiError{Param: "invoice_action",
			Message: "Invalid invoice_action: must be one of leave_open, or mark_uncollectible"}},
		{"upcoming_invoice_days=61", apiError{Param: "upcoming_invoice_days",
			Message: "Invalid upcoming_invoice_days: must be between 0 (no notice) and 60 days; got 61."}},
		{"upcoming_invoice_days=-1", apiError{Param: "upcoming_invoice_days",
			Message: "Invalid upcoming_invoice_days: must be between 0 (no notice) and 60 days; got -1."}},
		{"upcoming_invoice_days=3.5", apiError{Param: "upcoming_invoice_days", Code: "parameter_invalid_integer",
			Message: "Invalid integer: 3.5"}},
		{"retry_days=1&smart_retries=true", apiError{Param: "smart_retries", Code: "parameter_unknown",
			Message: "Received unknown parameter: smart_retries"}},
	} {
		t.Run(tc.body, func(t *testing.T) {
			ae := e.as(t, testKey, http.MethodPost, "/_billclock/settings", tc.body, nil).apiError(t, http.StatusBadRequest)
			tc.want.Type = "invalid_request_error"
			assert.Equal(t, tc.want, ae)
		})
	}
	assert.Equal(t, defaultSettings(), e.settingsOf(t, testKey), "no refused request changed anything")

	ae := e.as(t, testKey, http.MethodGet, "/_billclock/settings?retry_days=1", "", nil).apiError(t, http.StatusBadRequest)
	assert.Equal(t, "Received unknown parameter: retry_days", ae.Message, "GET takes no parameters")
	ae = e.as(t, "", http.MethodGet, "/_billclock/settings", "", nil).apiError(t, http.StatusUnauthorized)
	assert.Equal(t, "invalid_request_error", ae.Type)
	ae = e.as(t, testKey, http.MethodDelete, "/_billclock/settings", "", nil).apiError(t, http.StatusNotFound)
	assert.Equal(t, unrecognized(http.MethodDelete, "/_billclock/settings"), ae.Message)
}
