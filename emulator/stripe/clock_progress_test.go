package stripe

import (
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdvanceProgressByChunk: every chunk of an advance that commits shows
// in the clock's progress (the control route GET
// /_billclock/test_clocks/{id}/progress): the simulated time its work has
// reached and the tasks done so far. The ready clock keeps the count of its
// last advance, and the next advance starts again from zero.
func TestAdvanceProgressByChunk(t *testing.T) {
	// The surface's worker is not run: the test applies the advance itself,
	// two tasks per chunk.
	s, srv := newTestSurface(t, nil)
	const key = "sk_test_progress"
	call := func(method, path string, form url.Values) map[string]any {
		t.Helper()
		status, body := doCall(t, srv, method, path, key, form)
		require.Equal(t, 200, status, body)
		return body
	}
	const frozen, target = 1732320000, 1732320000 + 40*86400 // 2024-11-23 to 2025-01-02
	clock := call("POST", "/v1/test_helpers/test_clocks", url.Values{"frozen_time": {strconv.Itoa(frozen)}})["id"].(string)
	price := call("POST", "/v1/prices", url.Values{"currency": {"usd"}, "unit_amount": {"1000"},
		"recurring[interval]": {"month"}, "product_data[name]": {"Seats"}})["id"].(string)
	// Three monthly subscriptions: each renews on 2024-12-23 and its
	// invoice is finalized an hour later, so the advance has six tasks.
	for range 3 {
		cus := call("POST", "/v1/customers", url.Values{"test_clock": {clock}, "payment_method": {"pm_card_visa"},
			"invoice_settings[default_payment_method]": {"pm_card_visa"}})["id"].(string)
		call("POST", "/v1/subscriptions", url.Values{"customer": {cus}, "items[0][price]": {price}})
	}
	progressPath := "/_billclock/test_clocks/" + clock + "/progress"
	type progress struct {
		status          string
		reached, target int64
		tasks           int64
	}
	get := func() progress {
		t.Helper()
		p := call("GET", progressPath, nil)
		assert.Equal(t, "billclock.test_clock_progress", p["object"])
		assert.Equal(t, clock, p["clock"])
		return progress{p["status"].(string), int64(p["reached_time"].(float64)), int64(p["target_frozen_time"].(float64)),
			int64(p["tasks_done"].(float64))}
	}

	assert.Equal(t, progress{"ready", frozen, frozen, 0}, get(), "a clock that never advanced")
	call("POST", "/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.Itoa(target)}})
	assert.Equal(t, progress{"advancing", frozen, target, 0}, get(), "before any work")

	key0 := jobKey(key, clock)
	var seen []progress
	for {
		finished, err := s.advancer.step(key0, 2)
		require.NoError(t, err)
		if finished {
			break
		}
		p := get()
		assert.Equal(t, "advancing", p.status)
		assert.Equal(t, int64(target), p.target)
		seen = append(seen, p)
		require.Less(t, len(seen), 10, "the advance never finishes")
	}
	require.Len(t, seen, 3, "six tasks, two per chunk: %+v", seen)
	renewal := int64(1734912000) // 2024-12-23T00:00:00Z
	assert.Equal(t, []progress{
		{"advancing", renewal, target, 2},
		{"advancing", renewal + 3600, target, 4},
		{"advancing", renewal + 3600, target, 6},
	}, seen)
	assert.Equal(t, progress{"ready", target, target, 6}, get(), "the ready clock keeps its last advance's count")

	// The next advance counts from zero, and one with nothing to do does
	// nothing.
	call("POST", "/v1/test_helpers/test_clocks/"+clock+"/advance", url.Values{"frozen_time": {strconv.Itoa(target + 86400)}})
	assert.Equal(t, progress{"advancing", target, target + 86400, 0}, get())
	finished, err := s.advancer.step(key0, 2)
	require.NoError(t, err)
	assert.True(t, finished)
	assert.Equal(t, progress{"ready", target + 86400, target + 86400, 0}, get())

	// Unknown clocks are Stripe's 404; parameters are refused.
	status, body := doCall(t, srv, "GET", "/_billclock/test_clocks/clock_nope/progress", key, nil)
	assert.Equal(t, 404, status, body)
	status, body = doCall(t, srv, "GET", progressPath+"?x=1", key, nil)
	assert.Equal(t, 400, status, body)
	status, _ = doCall(t, srv, "GET", progressPath, "sk_test_someoneelse", nil)
	assert.Equal(t, 404, status, "another account's clock")
}
