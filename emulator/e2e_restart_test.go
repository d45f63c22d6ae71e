package emulator_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/store"
)

func TestRestartDuringAdvance(t *testing.T) {
	t.Parallel()
	const delay = 1500 * time.Millisecond
	e := start(t, emulator.Config{AdvanceDelay: delay})
	clock := createClock(t, e.client(testKey), "")
	target := frozen0 + 30*86400

	begun := time.Now()
	adv, err := e.client(testKey).V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
		&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(target)})
	require.NoError(t, err)
	require.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, adv.Status)
	e.srv.Restart()

	sc := e.client(testKey) // the restarted server listens on a new port
	got, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
	require.NoError(t, err)
	if time.Since(begun) < delay {
		// The advance cannot be due yet, so it really spans the restart.
		assert.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, got.Status)
		assert.Equal(t, frozen0, got.FrozenTime)
	} else {
		t.Logf("restart took longer than the advance delay; the advance may have finished before it")
	}

	ready := waitReady(t, sc, clock.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, ready.Status)
	assert.Equal(t, target, ready.FrozenTime)
	assert.Nil(t, ready.StatusDetails.Advancing)
	assert.GreaterOrEqual(t, time.Since(begun), delay, "the advance delay is honoured across the restart")

	readyEvents := eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String("test_helpers.test_clock.ready")})
	require.Len(t, readyEvents, 1, "exactly one ready event")
	assert.Equal(t, float64(target), readyEvents[0].Data.Object["frozen_time"])
	assert.Equal(t, []string{"test_helpers.test_clock.ready", "test_helpers.test_clock.advancing", "test_helpers.test_clock.created"},
		eventTypes(eventsOf(t, sc, nil)))

	// A second restart does not apply the finished advance again.
	e.srv.Restart()
	sc = e.client(testKey)
	got, err = sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, target, got.FrozenTime)
	assert.Len(t, eventsOf(t, sc, nil), 3)
}

func TestPersistence(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	const other = "rk_test_persisted0001"
	ctx := t.Context()

	sc := e.client(testKey)
	advanced := createClock(t, sc, "advanced")
	_, err := sc.V1TestHelpersTestClocks.Advance(ctx, advanced.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 3600)})
	require.NoError(t, err)
	waitReady(t, sc, advanced.ID)
	gone := createClock(t, sc, "deleted")
	_, err = sc.V1TestHelpersTestClocks.Delete(ctx, gone.ID, nil)
	require.NoError(t, err)
	plain := createClock(t, sc, "")
	theirs := createClock(t, e.client(other), "other account")

	// Everything a client can read, before and after.
	snapshot := func() map[string]string {
		out := map[string]string{}
		for _, key := range []string{testKey, other} {
			for _, path := range []string{"/v1/test_helpers/test_clocks?limit=100", "/v1/events?limit=100"} {
				r := e.raw(t, rawRequest{Method: http.MethodGet, Path: path, Key: key})
				require.Equal(t, http.StatusOK, r.Status)
				out[key+" "+path] = string(r.Body)
			}
		}
		for _, id := range []string{advanced.ID, plain.ID} {
			r := e.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/test_helpers/test_clocks/" + id, Key: testKey})
			require.Equal(t, http.StatusOK, r.Status)
			out[id] = string(r.Body)
		}
		return out
	}
	before := snapshot()
	e.srv.Restart()
	assert.Equal(t, before, snapshot(), "the restarted server answers exactly as before")

	sc = e.client(testKey)
	assert.Equal(t, []string{plain.ID, advanced.ID}, clockIDs(t, sc))
	assert.Equal(t, []string{theirs.ID}, clockIDs(t, e.client(other)))
	got, err := sc.V1TestHelpersTestClocks.Retrieve(ctx, advanced.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, frozen0+3600, got.FrozenTime)
	assert.Equal(t, "advanced", got.Name)
	_, err = sc.V1TestHelpersTestClocks.Retrieve(ctx, gone.ID, nil)
	stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, []string{"test_helpers.test_clock.created", "test_helpers.test_clock.deleted", "test_helpers.test_clock.created",
		"test_helpers.test_clock.ready", "test_helpers.test_clock.advancing", "test_helpers.test_clock.created"},
		eventTypes(eventsOf(t, sc, nil)))

	// The restarted server keeps working: new clocks list first.
	fresh := createClock(t, sc, "after restart")
	assert.Equal(t, []string{fresh.ID, plain.ID, advanced.ID}, clockIDs(t, sc))
}

func TestSecondServerOnSameDatabase(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})

	type result struct {
		srv *emulator.Server
		err error
	}
	done := make(chan result, 1)
	begun := time.Now()
	go func() {
		srv, err := emulator.Open(emulator.Config{Addr: "127.0.0.1:0", DBPath: e.srv.DBPath()})
		done <- result{srv, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a second server on the same database hangs instead of failing")
	}
	if res.srv != nil {
		res.srv.Close()
	}
	require.Error(t, res.err)
	assert.Less(t, time.Since(begun), 5*time.Second, "fails fast")
	assert.True(t, errors.Is(res.err, store.ErrLocked), "error: %v", res.err)
	assert.Contains(t, res.err.Error(), "locked")
	assert.Contains(t, res.err.Error(), "another")
	assert.Contains(t, res.err.Error(), e.srv.DBPath(), "names the file")

	// The first server is unaffected.
	createClock(t, e.client(testKey), "still serving")
}
