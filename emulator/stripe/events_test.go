package stripe

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

func TestEventEncodeMatchesJSONMarshal(t *testing.T) {
	id, key := "req_1", "k\"1"
	e := eventObject{ID: "evt_1", Object: "event", APIVersion: DefaultAPIVersion, Created: 42, Type: "invoice.paid",
		Data:    eventData{Object: json.RawMessage(`{"id":"in_1","object":"invoice","lines":{"data":[]}}`)},
		Request: eventRequest{ID: &id, IdempotencyKey: &key}}
	want, err := json.Marshal(&e)
	require.NoError(t, err)
	got, err := e.encode()
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
	assert.Equal(t, string(want), string(got))
}

// seedEvents stores n events of assorted types and created times with
// storeEvent, in one transaction, and returns their ids oldest first.
func seedEvents(t *testing.T, s *Surface, account string, n int, rng *rand.Rand) []string {
	t.Helper()
	types := []string{"invoice.created", "invoice.paid", "invoiceitem.created", "customer.created",
		"customer.subscription.updated", "test_helpers.test_clock.ready", "price.created"}
	var ids []string
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		l, err := s.ledger(tx, account, nil)
		if err != nil {
			return err
		}
		for range n {
			e := eventObject{ID: clockwork.NewID("evt_", 24), Object: "event", APIVersion: DefaultAPIVersion,
				Created: 1_700_000_000 + rng.Int64N(50), Data: eventData{Object: json.RawMessage(`{"id":"obj_1"}`)},
				Type: types[rng.IntN(len(types))]}
			if err := l.storeEvent(&e); err != nil {
				return err
			}
			ids = append(ids, e.ID)
		}
		return nil
	}))
	return ids
}

// pageOf is a list's event ids and has_more, for short failure messages.
func pageOf(t *testing.T, l *listObject) []string {
	t.Helper()
	var out []string
	for _, raw := range l.Data {
		var e eventObject
		require.NoError(t, json.Unmarshal(raw, &e))
		out = append(out, e.ID)
	}
	return append(out, "has_more="+strconv.FormatBool(l.HasMore))
}

// TestEventListByGroupsMatchesScan checks the group walks that answer
// filtered event lists against decoding every event, over random filters
// and pages.
func TestEventListByGroupsMatchesScan(t *testing.T) {
	s, _ := newTestSurface(t, time.Now)
	const key = "sk_test_groups"
	rng := rand.New(rand.NewPCG(1, 2))
	ids := seedEvents(t, s, key, 400, rng)
	patterns := []string{"invoice.created", "invoice.paid", "invoice.*", "invoice*", "customer.*", "*", "no.such.type",
		"test_helpers.test_clock.ready", "price.created", "", "c*", "invoice.paid*"}
	bound := func() *int64 {
		if rng.IntN(3) > 0 {
			return nil
		}
		v := 1_700_000_000 + rng.Int64N(60) - 5
		return &v
	}
	nonEmpty := 0
	for range 600 {
		var types []string
		for range rng.IntN(4) {
			types = append(types, patterns[rng.IntN(len(patterns))])
		}
		created := rangeFilter{gt: bound(), gte: bound(), lt: bound(), lte: bound()}
		if rng.IntN(8) == 0 {
			created = rangeFilter{eq: bound()}
		}
		pg := store.Page{Limit: 1 + rng.IntN(15)}
		switch rng.IntN(4) {
		case 1:
			pg.StartingAfter = ids[rng.IntN(len(ids))]
		case 2:
			pg.EndingBefore = ids[rng.IntN(len(ids))]
		}
		desc := fmt.Sprintf("types %q, created %v, page %+v", types, created, pg)
		render := func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil }
		require.NoError(t, s.db.View(func(tx *store.Tx) error {
			events, err := accountEvents(tx, key)
			require.NoError(t, err)
			want, err := listCollection(events, pg, "/v1/events", "event", eventMatcher(types, created), render)
			require.NoError(t, err, desc)
			q, filtered, err := eventQuery(events, types, created)
			require.NoError(t, err)
			var got *listObject
			if filtered {
				got, err = listGrouped(events, q, pg, "/v1/events", "event", render)
			} else {
				got, err = listCollection(events, pg, "/v1/events", "event", nil, render)
			}
			require.NoError(t, err, desc)
			require.Equal(t, pageOf(t, want), pageOf(t, got), desc)
			if len(got.Data) > 0 {
				nonEmpty++
			}
			return nil
		}))
	}
	assert.Greater(t, nonEmpty, 200, "the filters found something often enough to mean something")
}

func TestRetentionOption(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "t.db"), &store.Options{NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s := New(Options{DB: db, Now: wall.Now, Retention: 2 * time.Hour})
	r := mux.NewRouter()
	s.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	const key = "sk_test_retention_option"
	require.NoError(t, s.sweep())
	status, _ := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"a@example.com"}})
	require.Equal(t, 200, status)

	wall.Add(2 * time.Hour)
	require.NoError(t, s.sweep())
	assert.Len(t, listIDs(t, srv, "/v1/events", key), 1, "exactly the retention old: kept")
	wall.Add(time.Second)
	require.NoError(t, s.sweep())
	assert.Empty(t, listIDs(t, srv, "/v1/events", key))
}

// TestUpgradeFromEarlierVersion opens a database as an earlier billclock
// left it (events and webhook attempts without stamps or groups, deleted
// customers in an index): lists answer the same before and after the
// upgrade, which the first sweep does in batches, and the old records are
// kept for the retention from the upgrade.
func TestUpgradeFromEarlierVersion(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, srv := newTestSurface(t, wall.Now)
	const key = "sk_test_legacy"
	rng := rand.New(rand.NewPCG(3, 4))
	types := []string{"invoice.created", "invoice.paid", "customer.created", "test_helpers.test_clock.ready"}
	const legacy = 2*pruneBatch + 17
	var ids []string
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		if err != nil {
			return err
		}
		events, err := acct.Collection(eventsCollection)
		if err != nil {
			return err
		}
		attempts, err := acct.Collection(attemptsCollection)
		if err != nil {
			return err
		}
		for i := range legacy {
			e := eventObject{ID: fmt.Sprintf("evt_legacy%05d", i), Object: "event", APIVersion: DefaultAPIVersion,
				Created: 1_700_000_000 + rng.Int64N(1000), Data: eventData{Object: json.RawMessage(`{"id":"obj_1"}`)},
				Type: types[rng.IntN(len(types))]}
			raw, err := e.encode()
			if err != nil {
				return err
			}
			if err := events.Put(e.ID, 0, raw); err != nil {
				return err
			}
			ids = append(ids, e.ID)
			if i%10 == 0 {
				raw, _ := json.Marshal(webhookAttempt{ID: fmt.Sprintf("wha_legacy%05d", i), Object: "webhook_attempt",
					WebhookEndpoint: "we_" + strconv.Itoa(i%3), Event: e.ID, EventType: e.Type, Attempt: 1, Outcome: "succeeded"})
				if err := attempts.Put(fmt.Sprintf("wha_legacy%05d", i), 0, raw); err != nil {
					return err
				}
			}
		}
		gone, err := acct.Index(deletedCustomers)
		if err != nil {
			return err
		}
		return gone.Add("", "cus_legacy")
	}))
	queries := []string{"/v1/events", "/v1/events?type=invoice.paid", "/v1/events?type=invoice.*&limit=7",
		"/v1/events?types[]=customer.created&types[]=test_helpers.test_clock.ready&limit=100",
		"/v1/events?type=no.such.type", "/v1/events?created[gte]=1700000990&limit=100",
		"/v1/events?type=invoice.created&created[lt]=1700000100&starting_after=" + ids[legacy/2],
		"/v1/events?type=customer.created&ending_before=" + ids[legacy/3],
		"/_billclock/webhook_attempts?webhook_endpoint=we_1", "/_billclock/webhook_attempts?event=" + ids[20],
		"/_billclock/webhook_attempts?event=" + ids[20] + "&webhook_endpoint=we_1",
		"/_billclock/webhook_attempts?event=" + ids[20] + "&webhook_endpoint=we_2",
	}
	answers := func() map[string]any {
		out := map[string]any{}
		for _, q := range queries {
			status, body := doCall(t, srv, "GET", q, key, nil)
			require.Equal(t, 200, status, body)
			out[q] = body
		}
		return out
	}
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		assert.False(t, groupsReady(tx))
		return nil
	}))
	before := answers()
	status, stub := doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	require.Equal(t, 200, status)
	require.Equal(t, true, stub["deleted"])

	require.NoError(t, s.sweep())
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		assert.True(t, groupsReady(tx))
		acct, _ := tx.Account(key)
		events, _ := acct.Collection(eventsCollection)
		for _, id := range ids {
			require.True(t, events.Grouped(id), id)
		}
		return nil
	}))
	after := answers()
	for _, q := range queries {
		assert.Equal(t, before[q], after[q], q)
	}
	assert.Len(t, before["/v1/events?type=invoice.*&limit=7"].(map[string]any)["data"], 7)
	assert.NotEmpty(t, before["/_billclock/webhook_attempts?event="+ids[20]+"&webhook_endpoint=we_2"].(map[string]any)["data"])

	// The old records count as recorded at the upgrade.
	wall.Add(29 * day)
	status, _ = doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"new@example.com"}})
	require.Equal(t, 200, status)
	require.NoError(t, s.sweep())
	assert.Equal(t, legacy+1, countRecords(t, s, key, eventsCollection))
	status, _ = doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	assert.Equal(t, 200, status)

	wall.Add(day + time.Second)
	require.NoError(t, s.sweep())
	assert.Equal(t, 1, countRecords(t, s, key, eventsCollection), "the new event stays")
	assert.Zero(t, countRecords(t, s, key, attemptsCollection))
	status, _ = doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	assert.Equal(t, 404, status)
}

// FuzzEventListFilters compares the group walks with decoding every event
// for arbitrary type patterns (any bytes), created bounds and pages.
func FuzzEventListFilters(f *testing.F) {
	for _, seed := range []string{"invoice.*", "invoice*,customer.created", "*", "no.such.type", "", "type:\x00*", "\xff*,a\x00b"} {
		f.Add(seed, int64(1_700_000_010), int64(1_700_000_040), uint8(10), uint16(0), uint8(0))
	}
	db, err := store.Open(filepath.Join(f.TempDir(), "fuzz.db"), &store.Options{NoSync: true})
	require.NoError(f, err)
	f.Cleanup(func() { db.Close() })
	s := New(Options{DB: db})
	const key = "sk_test_fuzz"
	var ids []string
	rng := rand.New(rand.NewPCG(5, 6))
	// Stored types are Stripe's, valid UTF-8; the patterns may be any bytes.
	types := []string{"invoice.created", "invoice.paid", "invoiceitem.created", "customer.created", "invoice"}
	require.NoError(f, db.Update(func(tx *store.Tx) error {
		l, err := s.ledger(tx, key, nil)
		if err != nil {
			return err
		}
		for range 300 {
			e := eventObject{ID: clockwork.NewID("evt_", 24), Object: "event", APIVersion: DefaultAPIVersion,
				Created: 1_700_000_000 + rng.Int64N(50), Data: eventData{Object: json.RawMessage(`{}`)}, Type: types[rng.IntN(len(types))]}
			if err := l.storeEvent(&e); err != nil {
				return err
			}
			ids = append(ids, e.ID)
		}
		return nil
	}))
	f.Fuzz(func(t *testing.T, patterns string, gte, lt int64, limit uint8, cursor uint16, dir uint8) {
		var types []string
		if patterns != "" {
			types = strings.Split(patterns, ",")
		}
		created := rangeFilter{gte: &gte, lt: &lt}
		pg := store.Page{Limit: 1 + int(limit)%100}
		switch dir % 3 {
		case 1:
			pg.StartingAfter = ids[int(cursor)%len(ids)]
		case 2:
			pg.EndingBefore = ids[int(cursor)%len(ids)]
		}
		render := func(raw []byte) (json.RawMessage, error) { return append(json.RawMessage(nil), raw...), nil }
		require.NoError(t, db.View(func(tx *store.Tx) error {
			events, err := accountEvents(tx, key)
			require.NoError(t, err)
			want, err := listCollection(events, pg, "/v1/events", "event", eventMatcher(types, created), render)
			require.NoError(t, err)
			q, _, err := eventQuery(events, types, created)
			require.NoError(t, err)
			got, err := listGrouped(events, q, pg, "/v1/events", "event", render)
			require.NoError(t, err)
			require.Equal(t, pageOf(t, want), pageOf(t, got), "types %q, page %+v", types, pg)
			return nil
		}))
	})
}

func TestEventEncodeWithPreviousAttributes(t *testing.T) {
	e := eventObject{ID: "evt_1", Object: "event", APIVersion: DefaultAPIVersion, Created: 42, Type: "customer.subscription.updated",
		Data: eventData{Object: json.RawMessage(`{"id":"sub_1","status":"past_due"}`),
			PreviousAttributes: json.RawMessage(`{"status":"active"}`)}}
	want, err := json.Marshal(&e)
	require.NoError(t, err)
	got, err := e.encode()
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got))
}

// previous_attributes holds the changed top-level fields with their values
// before, the same as comparing the two renderings decoded.
func TestPreviousAttributes(t *testing.T) {
	f := renderWorld()
	before := f.subs["sub_1"]
	after := copySubscription(before)
	after.Status = billing.StatusPastDue
	after.Items[0].Quantity = 5
	after.Metadata["plan"] = "enterprise"
	after.LatestInvoice = "in_paid"
	bv, err := renderValue(before, f)
	require.NoError(t, err)
	av, err := renderValue(after, f)
	require.NoError(t, err)
	got, err := previousAttributes(bv, av)
	require.NoError(t, err)

	var b, a map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(rbMust(t)(renderObject(before, f)).(json.RawMessage), &b))
	require.NoError(t, json.Unmarshal(rbMust(t)(renderObject(after, f)).(json.RawMessage), &a))
	want := map[string]json.RawMessage{}
	for k, v := range b {
		if string(v) != string(a[k]) {
			want[k] = v
		}
	}
	wantRaw, err := json.Marshal(want)
	require.NoError(t, err)
	assert.JSONEq(t, string(wantRaw), string(got))
	var keys []string
	for k := range want {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"status", "items", "metadata", "latest_invoice"}, keys)

	_, err = previousAttributes(bv, rbMust(t)(renderValue(f.invoices["in_paid"], f)))
	assert.Error(t, err, "renderings of different types")
}
