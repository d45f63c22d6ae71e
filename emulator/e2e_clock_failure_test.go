package emulator_test

import (
	"encoding/json"
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

// failNextAdvance calls the failure-injection control route for clock.
func (e *env) failNextAdvance(t *testing.T, key, clock string) rawResponse {
	t.Helper()
	return e.as(t, key, http.MethodPost, "/_billclock/test_clocks/"+url.PathEscape(clock)+"/fail_next_advance", "", nil)
}

// TestClockFailNextAdvance: a clock armed through the control route ends
// its next advance in internal_failure, with Stripe's event delivered to
// webhooks; nothing of the advance is applied; later advances are refused;
// retrieve and delete still work; other clocks are not affected.
func TestClockFailNextAdvance(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	rc := newReceiver(t, nil)
	b.endpoint(rc, "test_helpers.test_clock.internal_failure", "test_helpers.test_clock.ready")

	// Each clock has a monthly subscription, whose renewal the advance
	// would invoice.
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	failing, healthy := b.clockAt(frozen0), b.clockAt(frozen0)
	var subs []*stripe.Subscription
	for _, clock := range []string{failing.ID, healthy.ID} {
		subs = append(subs, b.subscribe(b.customer(clock).ID, price.ID, 1, nil))
	}

	r := b.failNextAdvance(t, testKey, failing.ID)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.True(t, strings.HasPrefix(r.Header.Get("Request-Id"), "req_"), "Request-Id %q", r.Header.Get("Request-Id"))
	got := r.object(t)
	assert.Equal(t, failing.ID, got["id"])
	assert.Equal(t, "test_helpers.test_clock", got["object"])
	assert.Equal(t, "ready", got["status"], "the clock reads ready until it advances")

	target := frozen0 + 40*86400 // past the first renewal
	for _, clock := range []string{failing.ID, healthy.ID} {
		adv, err := b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock,
			&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(target)})
		require.NoError(t, err, "the advance itself is accepted, as at Stripe")
		assert.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, adv.Status)
	}

	failed := waitReady(t, b.sc, failing.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatus("internal_failure"), failed.Status)
	assert.Equal(t, frozen0, failed.FrozenTime, "the clock did not move")
	assert.Nil(t, failed.StatusDetails.Advancing)
	ok := waitReady(t, b.sc, healthy.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, ok.Status, "the other clock advanced")
	assert.Equal(t, target, ok.FrozenTime)

	// Nothing of the failed advance was applied: no renewal invoice.
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(subs[0].ID)}), 1)
	assert.Len(t, b.invoices(&stripe.InvoiceListParams{Subscription: stripe.String(subs[1].ID)}), 2)

	evs := b.events(&stripe.EventListParams{Type: stripe.String("test_helpers.test_clock.*")})
	var failures []*stripe.Event
	for _, ev := range evs {
		if ev.Type == "test_helpers.test_clock.internal_failure" {
			failures = append(failures, ev)
		}
	}
	require.Len(t, failures, 1)
	assert.Equal(t, failing.ID, failures[0].Data.Object["id"])
	assert.Equal(t, "internal_failure", failures[0].Data.Object["status"])
	rc.waitFor(10*time.Second, "the internal_failure event", func(as []arrival) bool {
		for _, a := range as {
			if a.Type == "test_helpers.test_clock.internal_failure" && a.ID == failures[0].ID {
				return true
			}
		}
		return false
	})

	// Later advances are refused with Stripe's text; nothing changes.
	_, err := b.sc.V1TestHelpersTestClocks.Advance(t.Context(), failing.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 86400)})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, "Failed to advance time. Future requests to advance time will fail.", se.Msg)

	again, err := b.sc.V1TestHelpersTestClocks.Retrieve(t.Context(), failing.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.TestHelpersTestClockStatus("internal_failure"), again.Status)
	assert.Equal(t, frozen0, again.FrozenTime)

	del, err := b.sc.V1TestHelpersTestClocks.Delete(t.Context(), failing.ID, nil)
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	_, err = b.sc.V1TestHelpersTestClocks.Retrieve(t.Context(), failing.ID, nil)
	stripeError(t, err, http.StatusNotFound)

	// The healthy clock keeps advancing: the failure was its neighbour's.
	b.advance(healthy.ID, target+86400)
}

// TestClockFailNextAdvanceErrors: the control route answers in Stripe's
// envelope for unknown clocks (its own account's only), unknown
// parameters, no key and a clock that is advancing.
func TestClockFailNextAdvanceErrors(t *testing.T) {
	t.Parallel()
	// The delay holds an accepted advance in "advancing".
	e := start(t, emulator.Config{NoSync: true, AdvanceDelay: time.Minute})
	sc := e.client(testKey)
	clock := createClock(t, sc, "")

	ae := e.failNextAdvance(t, testKey, "clock_nope").apiError(t, http.StatusNotFound)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "resource_missing", Param: "id",
		Message: "No such billingclock: 'clock_nope'"}, ae)
	ae = e.failNextAdvance(t, "sk_test_someoneelse0001", clock.ID).apiError(t, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: '"+clock.ID+"'", ae.Message, "another account's clock")

	ae = e.as(t, testKey, http.MethodPost, "/_billclock/test_clocks/"+clock.ID+"/fail_next_advance", "now=true", nil).
		apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Param: "now",
		Message: "Received unknown parameter: now"}, ae)
	ae = e.as(t, "", http.MethodPost, "/_billclock/test_clocks/"+clock.ID+"/fail_next_advance", "", nil).
		apiError(t, http.StatusUnauthorized)
	assert.Equal(t, "invalid_request_error", ae.Type)
	ae = e.as(t, testKey, http.MethodGet, "/_billclock/test_clocks/"+clock.ID+"/fail_next_advance", "", nil).
		apiError(t, http.StatusNotFound)
	assert.Contains(t, ae.Message, "Unrecognized request URL (GET: /_billclock/test_clocks/")

	_, err := sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 3600)})
	require.NoError(t, err)
	ae = e.failNextAdvance(t, testKey, clock.ID).apiError(t, http.StatusBadRequest)
	assert.Equal(t, apiError{Type: "invalid_request_error", Message: "The test clock " + clock.ID +
		" is advancing. Wait for the current advancement to finish before making its next advance fail."}, ae)
}

// TestClockFailNextAdvanceSurvivesRestart: the armed failure is stored with
// the clock, so it holds across a restart.
func TestClockFailNextAdvanceSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})
	clock := createClock(t, e.client(testKey), "")
	require.Equal(t, http.StatusOK, e.failNextAdvance(t, testKey, clock.ID).Status)

	e.srv.Restart()
	sc := e.client(testKey)
	_, err := sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 86400)})
	require.NoError(t, err)
	got := waitReady(t, sc, clock.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatus("internal_failure"), got.Status)
	assert.Equal(t, frozen0, got.FrozenTime)
	assert.Equal(t, []string{"test_helpers.test_clock.internal_failure", "test_helpers.test_clock.advancing",
		"test_helpers.test_clock.created"}, eventTypes(eventsOf(t, sc, nil)))
}

// clockProgress is the answer of GET /_billclock/test_clocks/{id}/progress.
type clockProgress struct {
	Object           string `json:"object"`
	Clock            string `json:"clock"`
	Status           string `json:"status"`
	ReachedTime      int64  `json:"reached_time"`
	TargetFrozenTime int64  `json:"target_frozen_time"`
	TasksDone        int64  `json:"tasks_done"`
}

func (e *env) progressOf(t *testing.T, key, clock string) clockProgress {
	t.Helper()
	r := e.as(t, key, http.MethodGet, "/_billclock/test_clocks/"+url.PathEscape(clock)+"/progress", "", nil)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.True(t, strings.HasPrefix(r.Header.Get("Request-Id"), "req_"))
	var p clockProgress
	require.NoError(t, json.Unmarshal(r.Body, &p), "%s", r.Body)
	return p
}

// TestClockProgress: the progress control route through the real server
// and its worker: an advance waiting out --advance-delay has done nothing
// yet; the ready clock counts its advance's tasks; a failed advance shows
// internal_failure; other accounts and unknown clocks get Stripe's 404.
func TestClockProgress(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true, AdvanceDelay: 200 * time.Millisecond})
	price := b.price("Seats", 1200, stripe.PriceRecurringIntervalMonth)
	clock := b.clockAt(frozen0)
	b.subscribe(b.customer(clock.ID).ID, price.ID, 1, nil)

	// One renewal, 2024-12-23, its upcoming-invoice notice three days
	// before and its invoice's finalization an hour after.
	target := frozen0 + 40*24*hour
	_, err := b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(target)})
	require.NoError(t, err)
	assert.Equal(t, clockProgress{Object: "billclock.test_clock_progress", Clock: clock.ID, Status: "advancing",
		ReachedTime: frozen0, TargetFrozenTime: target}, b.progressOf(t, testKey, clock.ID))
	waitReady(t, b.sc, clock.ID)
	assert.Equal(t, clockProgress{Object: "billclock.test_clock_progress", Clock: clock.ID, Status: "ready",
		ReachedTime: target, TargetFrozenTime: target, TasksDone: 3}, b.progressOf(t, testKey, clock.ID))

	// The count is stored with the clock: a restart keeps it.
	b.srv.Restart()
	b.sc = b.client(testKey)
	assert.Equal(t, int64(3), b.progressOf(t, testKey, clock.ID).TasksDone, "after a restart")

	b.failNextAdvance(t, testKey, clock.ID)
	_, err = b.sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(target + 24*hour)})
	require.NoError(t, err)
	assert.Equal(t, stripe.TestHelpersTestClockStatus("internal_failure"), waitReady(t, b.sc, clock.ID).Status)
	assert.Equal(t, clockProgress{Object: "billclock.test_clock_progress", Clock: clock.ID, Status: "internal_failure",
		ReachedTime: target, TargetFrozenTime: target}, b.progressOf(t, testKey, clock.ID))

	ae := b.as(t, "sk_test_progressother", http.MethodGet, "/_billclock/test_clocks/"+clock.ID+"/progress", "", nil).apiError(t, http.StatusNotFound)
	assert.Equal(t, "resource_missing", ae.Code)
	ae = b.as(t, testKey, http.MethodGet, "/_billclock/test_clocks/clock_nope/progress", "", nil).apiError(t, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: 'clock_nope'", ae.Message)
	b.as(t, "", http.MethodGet, "/_billclock/test_clocks/"+clock.ID+"/progress", "", nil).apiError(t, http.StatusUnauthorized)
}
