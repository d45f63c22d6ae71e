package emulator_test

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestClockLifecycle(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	ctx := t.Context()

	before := time.Now().Unix()
	named, err := sc.V1TestHelpersTestClocks.Create(ctx, &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(frozen0), Name: stripe.String("Annual renewal"),
	})
	after := time.Now().Unix()
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(named.ID, "clock_"), "id %q", named.ID)
	assert.Equal(t, "test_helpers.test_clock", named.Object)
	assert.GreaterOrEqual(t, named.Created, before, "created is wall-clock time")
	assert.LessOrEqual(t, named.Created, after, "created is wall-clock time")
	assert.Equal(t, named.Created+30*86400, named.DeletesAfter)
	assert.Equal(t, frozen0, named.FrozenTime)
	assert.False(t, named.Livemode)
	assert.Equal(t, "Annual renewal", named.Name)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, named.Status)
	require.NotNil(t, named.StatusDetails)
	assert.Nil(t, named.StatusDetails.Advancing)
	assert.Equal(t, map[string]any{}, rawJSON(t, named.LastResponse)["status_details"])

	unnamed := createClock(t, sc, "")
	assert.Equal(t, "", unnamed.Name)
	m := rawJSON(t, unnamed.LastResponse)
	require.Contains(t, m, "name")
	assert.Nil(t, m["name"], "name is null when unset")

	// The same over plain HTTP, with name absent and with name sent empty
	// (an empty value means unset).
	for _, body := range []string{"frozen_time=1732320000", "frozen_time=1732320000&name="} {
		r := e.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/test_helpers/test_clocks", Key: testKey, Body: body})
		require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
		obj := r.object(t)
		require.Contains(t, obj, "name", body)
		assert.Nil(t, obj["name"], body)
		assert.Equal(t, map[string]any{}, obj["status_details"], body)
		assert.Equal(t, "ready", obj["status"], body)
		// Clean up so the list below sees only the two clocks above.
		_, err := sc.V1TestHelpersTestClocks.Delete(ctx, obj["id"].(string), nil)
		require.NoError(t, err)
	}

	got, err := sc.V1TestHelpersTestClocks.Retrieve(ctx, named.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, named.ID, got.ID)
	assert.Equal(t, named.Created, got.Created)
	assert.Equal(t, named.DeletesAfter, got.DeletesAfter)
	assert.Equal(t, named.FrozenTime, got.FrozenTime)
	assert.Equal(t, "Annual renewal", got.Name)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, got.Status)

	assert.Equal(t, []string{unnamed.ID, named.ID}, clockIDs(t, sc), "newest first")

	del, err := sc.V1TestHelpersTestClocks.Delete(ctx, named.ID, nil)
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	assert.Equal(t, named.ID, del.ID)
	assert.Equal(t, "test_helpers.test_clock", del.Object)
	assert.Equal(t, map[string]any{"id": named.ID, "object": "test_helpers.test_clock", "deleted": true},
		rawJSON(t, del.LastResponse))

	_, err = sc.V1TestHelpersTestClocks.Retrieve(ctx, named.ID, nil)
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
	assert.Equal(t, "id", se.Param)
	assert.Equal(t, "No such billingclock: '"+named.ID+"'", se.Msg)

	_, err = sc.V1TestHelpersTestClocks.Retrieve(ctx, "clock_x", nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: 'clock_x'", se.Msg)
	assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
	assert.Equal(t, "id", se.Param)

	_, err = sc.V1TestHelpersTestClocks.Delete(ctx, named.ID, nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: '"+named.ID+"'", se.Msg)

	assert.Equal(t, []string{unnamed.ID}, clockIDs(t, sc), "a deleted clock leaves the list")
}

func TestClockCreateValidation(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)

	_, err := sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, stripe.ErrorCode("parameter_missing"), se.Code)
	assert.Equal(t, "frozen_time", se.Param)
	assert.Equal(t, "Missing required param: frozen_time.", se.Msg)

	_, err = sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(frozen0), Name: stripe.String(strings.Repeat("n", 301)),
	})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "name", se.Param)

	c, err := sc.V1TestHelpersTestClocks.Create(t.Context(), &stripe.TestHelpersTestClockCreateParams{
		FrozenTime: stripe.Int64(frozen0), Name: stripe.String(strings.Repeat("n", 300)),
	})
	require.NoError(t, err, "300 characters is the limit, not over it")
	assert.Len(t, c.Name, 300)

	assert.Equal(t, []string{c.ID}, clockIDs(t, sc), "failed creates leave nothing behind")
}

func TestClockAdvance(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	clock := createClock(t, sc, "advance me")
	target := frozen0 + 86400

	adv, err := sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID, &stripe.TestHelpersTestClockAdvanceParams{
		FrozenTime: stripe.Int64(target),
	})
	require.NoError(t, err)
	assert.Equal(t, clock.ID, adv.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, adv.Status)
	assert.Equal(t, frozen0, adv.FrozenTime, "the answer to advance still shows the old frozen_time")
	require.NotNil(t, adv.StatusDetails)
	require.NotNil(t, adv.StatusDetails.Advancing)
	assert.Equal(t, target, adv.StatusDetails.Advancing.TargetFrozenTime)
	assert.Equal(t, map[string]any{"advancing": map[string]any{"target_frozen_time": float64(target)}},
		rawJSON(t, adv.LastResponse)["status_details"])

	ready := waitReady(t, sc, clock.ID)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, ready.Status)
	assert.Equal(t, target, ready.FrozenTime)
	assert.Equal(t, clock.Created, ready.Created, "advancing moves frozen_time only")
	assert.Equal(t, clock.DeletesAfter, ready.DeletesAfter)
	require.NotNil(t, ready.StatusDetails)
	assert.Nil(t, ready.StatusDetails.Advancing)
	assert.Equal(t, map[string]any{}, rawJSON(t, ready.LastResponse)["status_details"])

	// A ready clock can be advanced again, from its new time.
	_, err = sc.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID, &stripe.TestHelpersTestClockAdvanceParams{
		FrozenTime: stripe.Int64(target + 3600),
	})
	require.NoError(t, err)
	assert.Equal(t, target+3600, waitReady(t, sc, clock.ID).FrozenTime)
}

func TestClockAdvanceErrors(t *testing.T) {
	t.Parallel()
	// The delay holds an accepted advance in "advancing" for the whole test.
	e := start(t, emulator.Config{AdvanceDelay: time.Minute})
	sc := e.client(testKey)
	advance := func(id string, frozen *int64) (*stripe.TestHelpersTestClock, error) {
		return sc.V1TestHelpersTestClocks.Advance(t.Context(), id, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: frozen})
	}
	clock := createClock(t, sc, "")

	for _, frozen := range []int64{frozen0, frozen0 - 1} {
		_, err := advance(clock.ID, stripe.Int64(frozen))
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, "frozen_time", se.Param, "advance to %d", frozen)
		assert.Contains(t, se.Msg, "1732320000 (2024-11-23 00:00:00 UTC)")
	}

	// With no subscriptions the limit is two years: 2026-11-23 00:00:00 UTC.
	const limit int64 = 1795392000
	_, err := advance(clock.ID, stripe.Int64(limit+1))
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
	assert.Equal(t, "frozen_time", se.Param)
	assert.Equal(t, "The frozen time of this clock is 1732320000 (2024-11-23 00:00:00 UTC). "+
		"You can only advance it up to 1795392000 (2026-11-23 00:00:00 UTC). "+
		"You can only advance a test clock up to two intervals from the current frozen time at a time, "+
		"based on the shortest subscription interval in the test clock. For example, if a test clock has a "+
		"monthly and yearly subscription, you may only advance up to two months at a time. If the test clock "+
		"has no subscriptions or subscription schedules, you can advance up to 2 years from the current frozen time.",
		se.Msg)

	_, err = advance(clock.ID, nil)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorCode("parameter_missing"), se.Code)
	assert.Equal(t, "frozen_time", se.Param)
	assert.Equal(t, "Missing required param: frozen_time.", se.Msg)

	_, err = advance("clock_x", stripe.Int64(frozen0+1))
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: 'clock_x'", se.Msg)
	assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)

	// None of the refused advances touched the clock.
	got, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.TestHelpersTestClockStatusReady, got.Status)
	assert.Equal(t, frozen0, got.FrozenTime)

	// Exactly two years is allowed; while that advance runs, another is refused.
	adv, err := advance(clock.ID, stripe.Int64(limit))
	require.NoError(t, err)
	require.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, adv.Status)

	r := e.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/test_helpers/test_clocks/" + clock.ID + "/advance",
		Key: testKey, Body: "frozen_time=" + strconv.FormatInt(frozen0+60, 10)})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Equal(t, "invalid_request_error", ae.Type)
	assert.Contains(t, ae.Message, "advancing")

	got, err = sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.TestHelpersTestClockStatusAdvancing, got.Status)
	require.NotNil(t, got.StatusDetails.Advancing)
	assert.Equal(t, limit, got.StatusDetails.Advancing.TargetFrozenTime, "the refused advance did not change the target")
	assert.Equal(t, frozen0, got.FrozenTime)
}

func TestClockExpires(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64 // how far the server's wall clock runs ahead
	e := start(t, emulator.Config{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	sc := e.client(testKey)
	old := createClock(t, sc, "old")
	skew.Store(int64(15 * 24 * time.Hour))
	young := createClock(t, sc, "young")

	// Past old's deletes_after; the restart makes the server look at once.
	skew.Store(int64(30*24*time.Hour + time.Minute))
	e.srv.Restart()
	sc = e.client(testKey)
	deadline := time.Now().Add(livenessWait)
	for {
		_, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), old.ID, nil)
		if err != nil {
			se := stripeError(t, err, http.StatusNotFound)
			assert.Equal(t, "No such billingclock: '"+old.ID+"'", se.Msg)
			break
		}
		require.True(t, time.Now().Before(deadline), "clock %s outlived its deletes_after", old.ID)
		time.Sleep(2 * time.Millisecond)
	}
	assert.Equal(t, []string{young.ID}, clockIDs(t, sc))

	evs := eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String("test_helpers.test_clock.deleted")})
	require.Len(t, evs, 1)
	assert.Equal(t, old.ID, evs[0].Data.Object["id"])
	if evs[0].Request != nil {
		assert.Empty(t, evs[0].Request.ID, "deleted by no request")
	}
}
