package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// accountSettings is the JSON `billclock settings` prints.
type accountSettings struct {
	Object              string  `json:"object"`
	RetryDays           []int64 `json:"retry_days"`
	SubscriptionAction  string  `json:"subscription_action"`
	InvoiceAction       string  `json:"invoice_action"`
	UpcomingInvoiceDays int64   `json:"upcoming_invoice_days"`
}

// settingsCLI runs `billclock settings args...` as key against srv.
func settingsCLI(t *testing.T, srv *emulatortest.Server, key string, args ...string) (accountSettings, error) {
	t.Helper()
	env := map[string]string{"BILLCLOCK_API_BASE": srv.URL(), "BILLCLOCK_API_KEY": key}
	stdout, _, err := runCLI(t, env, append([]string{"settings"}, args...)...)
	var s accountSettings
	if err != nil {
		if stdout != "" {
			t.Errorf("settings %v failed but printed %q", args, stdout)
		}
		return s, err
	}
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("settings %v: decode %q: %v", args, stdout, err)
	}
	return s, nil
}

func mustSettingsCLI(t *testing.T, srv *emulatortest.Server, key string, args ...string) accountSettings {
	t.Helper()
	s, err := settingsCLI(t, srv, key, args...)
	if err != nil {
		t.Fatalf("settings %v: %v", args, err)
	}
	return s
}

func TestSettingsGetSet(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key, other = "sk_test_settings_cli", "sk_test_settings_cli_other"
	defaults := accountSettings{Object: "billclock.settings", RetryDays: []int64{1, 2, 2, 2, 2, 2, 3},
		SubscriptionAction: "cancel", InvoiceAction: "leave_open", UpcomingInvoiceDays: 3}
	check := func(what string, got, want accountSettings) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v, want %+v", what, got, want)
		}
	}

	check("get", mustSettingsCLI(t, srv, key, "get"), defaults)

	want := defaults
	want.RetryDays, want.SubscriptionAction = []int64{1, 3}, "unpaid"
	check("set", mustSettingsCLI(t, srv, key, "set", "--retry-days", "1,3", "--subscription-action", "unpaid"), want)
	check("get after set", mustSettingsCLI(t, srv, key, "get"), want)

	want.RetryDays, want.InvoiceAction, want.UpcomingInvoiceDays = []int64{}, "mark_uncollectible", 0
	check("set none", mustSettingsCLI(t, srv, key, "set", "--retry-days", "none", "--invoice-action", "mark_uncollectible",
		"--upcoming-invoice-days", "0"), want)
	want.RetryDays = []int64{2, 5}
	check("set -d", mustSettingsCLI(t, srv, key, "set", "-d", "retry_days[]=2", "-d", "retry_days[]=5"), want)

	check("another account", mustSettingsCLI(t, srv, other, "get"), defaults)

	// The server's validation error, as is; nothing changed.
	_, err := settingsCLI(t, srv, key, "set", "--retry-days", "1,0")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || apiErr.Param != "retry_days" ||
		apiErr.Message != "Invalid retry_days: each retry must come 1 to 60 days after the attempt before it; got 0." {
		t.Errorf("set --retry-days 1,0: err = %v", err)
	}
	_, err = settingsCLI(t, srv, key, "set", "--subscription-action", "pause")
	if !errors.As(err, &apiErr) || apiErr.Param != "subscription_action" {
		t.Errorf("set --subscription-action pause: err = %v", err)
	}
	check("get after refused sets", mustSettingsCLI(t, srv, key, "get"), want)
}
