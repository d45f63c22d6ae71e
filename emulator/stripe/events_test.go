package stripe

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestPreviousAttributes(t *testing.T) {
	got, err := previousAttributes(
		json.RawMessage(`{"id":"sub_1","status":"active","items":{"data":[{"q":1}]},"latest_invoice":"in_1","metadata":{}}`),
		json.RawMessage(`{"id":"sub_1","status":"past_due","items":{"data":[{"q":2}]},"latest_invoice":"in_1","metadata":{}}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"status":"active","items":{"data":[{"q":1}]}}`, string(got))
}
