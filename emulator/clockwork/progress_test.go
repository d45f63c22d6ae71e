package clockwork

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// getJSON sends GET path with key as a Bearer token and decodes the
// answer.
func getJSON(t *testing.T, srv *httptest.Server, path, key string) (int, map[string]any) {
	t.Helper()
	return sendJSON(t, srv, http.MethodGet, path, key)
}

// sendJSON sends method path with key as a Bearer token (none if empty)
// and decodes the answer.
func sendJSON(t *testing.T, srv *httptest.Server, method, path, key string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

// TestAdvanceProgressByChunk: every chunk of an advance that commits shows
// in the clock's progress (the control route GET
// /_billclock/test_clocks/{id}/progress, here for a dialect other than
// Stripe): the simulated time its work has reached and the tasks done so
// far. The ready clock keeps the count of its last advance, and the next
// advance starts again from zero.
func TestAdvanceProgressByChunk(t *testing.T) {
	// The runtime's worker is not run: the test applies the advance
	// itself, two tasks per chunk.
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	r := mux.NewRouter()
	rt.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	const key = "tk_progress"
	const frozen, target = 1732320000, 1732320000 + 40*86400 // 2024-11-23 to 2025-01-02
	var clock string
	// Three monthly subscriptions: each renews on 2024-12-23 and its
	// invoice is finalized an hour later, so the advance has six tasks.
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen, 3)
	})
	progressPath := "/_billclock/test_clocks/" + clock + "/progress"
	type progress struct {
		status          string
		reached, target int64
		tasks           int64
	}
	get := func() progress {
		t.Helper()
		status, p := getJSON(t, srv, progressPath, key)
		require.Equal(t, http.StatusOK, status, p)
		assert.Equal(t, "billclock.test_clock_progress", p["object"])
		assert.Equal(t, clock, p["clock"])
		return progress{p["status"].(string), int64(p["reached_time"].(float64)), int64(p["target_frozen_time"].(float64)),
			int64(p["tasks_done"].(float64))}
	}

	assert.Equal(t, progress{"ready", frozen, frozen, 0}, get(), "a clock that never advanced")
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, target) })
	assert.Equal(t, progress{"advancing", frozen, target, 0}, get(), "before any work")

	key0 := jobKey(key, clock)
	var seen []progress
	for {
		finished, err := rt.advancer.step(key0, 2)
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
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, target+86400) })
	assert.Equal(t, progress{"advancing", target, target + 86400, 0}, get())
	finished, err := rt.advancer.step(key0, 2)
	require.NoError(t, err)
	assert.True(t, finished)
	assert.Equal(t, progress{"ready", target + 86400, target + 86400, 0}, get())

	// Unknown clocks and other accounts' clocks are not found.
	status, body := getJSON(t, srv, "/_billclock/test_clocks/clock_nope/progress", key)
	assert.Equal(t, http.StatusNotFound, status, body)
	status, _ = getJSON(t, srv, progressPath, "tk_someoneelse")
	assert.Equal(t, http.StatusNotFound, status, "another account's clock")
}
