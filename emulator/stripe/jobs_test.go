package stripe

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// handle runs handler h for account in one write transaction, as the
// surface's adapter would for a request with form as its body, then runs
// the call's after-commit work.
func handle(t *testing.T, s *Surface, account string, h handler, vars map[string]string, form string) map[string]any {
	t.Helper()
	f, err := ParseForm("", form)
	require.NoError(t, err)
	c := &call{p: newParams(f), vars: vars, account: account, requestID: clockwork.NewID("req_", 14), version: DefaultAPIVersion, now: s.now()}
	var body []byte
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		v, err := h(c, tx)
		if err != nil {
			return err
		}
		body, err = json.Marshal(v)
		return err
	}))
	for _, f := range c.after {
		f()
	}
	s.deliverer.wake()
	var out map[string]any
	require.NoError(t, json.Unmarshal(body, &out))
	return out
}

// runSurface runs s's background work until the test ends.
func runSurface(t *testing.T, s *Surface) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// TestJobsKeepAccountsThatAreNotUTF8: an account key that is not valid
// UTF-8 goes through the advance and delivery queues unchanged, so its
// clock finishes advancing and its webhooks are delivered.
func TestJobsKeepAccountsThatAreNotUTF8(t *testing.T) {
	const account = "sk_test_\xff\xfe\x80acct" // not valid UTF-8
	db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	s := New(Options{DB: db})

	arrived := make(chan string, 16)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			ID   string `json:"id"`
			Type string `json:"type"`
		}
		json.Unmarshal(body, &ev)
		arrived <- ev.Type
	}))
	t.Cleanup(rcv.Close)

	handle(t, s, account, s.createWebhookEndpoint, nil, "url="+rcv.URL+"&enabled_events[]=test_helpers.test_clock.ready")
	clock := handle(t, s, account, s.createClock, nil, "frozen_time=1732320000")
	id := clock["id"].(string)
	handle(t, s, account, s.advanceClock, map[string]string{"id": id}, "frozen_time="+strconv.Itoa(1732320000+86400))

	// The queued jobs name the account byte for byte.
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		aq, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		raw, err := aq.Get(jobKey(account, id))
		require.NoError(t, err)
		var aj advanceJob
		require.NoError(t, json.Unmarshal(raw, &aj))
		assert.Equal(t, []byte(account), []byte(aj.account()), "advance job account")
		return nil
	}))

	runSurface(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var c *billing.Clock
		require.NoError(t, s.db.View(func(tx *store.Tx) error {
			clocks, err := accountClocks(tx, account)
			if err != nil {
				return err
			}
			c, err = loadClock(clocks, id, "id")
			return err
		}))
		if c.Status == billing.ClockReady {
			assert.Equal(t, int64(1732320000+86400), c.FrozenTime)
			break
		}
		require.Equal(t, billing.ClockAdvancing, c.Status)
		require.True(t, time.Now().Before(deadline), "the clock never became ready")
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case typ := <-arrived:
		assert.Equal(t, "test_helpers.test_clock.ready", typ)
	case <-time.After(10 * time.Second):
		t.Fatal("the ready event was never delivered")
	}
}

// TestJobAccountReadsTheOldForm: jobs written before accounts were stored
// as bytes (a JSON string under "account") still name their account.
func TestJobAccountReadsTheOldForm(t *testing.T) {
	var aj advanceJob
	require.NoError(t, json.Unmarshal([]byte(`{"account":"sk_test_old","clock":"clock_1","target":5,"not_before":1}`), &aj))
	assert.Equal(t, "sk_test_old", aj.account())
	assert.Equal(t, "clock_1", aj.Clock)
	var dj deliveryJob
	require.NoError(t, json.Unmarshal([]byte(`{"account":"sk_test_old","endpoint":"we_1","event":"evt_1","attempts":2,"next_attempt":7}`), &dj))
	assert.Equal(t, "sk_test_old", dj.account())
	assert.Equal(t, 2, dj.Attempts)

	for _, key := range []string{"sk_test_new", "sk_test_\xff\x00\xfe", ""} {
		raw, err := json.Marshal(deliveryJob{jobAccount: newJobAccount(key), Endpoint: "we_1"})
		require.NoError(t, err)
		var back deliveryJob
		require.NoError(t, json.Unmarshal(raw, &back))
		assert.Equal(t, []byte(key), []byte(back.account()), "%s", raw)
	}
}

// TestAdvanceOfACorruptClockFails: a stored task that does not decode is
// a state no retry can cure, so the clock goes to internal_failure (with
// its event) instead of advancing forever.
func TestAdvanceOfACorruptClockFails(t *testing.T) {
	s, srv := newTestSurface(t, nil)
	const key = "sk_test_corrupt"
	call := func(path string, form url.Values) map[string]any {
		t.Helper()
		status, body := doCall(t, srv, "POST", path, key, form)
		require.Equal(t, 200, status, body)
		return body
	}
	clock := call("/v1/test_helpers/test_clocks", url.Values{"frozen_time": {"1732320000"}})["id"].(string)
	price := call("/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})["id"].(string)
	cus := call("/v1/customers", url.Values{"test_clock": {clock}})["id"].(string)
	call("/v1/subscriptions", url.Values{"customer": {cus}, "items[0][price]": {price}})
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		require.NoError(t, err)
		tl, err := acct.Timeline()
		require.NoError(t, err)
		return tl.Add(clock, 1732320000+86400, []byte(`{"kind":`)) // a task cut short
	}))
	call("/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.Itoa(1732320000 + 40*86400)}})
	runSurface(t, s)

	deadline := time.Now().Add(10 * time.Second)
	for {
		_, c := doCall(t, srv, "GET", "/v1/test_helpers/test_clocks/"+clock, key, nil)
		if c["status"] != "advancing" {
			assert.Equal(t, "internal_failure", c["status"])
			break
		}
		require.True(t, time.Now().Before(deadline), "the clock is still advancing")
		time.Sleep(10 * time.Millisecond)
	}
	_, evs := doCall(t, srv, "GET", "/v1/events?type=test_helpers.test_clock.internal_failure", key, nil)
	require.Len(t, evs["data"], 1)
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		q, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		_, err = q.Get(jobKey(key, clock))
		assert.ErrorIs(t, err, store.ErrNotFound, "the advance is no longer queued")
		return nil
	}))
}

// TestCorruptAdvanceJobFailsOnlyItsClock: a queued advance that does not
// decode fails its own clock and holds up no other advance.
func TestCorruptAdvanceJobFailsOnlyItsClock(t *testing.T) {
	s, srv := newTestSurface(t, nil)
	const key = "sk_test_corruptjob"
	status := func(id string) string {
		_, c := doCall(t, srv, "GET", "/v1/test_helpers/test_clocks/"+id, key, nil)
		return c["status"].(string)
	}
	var clocks []string
	for range 2 {
		code, c := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {"1732320000"}})
		require.Equal(t, 200, code)
		id := c["id"].(string)
		code, _ = doCall(t, srv, "POST", "/v1/test_helpers/test_clocks/"+id+"/advance", key, url.Values{"frozen_time": {"1732406400"}})
		require.Equal(t, 200, code)
		clocks = append(clocks, id)
	}
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		q, err := tx.Queue(advanceQueue)
		require.NoError(t, err)
		return q.Put(jobKey(key, clocks[0]), []byte(`{"account_key":`))
	}))
	runSurface(t, s)
	deadline := time.Now().Add(10 * time.Second)
	for status(clocks[0]) == "advancing" || status(clocks[1]) == "advancing" {
		require.True(t, time.Now().Before(deadline), "still advancing: %s %s", status(clocks[0]), status(clocks[1]))
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, "internal_failure", status(clocks[0]))
	assert.Equal(t, "ready", status(clocks[1]))
}
