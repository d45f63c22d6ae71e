package main

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

func TestClockFailNextAdvance(t *testing.T) {
	t.Parallel()
	srv := emulatortest.Start(t, emulator.Config{NoSync: true})
	const key = "sk_test_fail_next_advance"
	c := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "create", "--frozen-time", "2024-11-23T00:00:00Z"))

	armed := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "fail-next-advance", c.ID))
	if armed.ID != c.ID || armed.Status != "ready" || armed.FrozenTime != nov23 {
		t.Errorf("fail-next-advance: %+v", armed)
	}

	// advance --wait reports the failure and exits non-zero.
	_, err := clocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "2024-12-01T00:00:00Z", "--wait")
	if err == nil || err.Error() != "clock "+c.ID+" failed to advance (status internal_failure)" {
		t.Errorf("advance --wait of an armed clock: err = %v", err)
	}
	got := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "retrieve", c.ID))
	if got.Status != "internal_failure" || got.FrozenTime != nov23 {
		t.Errorf("after the failed advance: %+v", got)
	}
	if evs := listEvents(t, testAPI(srv, key), url.Values{"type": {"test_helpers.test_clock.internal_failure"}}); len(evs) != 1 {
		t.Errorf("internal_failure events: %+v", evs)
	}

	// Later advances are the server's error, shown as is.
	_, err = clocksCLI(t, srv.URL(), key, "advance", c.ID, "--frozen-time", "2024-12-01T00:00:00Z")
	var apiErr *apiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest ||
		apiErr.Message != "Failed to advance time. Future requests to advance time will fail." {
		t.Errorf("advance after the failure: err = %v", err)
	}
	if del := decodeClock(t, mustClocksCLI(t, srv.URL(), key, "delete", c.ID)); !del.Deleted {
		t.Errorf("delete: %+v", del)
	}

	_, err = clocksCLI(t, srv.URL(), key, "fail-next-advance", "clock_nope")
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || !strings.Contains(apiErr.Message, "clock_nope") {
		t.Errorf("fail-next-advance of an unknown clock: err = %v", err)
	}
}
