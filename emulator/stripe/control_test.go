package stripe

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClockProgressRoute: the progress control route answers a Stripe key
// in Stripe's envelope: the clock's figures, Stripe's 404 for an unknown
// clock or another account's, and its 400 for a parameter. (How the
// figures move, chunk by chunk, is the runtime's: see
// clockwork.TestAdvanceProgressByChunk.)
func TestClockProgressRoute(t *testing.T) {
	_, srv := newTestSurface(t, nil)
	const key = "sk_test_progress"
	status, clock := doCall(t, srv, "POST", "/v1/test_helpers/test_clocks", key, url.Values{"frozen_time": {"1732320000"}})
	require.Equal(t, 200, status, clock)
	progressPath := "/_billclock/test_clocks/" + clock["id"].(string) + "/progress"
	status, p := doCall(t, srv, "GET", progressPath, key, nil)
	require.Equal(t, 200, status, p)
	assert.Equal(t, map[string]any{"object": "billclock.test_clock_progress", "clock": clock["id"], "status": "ready",
		"reached_time": 1732320000.0, "target_frozen_time": 1732320000.0, "tasks_done": 0.0}, p)

	status, body := doCall(t, srv, "GET", "/_billclock/test_clocks/clock_nope/progress", key, nil)
	assert.Equal(t, 404, status, body)
	assert.Equal(t, "No such billingclock: 'clock_nope'", body["error"].(map[string]any)["message"])
	status, body = doCall(t, srv, "GET", progressPath+"?x=1", key, nil)
	assert.Equal(t, 400, status, body)
	status, _ = doCall(t, srv, "GET", progressPath, "sk_test_someoneelse", nil)
	assert.Equal(t, 404, status, "another account's clock")
}
