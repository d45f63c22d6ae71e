package stripe

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"
	"time"

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

func TestRetentionOption(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	s, r := newSurface(t, clockwork.Options{Now: wall.Now, Retention: 2 * time.Hour}, Options{})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	const key = "sk_test_retention_option"
	require.NoError(t, s.rt.Sweep())
	status, _ := doCall(t, srv, "POST", "/v1/customers", key, url.Values{"email": {"a@example.com"}})
	require.Equal(t, 200, status)

	wall.Add(2 * time.Hour)
	require.NoError(t, s.rt.Sweep())
	assert.Len(t, listIDs(t, srv, "/v1/events", key), 1, "exactly the retention old: kept")
	wall.Add(time.Second)
	require.NoError(t, s.rt.Sweep())
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
	const legacy = 2*1000 + 17 // over two of the janitor's batches of 1,000
	var ids []string
	require.NoError(t, s.db.Update(func(tx *store.Tx) error {
		acct, err := tx.Account(key)
		if err != nil {
			return err
		}
		events, err := acct.Collection(clockwork.EventsCollection)
		if err != nil {
			return err
		}
		attempts, err := acct.Collection(clockwork.AttemptsCollection)
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
				raw, _ := json.Marshal(clockwork.Attempt{ID: fmt.Sprintf("wha_legacy%05d", i), Object: "webhook_attempt",
					WebhookEndpoint: "we_" + strconv.Itoa(i%3), Event: e.ID, EventType: e.Type, Attempt: 1, Outcome: "succeeded"})
				if err := attempts.Put(fmt.Sprintf("wha_legacy%05d", i), 0, raw); err != nil {
					return err
				}
			}
		}
		gone, err := acct.Index("deleted_customers") // where earlier billclocks kept deleted customers
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
		assert.False(t, clockwork.GroupsReady(tx))
		return nil
	}))
	before := answers()
	status, stub := doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	require.Equal(t, 200, status)
	require.Equal(t, true, stub["deleted"])

	require.NoError(t, s.rt.Sweep())
	require.NoError(t, s.db.View(func(tx *store.Tx) error {
		assert.True(t, clockwork.GroupsReady(tx))
		acct, _ := tx.Account(key)
		events, _ := acct.Collection(clockwork.EventsCollection)
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
	require.NoError(t, s.rt.Sweep())
	assert.Equal(t, legacy+1, countRecords(t, s, key, clockwork.EventsCollection))
	status, _ = doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	assert.Equal(t, 200, status)

	wall.Add(day + time.Second)
	require.NoError(t, s.rt.Sweep())
	assert.Equal(t, 1, countRecords(t, s, key, clockwork.EventsCollection), "the new event stays")
	assert.Zero(t, countRecords(t, s, key, clockwork.AttemptsCollection))
	status, _ = doCall(t, srv, "GET", "/v1/customers/cus_legacy", key, nil)
	assert.Equal(t, 404, status)
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
	after := cloneSubscription(t, before)
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

// cloneSubscription is a deep copy of sub.
func cloneSubscription(t *testing.T, sub *billing.Subscription) *billing.Subscription {
	t.Helper()
	raw, err := json.Marshal(sub)
	require.NoError(t, err)
	var out billing.Subscription
	require.NoError(t, json.Unmarshal(raw, &out))
	return &out
}
