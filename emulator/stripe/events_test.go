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
