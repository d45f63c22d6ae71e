package emulator_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// commetAPI calls the Commet dialect over raw HTTP, as Commet's own
// clients do: JSON bodies, x-api-key, commet-version.
type commetAPI struct {
	t       *testing.T
	base    string
	key     string
	version string
}

// commetAnswer is an answer: its status, headers and decoded body.
type commetAnswer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

func (a commetAnswer) str(key string) string { s, _ := a.obj()[key].(string); return s }

// obj is the answer's object: its data under the {success, data}
// envelope of 2026-07-11, else the body itself.
func (a commetAnswer) obj() map[string]any {
	if d, ok := a.Body["data"].(map[string]any); ok && a.Body["success"] == true {
		return d
	}
	return a.Body
}

func (c commetAPI) do(method, path string, body any, headers ...string) commetAnswer {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(c.t, err)
		rd = bytes.NewReader(b)
	}
	target := path
	if path[0] == '/' {
		target = c.base + "/api/v1" + path
	}
	req, err := http.NewRequest(method, target, rd)
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	if c.key != "" {
		req.Header.Set("x-api-key", c.key)
	}
	if c.version != "" {
		req.Header.Set("commet-version", c.version)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	a := commetAnswer{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	require.NotEmpty(c.t, raw, "%s %s answered an empty body", method, path)
	require.NotEmpty(c.t, resp.Header.Get("x-request-id"), "%s %s: no x-request-id", method, path)
	if raw[0] == '{' {
		require.NoError(c.t, json.Unmarshal(raw, &a.Body), "%s", raw)
	}
	return a
}

// ok calls and requires a 2xx answer.
func (c commetAPI) ok(method, path string, body any) commetAnswer {
	c.t.Helper()
	a := c.do(method, path, body)
	require.True(c.t, a.Status >= 200 && a.Status < 300, "%s %s: %d %s", method, path, a.Status, a.Raw)
	return a
}

// seatPlan makes the docs' Pro plan ($99 a month, 5 seats included, $25
// per extra seat) and a customer subscribed to it holding seats, with its
// checkout paid by card; it returns the subscription.
func (c commetAPI) seatPlan(customer string, seats int, card string) commetAnswer {
	c.t.Helper()
	if a := c.do(http.MethodGet, "/plans/pro", nil); a.Status == http.StatusNotFound {
		c.ok(http.MethodPost, "/features", map[string]any{"name": "Seats", "code": "seats", "type": "seats"})
		c.ok(http.MethodPost, "/plans", map[string]any{"name": "Pro", "code": "pro"})
		c.ok(http.MethodPost, "/plans/pro/prices", map[string]any{"billingInterval": "monthly", "price": 9900})
		c.ok(http.MethodPost, "/plans/pro/features", map[string]any{"featureId": "seats", "includedAmount": 5,
			"overage": map[string]any{"enabled": true, "unitPrice": 2500}})
	}
	c.ok(http.MethodPost, "/customers", map[string]any{"email": customer + "@example.test", "id": customer})
	sub := c.ok(http.MethodPost, "/subscriptions", map[string]any{"customerId": customer, "planCode": "pro",
		"initialSeats": map[string]any{"seats": seats}})
	require.Equal(c.t, "pending_payment", sub.str("status"))
	paid := c.do(http.MethodPost, sub.str("checkoutUrl"), map[string]any{"cardNumber": card})
	require.Equal(c.t, http.StatusOK, paid.Status, "%s", paid.Raw)
	return sub
}

func newCommet(t *testing.T, srv *emulatortest.Server, key string) commetAPI {
	return commetAPI{t: t, base: srv.URL(), key: key}
}

// TestCommetClockRun: from 2026-07-31 an advance answers 202 with a
// test_clock_run, which the worker processes in time order, one item per
// billing deadline, shown as the clock's latestRun.
func TestCommetClockRun(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	api := newCommet(t, srv, "ck_run")
	clock := api.ok(http.MethodGet, "/test-clock", nil)
	assert.Nil(t, clock.Body["simulatedTime"], "null until the first advance")
	assert.Contains(t, clock.Body, "latestRun")
	assert.Nil(t, clock.Body["latestRun"])

	api.ok(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2030-04-01T00:00:00Z"})
	waitRun(t, api)
	sub := api.seatPlan("acme", 6, "4242424242424242")
	api.ok(http.MethodPost, "/test-clock", map[string]any{"advanceDays": 15})
	waitRun(t, api)
	api.ok(http.MethodPost, "/seats", map[string]any{"customerId": "acme", "featureCode": "seats", "count": 1})

	run := api.do(http.MethodPost, "/test-clock", map[string]any{"advanceDays": 30})
	require.Equal(t, http.StatusAccepted, run.Status, "%s", run.Raw)
	assert.Equal(t, "test_clock_run", run.str("object"))
	assert.Equal(t, false, run.Body["livemode"])
	assert.Contains(t, []string{"pending", "running", "completed"}, run.str("status"))
	assert.Equal(t, "2030-04-16T00:00:00.000Z", run.str("startedAtTime"))
	assert.Equal(t, "2030-05-16T00:00:00.000Z", run.str("targetTime"))
	assert.EqualValues(t, 1, run.Body["estimatedDeadlineCount"])

	latest := waitRun(t, api)
	assert.Equal(t, run.str("id"), latest["id"])
	assert.Equal(t, "completed", latest["status"])
	assert.EqualValues(t, 1, latest["completedDeadlineCount"])
	assert.EqualValues(t, 0, latest["failedDeadlineCount"])
	items := latest["items"].([]any)
	require.Len(t, items, 1)
	item := items[0].(map[string]any)
	assert.Equal(t, "billing_cycle", item["kind"])
	assert.Equal(t, "completed", item["status"])
	assert.Equal(t, "2030-05-01T00:00:00.000Z", item["dueAt"])
	assert.Equal(t, sub.str("id"), item["subscriptionId"])
	assert.Equal(t, "paid", item["outcome"])
	inv := api.ok(http.MethodGet, "/invoices/"+item["invoiceId"].(string), nil)
	assert.EqualValues(t, 16150, inv.Body["total"], "the docs' $161.50")
	assert.Equal(t, item["invoiceNumber"], inv.str("invoiceNumber"))
	clock = api.ok(http.MethodGet, "/test-clock", nil)
	assert.Equal(t, "2030-05-16T00:00:00.000Z", clock.Body["simulatedTime"])
	assert.Equal(t, true, clock.Body["isActive"])
}

// TestCommetClockRunDunning: a failed renewal and its retries are items
// of one run, in time order, until the subscription is canceled.
func TestCommetClockRunDunning(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	api := newCommet(t, srv, "ck_run_dunning")
	api.ok(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2030-04-01T00:00:00Z"})
	waitRun(t, api)
	sub := api.seatPlan("globex", 5, "4000 0000 0000 0341")
	api.ok(http.MethodPost, "/test-clock", map[string]any{"advanceDays": 40})
	run := waitRun(t, api)
	var got [][2]string
	for _, it := range run["items"].([]any) {
		item := it.(map[string]any)
		got = append(got, [2]string{item["kind"].(string) + " " + item["dueAt"].(string)[:10], item["outcome"].(string)})
	}
	assert.Equal(t, [][2]string{
		{"billing_cycle 2030-05-01", "payment_failed"},
		{"dunning_retry 2030-05-02", "retry_failed"},
		{"dunning_retry 2030-05-04", "retry_failed"},
		{"dunning_retry 2030-05-06", "retry_failed"},
		{"dunning_retry 2030-05-08", "dunning_exhausted"},
	}, got)
	assert.EqualValues(t, 5, run["failedDeadlineCount"])
	s := api.ok(http.MethodGet, "/subscriptions/"+sub.str("id"), nil)
	assert.Equal(t, "canceled", s.str("status"))
	assert.Equal(t, "dunning_exhausted", s.Body["cancelReason"])
	invs := api.ok(http.MethodGet, "/invoices?customerId=globex&status=uncollectible", nil)
	assert.Len(t, invs.Body["data"], 1)
}

// waitRun polls GET /test-clock until its latestRun has ended, and
// returns it.
func waitRun(t *testing.T, api commetAPI) map[string]any {
	t.Helper()
	deadline := time.Now().Add(livenessWait)
	for {
		clock := api.ok(http.MethodGet, "/test-clock", nil)
		if run, ok := clock.Body["latestRun"].(map[string]any); ok && (run["status"] == "completed" || run["status"] == "failed") {
			return run
		}
		require.True(t, time.Now().Before(deadline), "the run did not end: %s", clock.Raw)
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCommetProcessBillingByVersion: 2026-07-31 answers process-billing
// with 410 endpoint_deprecated; 2026-07-11 runs what is due and counts it.
func TestCommetProcessBillingByVersion(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	api := newCommet(t, srv, "ck_process")
	gone := api.do(http.MethodPost, "/test-clock/process-billing", map[string]any{})
	assert.Equal(t, http.StatusGone, gone.Status)
	assert.Equal(t, false, gone.Body["success"])
	errBody := gone.Body["error"].(map[string]any)
	assert.Equal(t, "endpoint_deprecated", errBody["code"])

	legacy := api
	legacy.version = "2026-07-11"
	moved := legacy.ok(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2030-04-01T00:00:00Z"})
	assert.Equal(t, true, moved.Body["success"])
	assert.Equal(t, "2030-04-01T00:00:00.000Z", moved.Body["data"].(map[string]any)["simulatedTime"])
	legacy.seatPlan("acme", 7, "4242424242424242")
	legacy.ok(http.MethodPost, "/test-clock", map[string]any{"advanceDays": 30})
	invs := legacy.ok(http.MethodGet, "/invoices", nil)
	assert.Len(t, invs.Body["data"], 1, "moving the clock runs nothing")
	counts := legacy.ok(http.MethodPost, "/test-clock/process-billing", map[string]any{})
	data := counts.Body["data"].(map[string]any)
	assert.EqualValues(t, 1, data["customersFound"])
	assert.EqualValues(t, 1, data["enqueued"])
	assert.EqualValues(t, 0, data["failed"])
	assert.Equal(t, "test_clock", data["object"])
	assert.Len(t, legacy.ok(http.MethodGet, "/invoices", nil).Body["data"], 2, "the renewal")
}

// TestCommetBareObjectsAndPaging: 2026-07-31 answers bare objects, list
// objects with cursors, and the seat objects of its version; 2026-07-11
// the {success, data} envelope and "seat".
func TestCommetBareObjectsAndPaging(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	api := newCommet(t, srv, "ck_shapes")
	for _, id := range []string{"c1", "c2", "c3"} {
		cus := api.ok(http.MethodPost, "/customers", map[string]any{"email": id + "@example.test", "id": id})
		assert.Equal(t, "customer", cus.str("object"))
		assert.NotContains(t, cus.Body, "success")
	}
	page := api.ok(http.MethodGet, "/customers?limit=2", nil)
	assert.Equal(t, "list", page.str("object"))
	assert.Len(t, page.Body["data"], 2)
	assert.Equal(t, true, page.Body["hasMore"])
	cursor := page.str("nextCursor")
	require.NotEmpty(t, cursor)
	next := api.ok(http.MethodGet, "/customers?limit=2&cursor="+cursor, nil)
	assert.Len(t, next.Body["data"], 1)
	assert.Equal(t, false, next.Body["hasMore"])
	assert.Nil(t, next.Body["nextCursor"])
	seen := map[string]bool{}
	for _, p := range []commetAnswer{page, next} {
		for _, c := range p.Body["data"].([]any) {
			seen[c.(map[string]any)["id"].(string)] = true
		}
	}
	assert.Len(t, seen, 3, "every customer once across the pages")

	api.seatPlan("seated", 6, "4242424242424242")
	ev := api.ok(http.MethodPost, "/seats/remove", map[string]any{"customerId": "seated", "seatType": "seats", "count": 2})
	assert.Equal(t, "seat_event", ev.str("object"))
	assert.EqualValues(t, 4, ev.Body["newBalance"])
	bal := api.ok(http.MethodGet, "/seats/balance?customerId=seated&featureCode=seats", nil)
	assert.Equal(t, "seat_balance", bal.str("object"))
	assert.EqualValues(t, 4, bal.Body["current"])
	all := api.ok(http.MethodGet, "/seats/balances?customerId=seated", nil)
	assert.Equal(t, "seat_balance_collection", all.str("object"))
	bulk := api.ok(http.MethodPut, "/seats/bulk", map[string]any{"customerId": "seated", "seats": map[string]any{"seats": 9}})
	assert.Equal(t, "list", bulk.str("object"))
	assert.Equal(t, "seat_event", bulk.Body["data"].([]any)[0].(map[string]any)["object"])

	legacy := api
	legacy.version = "2026-07-11"
	old := legacy.ok(http.MethodDelete, "/seats", map[string]any{"customerId": "seated", "featureCode": "seats", "count": 1})
	assert.Equal(t, true, old.Body["success"])
	assert.Equal(t, "seat", old.Body["data"].(map[string]any)["object"])
	list := legacy.ok(http.MethodGet, "/customers?limit=1", nil)
	assert.Equal(t, true, list.Body["success"])
	assert.Equal(t, true, list.Body["hasMore"])
	assert.NotEmpty(t, list.Body["nextCursor"])
	feats := legacy.ok(http.MethodPost, "/features/manage", map[string]any{"name": "SSO", "code": "sso", "type": "boolean"})
	assert.Equal(t, "feature", feats.Body["data"].(map[string]any)["object"])
}

// TestCommetErrors: Commet's envelope for auth, validation (with
// details), unknown routes and ids, and idempotency keys.
func TestCommetErrors(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	api := newCommet(t, srv, "ck_errors")
	errOf := func(a commetAnswer) map[string]any {
		t.Helper()
		require.Equal(t, false, a.Body["success"], "%s", a.Raw)
		return a.Body["error"].(map[string]any)
	}
	noKey := api
	noKey.key = ""
	a := noKey.do(http.MethodGet, "/customers", nil)
	assert.Equal(t, http.StatusUnauthorized, a.Status)
	assert.Equal(t, "unauthorized", errOf(a)["code"])
	badKey := api
	badKey.key = "sk_test_not_commet"
	assert.Equal(t, http.StatusUnauthorized, badKey.do(http.MethodGet, "/customers", nil).Status)

	a = api.do(http.MethodPost, "/customers", map[string]any{"fullName": 7})
	assert.Equal(t, http.StatusBadRequest, a.Status)
	e := errOf(a)
	assert.Equal(t, "validation_error", e["code"])
	assert.Equal(t, "validation_error", e["type"])
	fields := map[string]bool{}
	for _, d := range e["details"].([]any) {
		fields[d.(map[string]any)["field"].(string)] = true
	}
	assert.Equal(t, map[string]bool{"email": true, "fullName": true}, fields)

	a = api.do(http.MethodPost, "/test-clock", map[string]any{"advanceDays": 0})
	assert.Equal(t, "validation_error", errOf(a)["code"])
	a = api.do(http.MethodPost, "/test-clock", map[string]any{})
	assert.Equal(t, "validation_error", errOf(a)["code"])
	a = api.do(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2001-01-01T00:00:00Z"})
	assert.Equal(t, "The clock can only move forward.", errOf(a)["details"].([]any)[0].(map[string]any)["message"])
	a = api.do(http.MethodPost, "/customers", "not an object")
	assert.Equal(t, "validation_error", errOf(a)["code"])

	a = api.do(http.MethodGet, "/customers/nobody", nil)
	assert.Equal(t, http.StatusNotFound, a.Status)
	assert.Equal(t, "customer_not_found", errOf(a)["code"])
	assert.Equal(t, "not_found_error", errOf(a)["type"])
	a = api.do(http.MethodGet, "/no/such/route", nil)
	assert.Equal(t, http.StatusNotFound, a.Status)
	assert.Equal(t, "not_found", errOf(a)["code"])

	first := api.do(http.MethodPost, "/customers", map[string]any{"email": "idem@example.test"}, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, first.Status)
	again := api.do(http.MethodPost, "/customers", map[string]any{"email": "idem@example.test"}, "Idempotency-Key", "k1")
	assert.Equal(t, first.str("id"), again.str("id"), "replayed")
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	other := api.do(http.MethodPost, "/customers", map[string]any{"email": "other@example.test"}, "Idempotency-Key", "k1")
	assert.Equal(t, http.StatusConflict, other.Status)
	assert.Equal(t, "idempotency_key_mismatch", errOf(other)["code"])
	assert.Len(t, api.ok(http.MethodGet, "/customers", nil).Body["data"], 1)
}

// TestCommetOrganizationsAreIsolated: each key is its own organization,
// with its own customers and clock.
func TestCommetOrganizationsAreIsolated(t *testing.T) {
	srv := emulatortest.Start(t, emulator.Config{})
	a, b := newCommet(t, srv, "ck_org_a"), newCommet(t, srv, "ck_org_b")
	cus := a.ok(http.MethodPost, "/customers", map[string]any{"email": "x@example.test", "id": "shared"})
	assert.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/customers/"+cus.str("id"), nil).Status)
	assert.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/customers/shared", nil).Status)
	b.ok(http.MethodPost, "/customers", map[string]any{"email": "y@example.test", "id": "shared"})
	a.ok(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2031-01-01T00:00:00Z"})
	assert.NotNil(t, a.ok(http.MethodGet, "/test-clock", nil).Body["simulatedTime"])
	assert.Nil(t, b.ok(http.MethodGet, "/test-clock", nil).Body["simulatedTime"])
	// A Commet key is refused by the Stripe API, and the other way round.
	req, _ := http.NewRequest(http.MethodGet, srv.URL()+"/api/v1/customers", nil)
	req.Header.Set("Authorization", "Bearer sk_test_isolated")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestCommetRunFinishesAfterRestart: a run is persisted with its advance:
// one still pending when the server stops (kept by --advance-delay)
// finishes after a restart.
func TestCommetRunFinishesAfterRestart(t *testing.T) {
	var offset atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	srv := emulatortest.Start(t, emulator.Config{AdvanceDelay: time.Minute, Now: now})
	api := newCommet(t, srv, "ck_restart")
	run := api.do(http.MethodPost, "/test-clock", map[string]any{"frozenTime": "2030-04-01T00:00:00Z"})
	require.Equal(t, http.StatusAccepted, run.Status)
	time.Sleep(100 * time.Millisecond)
	clock := api.ok(http.MethodGet, "/test-clock", nil)
	assert.Equal(t, "pending", clock.Body["latestRun"].(map[string]any)["status"], "held by the advance delay")
	assert.Equal(t, http.StatusConflict, api.do(http.MethodPost, "/customers", map[string]any{"email": "a@example.test"}).Status,
		"no changes while the run is under way")

	// The delay has passed by the time the server is back: the restarted
	// worker reads the clock as it starts, so time moves before it.
	offset.Store(int64(2 * time.Minute))
	srv.Restart()
	api.base = srv.URL()
	latest := waitRun(t, api)
	assert.Equal(t, run.str("id"), latest["id"])
	assert.Equal(t, "completed", latest["status"])
	assert.Equal(t, "2030-04-01T00:00:00.000Z", api.ok(http.MethodGet, "/test-clock", nil).Body["simulatedTime"])
}
