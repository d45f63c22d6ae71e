package stripe

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

const day = 24 * time.Hour

// idemCall is doCall with an Idempotency-Key.
func idemCall(t *testing.T, srv *httptest.Server, path, key, idemKey string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", idemKey)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// deliverDue makes every webhook delivery that is due at the surface's
// wall time, until none is left, and returns how many attempts it made.
func deliverDue(t *testing.T, s *Surface) int {
	t.Helper()
	n, err := s.rt.DeliverDue(context.Background())
	require.NoError(t, err)
	return n
}

// listIDs lists the ids of a list route, all pages.
func listIDs(t *testing.T, srv *httptest.Server, path, key string) []string {
	t.Helper()
	var ids []string
	after := ""
	for {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		p := path + sep + "limit=100"
		if after != "" {
			p += "&starting_after=" + after
		}
		status, body := doCall(t, srv, "GET", p, key, nil)
		require.Equal(t, 200, status, body)
		for _, o := range body["data"].([]any) {
			ids = append(ids, o.(map[string]any)["id"].(string))
		}
		if !body["has_more"].(bool) {
			return ids
		}
		after = ids[len(ids)-1]
	}
}

// countRecords counts the records of a collection of the account.
func countRecords(t *testing.T, s *Surface, account, coll string) int {
	t.Helper()
	n := 0
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		acct, err := tx.Account(account)
		if err != nil {
			return err
		}
		c, err := acct.Collection(coll)
		if err != nil {
			return err
		}
		return c.Each(func(string, []byte) error { n++; return nil })
	}))
	return n
}

func okReceiver(t *testing.T, hits *atomic.Int64) *httptest.Server {
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(rc.Close)
	return rc
}

func TestRetentionPrunesByWallTime(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_retention"
	var hits atomic.Int64
	rc := okReceiver(t, &hits)
	status, we := doCall(t, srv, "POST", "/v1/webhook_endpoints", key, url.Values{"url": {rc.URL}, "enabled_events[]": {"*"}})
	require.Equal(t, 200, status, we)

	// Day 0: a customer created and deleted, and customers on clocks whose
	// events carry created times in 2020 and in 2040, clocks deleted.
	status, gone := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"gone@example.com"}})
	require.Equal(t, 200, status, gone)
	status, _ = doCall(t, srv, "DELETE", "/v1/customers/"+gone["id"].(string), key, nil)
	require.Equal(t, 200, status)
	for _, frozen := range []string{"1577836800", "2208988800"} {
		status, clock := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {frozen}})
		require.Equal(t, 200, status, clock)
		status, cus := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"test_clock": {clock["id"].(string)}})
		require.Equal(t, 200, status, cus)
		status, _ = doCall(t, srv, "DELETE", "/v1/test_helpers/test_clocks/"+clock["id"].(string), key, nil)
		require.Equal(t, 200, status)
	}
	status, _ = idemCall(t, srv, "/v1/customers", key, "day0", url.Values{"email": {"first@example.com"}})
	require.Equal(t, 200, status)
	require.Positive(t, deliverDue(t, s))
	oldEvents := listIDs(t, srv, "/v1/events", key)
	require.Len(t, oldEvents, 11)
	oldAttempts := listIDs(t, srv, "/_billclock/webhook_attempts", key)
	require.Len(t, oldAttempts, 11)

	// Day 29: younger records.
	wall.Add(29 * day)
	status, young := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"young@example.com"}})
	require.Equal(t, 200, status, young)
	require.Equal(t, 1, deliverDue(t, s))
	require.NoError(t, s.rt.Sweep())

	for _, id := range oldEvents {
		status, _ := doCall(t, srv, "GET", "/v1/events/"+id, key, nil)
		assert.Equal(t, 200, status, "29 days old: kept, whatever its created")
	}
	status, stub := doCall(t, srv, "GET", "/v1/customers/"+gone["id"].(string), key, nil)
	assert.Equal(t, 200, status)
	assert.Equal(t, true, stub["deleted"], "the deleted stub is kept as long as the events")
	// The idempotency key is forgotten after 24 hours, as before.
	status, again := idemCall(t, srv, "/v1/customers", key, "day0", url.Values{"email": {"other@example.com"}})
	assert.Equal(t, 200, status, again)
	assert.Equal(t, "other@example.com", again["email"], "a key older than 24 hours runs anew")
	require.Equal(t, 1, deliverDue(t, s))

	// Day 30 and a second: the records of day 0 are past the retention.
	wall.Add(day + time.Second)
	require.NoError(t, s.rt.Sweep())
	for _, id := range oldEvents {
		status, body := doCall(t, srv, "GET", "/v1/events/"+id, key, nil)
		require.Equal(t, 404, status, "an event recorded 30 days ago")
		assert.Equal(t, "No such event: '"+id+"'", body["error"].(map[string]any)["message"])
	}
	events := listIDs(t, srv, "/v1/events", key)
	assert.Len(t, events, 2, "the two events of day 29 stay")
	assert.NotContains(t, events, oldEvents[0])
	assert.Len(t, listIDs(t, srv, "/v1/events?type=customer.created", key), 2, "filtered lists too")
	assert.Empty(t, listIDs(t, srv, "/v1/events?type=customer.deleted", key))
	assert.Len(t, listIDs(t, srv, "/_billclock/webhook_attempts", key), 2, "attempts of day 29 stay")
	assert.Empty(t, listIDs(t, srv, "/_billclock/webhook_attempts?event="+oldEvents[0], key))
	status, body := doCall(t, srv, "GET", "/v1/customers/"+gone["id"].(string), key, nil)
	assert.Equal(t, 404, status, "the deleted stub is gone with its event: %v", body)
	status, _ = doCall(t, srv, "GET", "/v1/customers/"+young["id"].(string), key, nil)
	assert.Equal(t, 200, status, "live objects are not pruned, however old")
	assert.Equal(t, 2, countRecords(t, s, key, clockwork.EventsCollection))
	assert.Equal(t, 2, countRecords(t, s, key, clockwork.AttemptsCollection))

	wall.Add(30 * day)
	require.NoError(t, s.rt.Sweep())
	assert.Empty(t, listIDs(t, srv, "/v1/events", key))
	assert.Zero(t, countRecords(t, s, key, clockwork.EventsCollection))
	assert.Zero(t, countRecords(t, s, key, clockwork.IdempotencyCollection))
}

// TestRetentionKeepsTheDatabaseBounded runs a steady load over simulated
// days: once the retention has passed, each day prunes as much as it adds.
func TestRetentionKeepsTheDatabaseBounded(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_steady"
	var hits atomic.Int64
	rc := okReceiver(t, &hits)
	status, we := doCall(t, srv, "POST", "/v1/webhook_endpoints", key, url.Values{"url": {rc.URL}, "enabled_events[]": {"*"}})
	require.Equal(t, 200, status, we)

	// Each day: 3 customers created (one with an idempotency key), one
	// updated, one deleted: 5 events, 5 attempts, 1 deleted stub, 1 key.
	const perDay = 5
	deleted := map[int]string{}
	for d := range 90 {
		var ids []string
		for i := range 3 {
			form := url.Values{"email": {"c@example.com"}}
			var cus map[string]any
			if i == 0 {
				status, cus = idemCall(t, srv, "/v1/customers", key, "key-"+strconv.Itoa(d), form)
			} else {
				status, cus = doCall(t, srv, "POST", "/v1/customers", key, form)
			}
			require.Equal(t, 200, status, cus)
			ids = append(ids, cus["id"].(string))
		}
		status, _ = doCall(t, srv, "POST", "/v1/customers/"+ids[0], key, url.Values{"name": {"Updated"}})
		require.Equal(t, 200, status)
		status, _ = doCall(t, srv, "DELETE", "/v1/customers/"+ids[1], key, nil)
		require.Equal(t, 200, status)
		deleted[d] = ids[1]
		require.Equal(t, perDay, deliverDue(t, s))

		wall.Add(day)
		require.NoError(t, s.rt.Sweep())
		// After the sweep of day d+1, the days d-29..d are kept.
		days := min(d+1, 30)
		require.Equal(t, days*perDay, countRecords(t, s, key, clockwork.EventsCollection), "events after day %d", d)
		require.Equal(t, days*perDay, countRecords(t, s, key, clockwork.AttemptsCollection), "attempts after day %d", d)
		require.Equal(t, days*perDay, len(listIDs(t, srv, "/v1/events", key)))
		require.Equal(t, days, countRecords(t, s, key, clockwork.TombstonesCollection), "deleted stubs after day %d", d)
		require.Equal(t, 1, countRecords(t, s, key, clockwork.IdempotencyCollection), "keys last 24 hours")
	}
	require.Equal(t, int64(90*perDay), hits.Load())
	// A customer deleted 30 days before the last sweep still reads as
	// deleted; one deleted a day earlier is forgotten.
	status, stub := doCall(t, srv, "GET", "/v1/customers/"+deleted[60], key, nil)
	assert.Equal(t, 200, status)
	assert.Equal(t, true, stub["deleted"])
	status, _ = doCall(t, srv, "GET", "/v1/customers/"+deleted[59], key, nil)
	assert.Equal(t, 404, status)
}

// TestRetentionOfADeletedClock: a deleted clock's events go like any
// other, retention after each was recorded, so the last of them (recorded
// at the deletion) goes retention after the deletion, with the deleted
// stubs of its customers.
func TestRetentionOfADeletedClock(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_deleted_clock"
	status, clock := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {"1900000000"}})
	require.Equal(t, 200, status, clock)
	status, cus := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"test_clock": {clock["id"].(string)}})
	require.Equal(t, 200, status, cus)
	created := listIDs(t, srv, "/v1/events", key)
	require.Len(t, created, 2)

	wall.Add(10 * day)
	status, _ = doCall(t, srv, "DELETE", "/v1/test_helpers/test_clocks/"+clock["id"].(string), key, nil)
	require.Equal(t, 200, status)
	require.Len(t, listIDs(t, srv, "/v1/events", key), 4, "test_clock.deleted and customer.deleted")

	wall.Add(20*day + time.Second) // 30 days after the creation
	require.NoError(t, s.rt.Sweep())
	left := listIDs(t, srv, "/v1/events", key)
	assert.Len(t, left, 2, "the events recorded at the deletion stay")
	for _, id := range created {
		assert.NotContains(t, left, id)
	}
	status, stub := doCall(t, srv, "GET", "/v1/customers/"+cus["id"].(string), key, nil)
	assert.Equal(t, 200, status)
	assert.Equal(t, true, stub["deleted"])

	wall.Add(10 * day) // 30 days after the deletion
	require.NoError(t, s.rt.Sweep())
	assert.Empty(t, listIDs(t, srv, "/v1/events", key))
	status, _ = doCall(t, srv, "GET", "/v1/customers/"+cus["id"].(string), key, nil)
	assert.Equal(t, 404, status)
}
