package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
)

// TestChargebeeTimeMachine: a site starts with a machine that has
// succeeded at the real time of its first request; start_afresh (with an
// empty body: six months back) wipes the customer data and keeps the
// catalog; travel_forward goes only forward and never past the present;
// every object lives in the machine's time.
func TestChargebeeTimeMachine(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{})
	first := e.machine(t)
	assert.Equal(t, map[string]any{"name": "delorean", "object": "time_machine", "time_travel_status": "succeeded",
		"genesis_time": float64(cbWall.Unix()), "destination_time": float64(cbWall.Unix())}, first)
	e.wall.set(cbWall.Add(time.Hour))
	assert.EqualValues(t, cbWall.Unix(), e.machine(t)["genesis_time"], "the site keeps the time of its first request")

	// An empty body: the npm SDK's startAfresh() with no argument.
	req, err := http.NewRequest(http.MethodPost, e.srv.URL()+"/api/v2/time_machines/delorean/start_afresh", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(cbKey+":")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var started map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&started))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, started)
	tm := e.settled(t)
	sixBack := e.wall.now().AddDate(0, -6, 0).Unix()
	assert.Equal(t, "succeeded", tm["time_travel_status"])
	assert.EqualValues(t, sixBack, tm["genesis_time"])
	assert.EqualValues(t, sixBack, tm["destination_time"])

	// The catalog and a customer live in the machine's time.
	e.catalog(t, "seat-monthly", 1000)
	cust := obj(t, e.customer(t, "ada", "4111111111111111"), "customer")
	assert.EqualValues(t, sixBack, cust["created_at"])
	sub := obj(t, e.subscribe(t, "ada", "seat-monthly", 2), "subscription")
	assert.EqualValues(t, sixBack, sub["created_at"])

	// Travel: not back, not past the present, not without a destination.
	now := e.wall.now().Unix()
	for _, dest := range []int64{sixBack, sixBack - 1, now + 1} {
		e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
			url.Values{"destination_time": {strconv.FormatInt(dest, 10)}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	}
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward", url.Values{}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.travel(t, now)
	invoices := list(t, e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"limit": {"100"}}).ok(t), "invoice")
	assert.Len(t, invoices, 7, "the first invoice and six monthly renewals, up to the present")

	// start_afresh: not in the future; then customers, subscriptions,
	// invoices and events are gone and the catalog stays.
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/start_afresh",
		url.Values{"genesis_time": {strconv.FormatInt(now, 10)}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	genesis := now - 40*86400
	e.startAfresh(t, genesis)
	for _, path := range []string{"/api/v2/customers", "/api/v2/subscriptions", "/api/v2/invoices", "/api/v2/events"} {
		assert.Empty(t, e.do(t, http.MethodGet, path, nil).ok(t)["list"], path)
	}
	e.do(t, http.MethodGet, "/api/v2/customers/ada", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	assert.Len(t, list(t, e.do(t, http.MethodGet, "/api/v2/item_prices", nil).ok(t), "item_price"), 1, "the catalog stays")
	assert.EqualValues(t, genesis, e.machine(t)["destination_time"])
	e.customer(t, "ada", "4111111111111111") // the id is free again
}

// TestChargebeeTravelInProgressAndFailed: while the machine travels
// (--advance-delay keeps it in_progress) changes of customer data are
// refused with 409 and reads work; a travel made to fail (the runtime's
// failure injection) leaves the machine failed with failure_code,
// failure_reason and error_json, after which only start_afresh is taken.
func TestChargebeeTravelInProgressAndFailed(t *testing.T) {
	t.Parallel()
	// The delay is measured on the wall clock: a real one here.
	e := newCBEnv(t, emulator.Config{AdvanceDelay: 300 * time.Millisecond, Now: time.Now})
	genesis := time.Now().Add(-60 * 24 * time.Hour).Unix()
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/start_afresh",
		url.Values{"genesis_time": {strconv.FormatInt(genesis, 10)}}).ok(t)
	assert.Equal(t, "in_progress", e.machine(t)["time_travel_status"], "--advance-delay keeps it in progress")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"early"}}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
		url.Values{"destination_time": {strconv.FormatInt(genesis+86400, 10)}}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.do(t, http.MethodGet, "/api/v2/customers", nil).ok(t)
	require.Equal(t, "succeeded", e.settled(t)["time_travel_status"])

	e.catalog(t, "seat-monthly", 1000)
	e.customer(t, "ada", "4111111111111111")
	e.subscribe(t, "ada", "seat-monthly", 1)
	dest := genesis + 31*86400
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
		url.Values{"destination_time": {strconv.FormatInt(dest, 10)}}).ok(t)
	tm := e.machine(t)
	assert.Equal(t, "in_progress", tm["time_travel_status"])
	assert.EqualValues(t, dest, tm["destination_time"], "the destination shows while travelling")
	e.do(t, http.MethodPost, "/api/v2/customers/ada", url.Values{"first_name": {"Grace"}}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.settled(t)

	// Failure injection through the runtime's control route.
	key := "Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey+":"))
	e.send(t, http.MethodPost, "/_billclock/test_clocks/marty/fail_next_advance", url.Values{}, key, nil).
		apiError(t, http.StatusNotFound, "resource_not_found")
	armed := e.send(t, http.MethodPost, "/_billclock/test_clocks/delorean/fail_next_advance", url.Values{}, key, nil).ok(t)
	assert.Equal(t, "succeeded", obj(t, armed, "time_machine")["time_travel_status"])
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
		url.Values{"destination_time": {strconv.FormatInt(dest+86400, 10)}}).ok(t)
	failed := e.settled(t)
	assert.Equal(t, "failed", failed["time_travel_status"])
	assert.Equal(t, "time_travel_failed", failed["failure_code"])
	assert.NotEmpty(t, failed["failure_reason"])
	assert.EqualValues(t, dest, failed["destination_time"], "nothing of the failed travel is applied")
	var ej map[string]any
	require.NoError(t, json.Unmarshal([]byte(failed["error_json"].(string)), &ej), "error_json is a JSON object string")
	assert.EqualValues(t, 500, ej["http_code"])
	assert.NotEmpty(t, ej["message"])
	assert.NotEmpty(t, ej["api_error_code"])
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
		url.Values{"destination_time": {strconv.FormatInt(dest+2*86400, 10)}}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"late"}}).apiError(t, http.StatusConflict, "invalid_state_for_request")
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/start_afresh",
		url.Values{"genesis_time": {strconv.FormatInt(genesis, 10)}}).ok(t)
	tm = e.settled(t)
	assert.Equal(t, "succeeded", tm["time_travel_status"])
	assert.Nil(t, tm["failure_code"])
	e.customer(t, "ada", "")
}
