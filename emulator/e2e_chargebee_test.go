package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
)

// Chargebee's API over raw HTTP, as its SDKs send it: form bodies, Basic
// authentication with the key as the username.

const cbKey = "test_e2e_site"

// cbWall is the wall time the Chargebee tests run at, unless they move it.
var cbWall = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

// cbClock is a settable wall clock for a server.
type cbClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *cbClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *cbClock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// cbEnv is a server and a site on it.
type cbEnv struct {
	srv  *emulatortest.Server
	wall *cbClock
	key  string
}

func newCBEnv(t *testing.T, cfg emulator.Config) *cbEnv {
	t.Helper()
	wall := &cbClock{t: cbWall}
	if cfg.Now == nil {
		cfg.Now = wall.now
	}
	return &cbEnv{srv: emulatortest.Start(t, cfg), wall: wall, key: cbKey}
}

// cbResp is an answer: its status, headers and decoded JSON body.
type cbResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request with the key as Basic credentials, key + ":" as the
// npm SDK sends it.
func (e *cbEnv) do(t *testing.T, method, path string, form url.Values) cbResp {
	t.Helper()
	return e.send(t, method, path, form, "Basic "+base64.StdEncoding.EncodeToString([]byte(e.key+":")), nil)
}

func (e *cbEnv) send(t *testing.T, method, path string, form url.Values, auth string, header http.Header) cbResp {
	t.Helper()
	target := e.srv.URL() + path
	var body io.Reader
	if method == http.MethodGet && len(form) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target += sep + form.Encode()
	} else if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := cbResp{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	require.Contains(t, resp.Header.Get("Content-Type"), "application/json", "%s %s answered %s", method, path, raw)
	require.NoError(t, json.Unmarshal(raw, &r.body), "%s %s answered %s", method, path, raw)
	return r
}

// ok requires a 200 and returns the body.
func (r cbResp) ok(t *testing.T) map[string]any {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, r.raw)
	return r.body
}

// apiError requires Chargebee's error envelope with status and
// api_error_code, and returns it.
func (r cbResp) apiError(t *testing.T, status int, code string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, r.raw)
	assert.Equal(t, code, r.body["api_error_code"], r.raw)
	assert.NotEmpty(t, r.body["error_code"], "error_code is always there: %s", r.raw)
	assert.NotEmpty(t, r.body["message"], r.raw)
	assert.EqualValues(t, status, r.body["http_status_code"], "http_status_code is a number: %s", r.raw)
	return r.body
}

func obj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	require.True(t, ok, "no %s in %v", key, m)
	return v
}

func num(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	v, ok := m[key].(float64)
	require.True(t, ok, "%s is not a number in %v", key, m)
	return int64(v)
}

func list(t *testing.T, m map[string]any, key string) []map[string]any {
	t.Helper()
	entries, ok := m["list"].([]any)
	require.True(t, ok, "no list in %v", m)
	var out []map[string]any
	for _, e := range entries {
		out = append(out, obj(t, e.(map[string]any), key))
	}
	return out
}

// machine returns the time machine.
func (e *cbEnv) machine(t *testing.T) map[string]any {
	t.Helper()
	return obj(t, e.do(t, http.MethodGet, "/api/v2/time_machines/delorean", nil).ok(t), "time_machine")
}

// settled waits until the time machine is no longer in_progress and
// returns it.
func (e *cbEnv) settled(t *testing.T) map[string]any {
	t.Helper()
	deadline := time.Now().Add(livenessWait)
	for {
		tm := e.machine(t)
		if tm["time_travel_status"] != "in_progress" {
			return tm
		}
		require.True(t, time.Now().Before(deadline), "the time machine is still travelling")
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *cbEnv) startAfresh(t *testing.T, genesis int64) {
	t.Helper()
	tm := obj(t, e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/start_afresh",
		url.Values{"genesis_time": {strconv.FormatInt(genesis, 10)}}).ok(t), "time_machine")
	assert.Contains(t, []any{"in_progress", "succeeded"}, tm["time_travel_status"])
	require.Equal(t, "succeeded", e.settled(t)["time_travel_status"])
}

func (e *cbEnv) travel(t *testing.T, dest int64) {
	t.Helper()
	e.do(t, http.MethodPost, "/api/v2/time_machines/delorean/travel_forward",
		url.Values{"destination_time": {strconv.FormatInt(dest, 10)}}).ok(t)
	tm := e.settled(t)
	require.Equal(t, "succeeded", tm["time_travel_status"])
	require.EqualValues(t, dest, tm["destination_time"])
}

// catalog makes a plan with a per-unit monthly price of amount.
func (e *cbEnv) catalog(t *testing.T, price string, amount int64) {
	t.Helper()
	e.do(t, http.MethodPost, "/api/v2/item_families", url.Values{"id": {"fam-" + price}, "name": {"Family " + price}}).ok(t)
	e.do(t, http.MethodPost, "/api/v2/items", url.Values{"id": {"item-" + price}, "name": {"Seat " + price}, "type": {"plan"},
		"item_family_id": {"fam-" + price}}).ok(t)
	e.do(t, http.MethodPost, "/api/v2/item_prices", url.Values{"id": {price}, "item_id": {"item-" + price}, "name": {"Seat " + price},
		"pricing_model": {"per_unit"}, "price": {strconv.FormatInt(amount, 10)}, "period": {"1"}, "period_unit": {"month"}}).ok(t)
}

func (e *cbEnv) customer(t *testing.T, id, card string) map[string]any {
	t.Helper()
	form := url.Values{"id": {id}, "first_name": {"Ada"}, "email": {id + "@example.com"}}
	if card != "" {
		form.Set("card[number]", card)
		form.Set("card[expiry_month]", "12")
		form.Set("card[expiry_year]", "2040")
	}
	return e.do(t, http.MethodPost, "/api/v2/customers", form).ok(t)
}

func (e *cbEnv) subscribe(t *testing.T, customer, price string, qty int) map[string]any {
	t.Helper()
	return e.do(t, http.MethodPost, "/api/v2/customers/"+customer+"/subscription_for_items", url.Values{
		"subscription_items[item_price_id][0]": {price}, "subscription_items[quantity][0]": {strconv.Itoa(qty)}}).ok(t)
}

// TestChargebeeAuth: a site is its API key, sent as the username of Basic
// authentication with or without the colon; live_ keys, other keys and no
// key get Chargebee's 401, in JSON.
func TestChargebeeAuth(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{APIKeys: []string{cbKey, "test_other_site", "live_site"}})
	withColon := "Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey+":"))
	noColon := "Basic " + base64.StdEncoding.EncodeToString([]byte(cbKey))
	created := e.send(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"ada"}}, withColon, nil).ok(t)
	assert.Equal(t, "ada", obj(t, created, "customer")["id"])
	got := e.send(t, http.MethodGet, "/api/v2/customers/ada", nil, noColon, nil).ok(t)
	assert.Equal(t, "ada", obj(t, got, "customer")["id"], "chargebee-go's header without the colon is the same site")
	noPadding := "Basic " + base64.RawStdEncoding.EncodeToString([]byte(cbKey))
	e.send(t, http.MethodGet, "/api/v2/customers/ada", nil, noPadding, nil).ok(t)

	other := "Basic " + base64.StdEncoding.EncodeToString([]byte("test_other_site:"))
	e.send(t, http.MethodGet, "/api/v2/customers/ada", nil, other, nil).apiError(t, http.StatusNotFound, "resource_not_found")

	for name, auth := range map[string]string{
		"none":          "",
		"bearer":        "Bearer " + cbKey,
		"not base64":    "Basic %%%",
		"empty key":     "Basic " + base64.StdEncoding.EncodeToString([]byte(":secret")),
		"a stripe key":  "Basic " + base64.StdEncoding.EncodeToString([]byte("sk_test_123:")),
		"not allowed":   "Basic " + base64.StdEncoding.EncodeToString([]byte("test_not_allowed:")),
		"control chars": "Basic " + base64.StdEncoding.EncodeToString([]byte("test_a\x01b:")),
	} {
		r := e.send(t, http.MethodGet, "/api/v2/customers", nil, auth, nil)
		assert.Equal(t, http.StatusUnauthorized, r.status, "%s: %s", name, r.raw)
		assert.Equal(t, "api_authentication_failed", r.body["api_error_code"], name)
		assert.EqualValues(t, 401, r.body["http_status_code"], name)
	}
	live := e.send(t, http.MethodGet, "/api/v2/customers", nil,
		"Basic "+base64.StdEncoding.EncodeToString([]byte("live_site:")), nil).apiError(t, http.StatusUnauthorized, "api_authentication_failed")
	assert.Contains(t, live["message"], "live_")
	assert.NotContains(t, live["message"], "live_site", "the key is never shown")
}

// TestChargebeeErrorsAreChargebeeJSON: unknown routes and methods, bad
// parameters, JSON bodies, missing objects: every answer is Chargebee's
// JSON envelope with a 4xx status.
func TestChargebeeErrorsAreChargebeeJSON(t *testing.T) {
	t.Parallel()
	e := newCBEnv(t, emulator.Config{})
	e.do(t, http.MethodGet, "/api/v2/nope", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodDelete, "/api/v2/customers", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodGet, "/api/v2/time_machines/marty", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodPost, "/api/v2/time_machines/marty/travel_forward", url.Values{"destination_time": {"1"}}).
		apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodGet, "/api/v2/customers/nobody", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodGet, "/api/v2/subscriptions/nothing", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodGet, "/api/v2/invoices/nothing", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodGet, "/api/v2/events/nothing", nil).apiError(t, http.StatusNotFound, "resource_not_found")
	e.do(t, http.MethodPost, "/api/v2/customers/nobody/subscription_for_items", url.Values{
		"subscription_items[item_price_id][0]": {"x"}}).apiError(t, http.StatusNotFound, "resource_not_found")

	bad := e.do(t, http.MethodPost, "/api/v2/item_families", url.Values{"name": {"No id"}}).
		apiError(t, http.StatusBadRequest, "param_wrong_value")
	assert.Equal(t, "id", bad["param"])
	assert.Equal(t, "id : cannot be blank", bad["message"])
	e.do(t, http.MethodGet, "/api/v2/customers", url.Values{"limit": {"1000"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/customers", url.Values{"limit": {"ten"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/customers", url.Values{"offset": {"no-such-offset"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"status[in]": {"paid"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"status[in]": {`["paid","bogus"]`}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"status[like]": {"paid"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"sort_by[up]": {"date"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/invoices", url.Values{"sort_by[asc]": {"total"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/events", url.Values{"occurred_at[after]": {"yesterday"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodGet, "/api/v2/events", url.Values{"occurred_at[between]": {"[1]"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"email": {"not an email"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"id": {"a/b"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"meta_data": {"[1,2]"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"card[number]": {"4242424242424242"}, "card[expiry_month]": {"1"},
		"card[expiry_year]": {"2040"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"card[number]": {"4111111111111111"}, "card[expiry_month]": {"13"},
		"card[expiry_year]": {"2040"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")
	e.do(t, http.MethodPost, "/api/v2/customers", url.Values{"card[number]": {"4111111111111111"}, "card[expiry_month]": {"1"},
		"card[expiry_year]": {"2020"}}).apiError(t, http.StatusBadRequest, "param_wrong_value")

	jsonBody := e.send(t, http.MethodPost, "/api/v2/customers", nil,
		"Basic "+base64.StdEncoding.EncodeToString([]byte(cbKey+":")), http.Header{"Content-Type": {"application/json"}})
	assert.Equal(t, http.StatusOK, jsonBody.status, "an empty JSON-typed body is an empty form")
	req, err := http.NewRequest(http.MethodPost, e.srv.URL()+"/api/v2/customers", strings.NewReader(`{"id":"x"}`))
	require.NoError(t, err)
	req.SetBasicAuth(cbKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode, string(raw))
	assert.Contains(t, string(raw), `"api_error_code":"invalid_request"`)

	r := e.do(t, http.MethodPost, "/api/v2/customers", url.Values{strings.Repeat("k", 300): {"v"}})
	r.apiError(t, http.StatusBadRequest, "invalid_request")
	big := url.Values{"first_name": {strings.Repeat("x", 2<<20)}}
	r = e.do(t, http.MethodPost, "/api/v2/customers", big)
	r.apiError(t, http.StatusBadRequest, "invalid_request")
}
