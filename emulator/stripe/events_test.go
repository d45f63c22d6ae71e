package stripe

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
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
