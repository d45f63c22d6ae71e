package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestClockPagination(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	const clocks = "/v1/test_helpers/test_clocks"

	// Created back to back, most of these share a created second: ties must
	// still list newest first, each exactly once.
	var created []string
	seconds := map[int64]bool{}
	for i := range 25 {
		c := createClock(t, sc, fmt.Sprintf("clock %02d", i))
		created = append(created, c.ID)
		seconds[c.Created] = true
	}
	require.Less(t, len(seconds), 25, "some clocks share a created second")
	newest := reversed(created)

	t.Run("auto-pager forward", func(t *testing.T) {
		var ids []string
		list := sc.V1TestHelpersTestClocks.List(t.Context(), &stripe.TestHelpersTestClockListParams{
			ListParams: stripe.ListParams{Limit: stripe.Int64(7)},
		})
		for c, err := range list.All(t.Context()) {
			require.NoError(t, err)
			ids = append(ids, c.ID)
			require.LessOrEqual(t, len(ids), 25, "pager does not stop")
		}
		assert.Equal(t, newest, ids)
		assert.Equal(t, newest, clockIDs(t, sc), "default page size")
	})

	t.Run("auto-pager backward", func(t *testing.T) {
		// stripe-go pages backward from ending_before, reversing each page it
		// gets; that only works if every page is newest first.
		var ids []string
		list := sc.V1TestHelpersTestClocks.List(t.Context(), &stripe.TestHelpersTestClockListParams{
			ListParams: stripe.ListParams{Limit: stripe.Int64(10), EndingBefore: stripe.String(created[0])},
		})
		for c, err := range list.All(t.Context()) {
			require.NoError(t, err)
			ids = append(ids, c.ID)
			require.LessOrEqual(t, len(ids), 24, "pager does not stop")
		}
		assert.Equal(t, created[1:], ids)
	})

	page := func(t *testing.T, query string) ([]string, bool) {
		t.Helper()
		return e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "?" + query, Key: testKey}).listIDs(t)
	}

	t.Run("manual pages", func(t *testing.T) {
		r := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks, Key: testKey})
		ids, more := r.listIDs(t)
		assert.Equal(t, newest[:10], ids, "default limit is 10")
		assert.True(t, more)
		assert.Equal(t, clocks, r.object(t)["url"])

		ids, more = page(t, "limit=10&starting_after="+newest[9])
		assert.Equal(t, newest[10:20], ids)
		assert.True(t, more)
		ids, more = page(t, "limit=10&starting_after="+newest[19])
		assert.Equal(t, newest[20:], ids)
		assert.False(t, more)
		ids, more = page(t, "limit=5&starting_after="+newest[19])
		assert.Equal(t, newest[20:], ids)
		assert.False(t, more, "exactly the last items: nothing more")
		ids, more = page(t, "starting_after="+newest[24])
		assert.Empty(t, ids)
		assert.False(t, more)
		ids, more = page(t, "limit=100")
		assert.Equal(t, newest, ids)
		assert.False(t, more)
	})

	t.Run("ending_before", func(t *testing.T) {
		// The items just newer than the cursor, still newest first.
		ids, more := page(t, "limit=5&ending_before="+newest[15])
		assert.Equal(t, newest[10:15], ids)
		assert.True(t, more, "newer items remain")
		ids, more = page(t, "limit=10&ending_before="+newest[5])
		assert.Equal(t, newest[:5], ids)
		assert.False(t, more)
		ids, more = page(t, "limit=5&ending_before="+newest[5])
		assert.Equal(t, newest[:5], ids)
		assert.False(t, more, "exactly the newest items: nothing more")
		ids, more = page(t, "ending_before="+newest[0])
		assert.Empty(t, ids)
		assert.False(t, more)
	})

	t.Run("bad pagination parameters", func(t *testing.T) {
		get := func(query string) apiError {
			return e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "?" + query, Key: testKey}).apiError(t, http.StatusBadRequest)
		}
		ae := get("limit=0")
		assert.Equal(t, "invalid_request_error", ae.Type)
		assert.Equal(t, "limit", ae.Param)
		ae = get("limit=101")
		assert.Equal(t, "limit", ae.Param)
		assert.Equal(t, "This value must be less than or equal to 100 (it currently is '101').", ae.Message)
		ae = get("limit=ten")
		assert.Equal(t, "Invalid integer: ten", ae.Message)
		ae = get("starting_after=" + newest[3] + "&ending_before=" + newest[1])
		assert.Equal(t, "You may only specify one of these parameters: ending_before, starting_after.", ae.Message)

		list := sc.V1TestHelpersTestClocks.List(t.Context(), &stripe.TestHelpersTestClockListParams{
			ListParams: stripe.ListParams{Limit: stripe.Int64(101)},
		})
		se := stripeError(t, list.Err(), http.StatusBadRequest)
		assert.Equal(t, "This value must be less than or equal to 100 (it currently is '101').", se.Msg)
	})

	t.Run("unknown cursor", func(t *testing.T) {
		for _, param := range []string{"starting_after", "ending_before"} {
			ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "?" + param + "=clock_nope", Key: testKey}).
				apiError(t, http.StatusNotFound)
			assert.Equal(t, apiError{Type: "invalid_request_error", Code: "resource_missing", Param: param,
				Message: "No such billingclock: 'clock_nope'"}, ae)
		}
	})
}

func TestEvents(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	ctx := t.Context()
	const (
		created   = "test_helpers.test_clock.created"
		advancing = "test_helpers.test_clock.advancing"
		ready     = "test_helpers.test_clock.ready"
		deleted   = "test_helpers.test_clock.deleted"
	)

	clock := createClock(t, sc, "events")
	target := frozen0 + 7*86400
	adv, err := sc.V1TestHelpersTestClocks.Advance(ctx, clock.ID, &stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(target)})
	require.NoError(t, err)
	waitReady(t, sc, clock.ID)
	del, err := sc.V1TestHelpersTestClocks.Delete(ctx, clock.ID, nil)
	require.NoError(t, err)

	evs := eventsOf(t, sc, nil)
	require.Equal(t, []string{deleted, ready, advancing, created}, eventTypes(evs), "newest first")
	byType := map[string]*stripe.Event{}
	for _, ev := range evs {
		byType[string(ev.Type)] = ev
		assert.True(t, strings.HasPrefix(ev.ID, "evt_"), ev.ID)
		assert.Equal(t, "event", ev.Object)
		assert.Equal(t, "2026-08-26.dahlia", ev.APIVersion)
		assert.False(t, ev.Livemode)
		assert.Equal(t, clock.ID, ev.Data.Object["id"], ev.Type)
		assert.Equal(t, "test_helpers.test_clock", ev.Data.Object["object"], ev.Type)
	}
	for i := 1; i < len(evs); i++ {
		assert.GreaterOrEqual(t, evs[i-1].Created, evs[i].Created, "newest first")
	}

	// Which request caused each event; the ready event came from no request.
	request := func(ev *stripe.Event) map[string]any {
		var m struct {
			Request map[string]any `json:"request"`
		}
		require.NoError(t, json.Unmarshal(ev.LastResponse.RawJSON, &m))
		return m.Request
	}
	assert.Equal(t, map[string]any{"id": clock.LastResponse.RequestID, "idempotency_key": clock.LastResponse.IdempotencyKey},
		request(byType[created]))
	require.NotEmpty(t, adv.LastResponse.RequestID)
	assert.Equal(t, adv.LastResponse.RequestID, byType[advancing].Request.ID)
	assert.Equal(t, map[string]any{"id": adv.LastResponse.RequestID, "idempotency_key": adv.LastResponse.IdempotencyKey},
		request(byType[advancing]))
	assert.Equal(t, map[string]any{"id": nil, "idempotency_key": nil}, request(byType[ready]))
	assert.Equal(t, del.LastResponse.RequestID, byType[deleted].Request.ID)

	// Each event is a snapshot of the clock at that moment.
	obj := func(typ string) map[string]any { return byType[typ].Data.Object }
	assert.Equal(t, "ready", obj(created)["status"])
	assert.Equal(t, float64(frozen0), obj(created)["frozen_time"])
	assert.Equal(t, "advancing", obj(advancing)["status"])
	assert.Equal(t, float64(frozen0), obj(advancing)["frozen_time"])
	assert.Equal(t, map[string]any{"advancing": map[string]any{"target_frozen_time": float64(target)}}, obj(advancing)["status_details"])
	assert.Equal(t, "ready", obj(ready)["status"])
	assert.Equal(t, float64(target), obj(ready)["frozen_time"])

	// The deleted event carries the whole clock, not the deleted stub.
	assert.Equal(t, map[string]any{
		"id": clock.ID, "object": "test_helpers.test_clock", "created": float64(clock.Created),
		"deletes_after": float64(clock.DeletesAfter), "frozen_time": float64(target), "livemode": false,
		"name": "events", "status": "ready", "status_details": map[string]any{},
	}, obj(deleted))

	t.Run("type filter", func(t *testing.T) {
		got := eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String(ready)})
		assert.Equal(t, []string{ready}, eventTypes(got))
		got = eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String("test_helpers.test_clock.*")})
		assert.Equal(t, []string{deleted, ready, advancing, created}, eventTypes(got))
		got = eventsOf(t, sc, &stripe.EventListParams{Type: stripe.String("invoice.created")})
		assert.Empty(t, got)
	})

	t.Run("types filter", func(t *testing.T) {
		got := eventsOf(t, sc, &stripe.EventListParams{Types: stripe.StringSlice([]string{created, deleted})})
		assert.Equal(t, []string{deleted, created}, eventTypes(got))

		ids, more := e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey,
			Path: "/v1/events?types[]=" + advancing + "&types[]=" + ready}).listIDs(t)
		assert.Equal(t, []string{byType[ready].ID, byType[advancing].ID}, ids, "types[] syntax")
		assert.False(t, more)
	})

	t.Run("created filter", func(t *testing.T) {
		oldest, newest := evs[len(evs)-1].Created, evs[0].Created
		got := eventsOf(t, sc, &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: oldest}})
		assert.Len(t, got, 4)
		got = eventsOf(t, sc, &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThan: newest}})
		assert.Empty(t, got)
		got = eventsOf(t, sc, &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{LesserThan: oldest}})
		assert.Empty(t, got)
	})

	t.Run("bad filters", func(t *testing.T) {
		ae := e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey,
			Path: "/v1/events?type=" + ready + "&types[]=" + created}).apiError(t, http.StatusBadRequest)
		assert.Equal(t, "invalid_request_error", ae.Type, "type and types together")
		ae = e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey, Path: "/v1/events?created[gt]=soon"}).
			apiError(t, http.StatusBadRequest)
		assert.Equal(t, "Invalid integer: soon", ae.Message)
	})

	t.Run("paging", func(t *testing.T) {
		ids, more := e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey, Path: "/v1/events?limit=2"}).listIDs(t)
		assert.Equal(t, []string{byType[deleted].ID, byType[ready].ID}, ids)
		assert.True(t, more)
		ids, more = e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey,
			Path: "/v1/events?limit=2&starting_after=" + byType[ready].ID}).listIDs(t)
		assert.Equal(t, []string{byType[advancing].ID, byType[created].ID}, ids)
		assert.False(t, more)
		r := e.raw(t, rawRequest{Method: http.MethodGet, Key: testKey, Path: "/v1/events"})
		assert.Equal(t, "/v1/events", r.object(t)["url"])
	})

	t.Run("retrieve", func(t *testing.T) {
		for _, want := range evs {
			got, err := sc.V1Events.Retrieve(t.Context(), want.ID, nil)
			require.NoError(t, err)
			assert.JSONEq(t, string(want.LastResponse.RawJSON), string(got.LastResponse.RawJSON), want.Type)
		}
		_, err := sc.V1Events.Retrieve(t.Context(), "evt_nope", nil)
		se := stripeError(t, err, http.StatusNotFound)
		assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code)
		assert.Equal(t, "id", se.Param)
		assert.Equal(t, "No such event: 'evt_nope'", se.Msg)
	})
}
