package stripe

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// fakeClock is a settable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeClock) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeClock) Add(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

// newSurface returns the Stripe dialect over a runtime with ro, over a
// fresh database unless ro names one, and a router serving every route of
// the runtime (the dialect's and the control routes).
func newSurface(t testing.TB, ro clockwork.Options, so Options) (*Surface, *mux.Router) {
	t.Helper()
	if ro.DB == nil {
		db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		ro.DB = db
	}
	rt := clockwork.New(ro)
	s := New(rt, so)
	rt.Register(s)
	r := mux.NewRouter()
	rt.Routes(r)
	return s, r
}

func newTestSurface(t testing.TB, now func() time.Time) (*Surface, *httptest.Server) {
	t.Helper()
	s, r := newSurface(t, clockwork.Options{Now: now}, Options{})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return s, srv
}

func doCall(t *testing.T, srv *httptest.Server, method, path, key string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestSweepDeletesExpiredClocksAndIdempotencyKeys(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_janitor"

	status, old := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {"1732320000"}})
	require.Equal(t, 200, status)
	wall.Add(29 * 24 * time.Hour)
	status, young := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {"1732320000"}})
	require.Equal(t, 200, status)

	// An idempotency key used now is remembered by the sweep below...
	req, _ := http.NewRequest("POST", srv.URL+"/v1/test_helpers/test_clocks", strings.NewReader("frozen_time=1"))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Idempotency-Key", "k1")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()

	wall.Add(24*time.Hour + time.Second) // the first clock is now 30 days and 1 s old
	require.NoError(t, s.rt.Sweep())

	status, body := doCall(t, srv, "GET", "/v1/test_helpers/test_clocks/"+old["id"].(string), key, nil)
	assert.Equal(t, 404, status)
	assert.Equal(t, "No such billingclock: '"+old["id"].(string)+"'", body["error"].(map[string]any)["message"])
	status, _ = doCall(t, srv, "GET", "/v1/test_helpers/test_clocks/"+young["id"].(string), key, nil)
	assert.Equal(t, 200, status)

	status, events := doCall(t, srv, "GET", "/v1/events?type=test_helpers.test_clock.deleted", key, nil)
	require.Equal(t, 200, status)
	data := events["data"].([]any)
	require.Len(t, data, 1)
	ev := data[0].(map[string]any)
	assert.Equal(t, old["id"], ev["data"].(map[string]any)["object"].(map[string]any)["id"])
	assert.Nil(t, ev["request"].(map[string]any)["id"], "the janitor's delete has no request")

	// ...and forgotten once 24 hours have passed: the same key then
	// executes anew instead of replaying.
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		acct, _ := tx.Account(key)
		keys, _ := acct.Collection(clockwork.IdempotencyCollection)
		n := 0
		keys.Each(func(string, []byte) error { n++; return nil })
		assert.Equal(t, 0, n, "idempotency keys older than 24h are swept")
		return nil
	}))
}

func TestSweepRenewsSubscriptionsOnNoClockInWallTime(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_walltime"
	status, price := doCall(t, srv, "POST", "/v1/prices", key, url.Values{"currency": {"usd"}, "unit_amount": {"700"},
		"recurring[interval]": {"week"}, "product_data[name]": {"Weekly"}})
	require.Equal(t, 200, status, price)
	status, cus := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"w@example.com"},
		"payment_method": {"pm_card_visa"}})
	require.Equal(t, 200, status, cus)
	status, sub := doCall(t, srv, "POST", "/v1/subscriptions", key, url.Values{"customer": {cus["id"].(string)},
		"items[0][price]": {price["id"].(string)}})
	require.Equal(t, 200, status, sub)

	wall.Add(7*24*time.Hour + 30*time.Minute)
	require.NoError(t, s.rt.Sweep())
	status, list := doCall(t, srv, "GET", "/v1/invoices?customer="+cus["id"].(string), key, nil)
	require.Equal(t, 200, status)
	data := list["data"].([]any)
	require.Len(t, data, 2, "the renewal is due a week later in wall time")
	renewal := data[0].(map[string]any)
	assert.Equal(t, "subscription_cycle", renewal["billing_reason"])
	assert.Equal(t, "draft", renewal["status"], "finalized an hour after the boundary")

	wall.Add(time.Hour)
	require.NoError(t, s.rt.Sweep())
	status, inv := doCall(t, srv, "GET", "/v1/invoices/"+renewal["id"].(string), key, nil)
	require.Equal(t, 200, status)
	assert.Equal(t, "paid", inv["status"])
	assert.EqualValues(t, 700, inv["amount_paid"])
}
