package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func mismatchMessage(key string) string {
	return "Keys for idempotent requests can only be used with the same parameters they were first used with. " +
		"Try using a key other than '" + key + "' if you meant to execute a different request."
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	const clocks = "/v1/test_helpers/test_clocks"
	const other = "sk_test_otheraccount99"
	create := func(key, idemKey, body string) rawResponse {
		t.Helper()
		return e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: key, Body: body,
			Header: map[string]string{"Idempotency-Key": idemKey}})
	}
	const body = "frozen_time=1732320000&name=idem"

	first := create(testKey, "key-1", body)
	require.Equal(t, http.StatusOK, first.Status, "%s", first.Body)
	assert.Empty(t, first.Header.Get("Idempotent-Replayed"))
	firstReq := first.Header.Get("Request-Id")
	id := first.object(t)["id"].(string)

	for _, b := range []string{body, "name=idem&frozen_time=1732320000"} {
		again := create(testKey, "key-1", b)
		require.Equal(t, http.StatusOK, again.Status, "%s", again.Body)
		assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), b)
		assert.Equal(t, firstReq, again.Header.Get("Original-Request"), b)
		assert.Equal(t, string(first.Body), string(again.Body), "the first response is replayed as it was")
	}

	ae := create(testKey, "key-1", "frozen_time=1732320001&name=idem").apiError(t, http.StatusBadRequest)
	assert.Equal(t, "idempotency_error", ae.Type)
	assert.Equal(t, mismatchMessage("key-1"), ae.Message)
	ae = e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks + "/" + id + "/advance", Key: testKey,
		Body: "frozen_time=1732320001", Header: map[string]string{"Idempotency-Key": "key-1"}}).apiError(t, http.StatusBadRequest)
	assert.Equal(t, "idempotency_error", ae.Type, "a key cannot be reused on another endpoint")
	assert.Equal(t, mismatchMessage("key-1"), ae.Message)

	sc := e.client(testKey)
	assert.Equal(t, []string{id}, clockIDs(t, sc), "replays created nothing")
	assert.Len(t, eventsOf(t, sc, nil), 1, "replays recorded no events")

	// Keys are per account: the same key elsewhere is a new request.
	elsewhere := create(other, "key-1", body)
	require.Equal(t, http.StatusOK, elsewhere.Status, "%s", elsewhere.Body)
	assert.Empty(t, elsewhere.Header.Get("Idempotent-Replayed"))
	assert.NotEqual(t, id, elsewhere.object(t)["id"])

	// A request refused by validation is not remembered.
	ae = create(testKey, "key-2", "name=no-time").apiError(t, http.StatusBadRequest)
	assert.Equal(t, "parameter_missing", ae.Code)
	ok := create(testKey, "key-2", body)
	require.Equal(t, http.StatusOK, ok.Status, "%s", ok.Body)
	assert.Empty(t, ok.Header.Get("Idempotent-Replayed"))

	// An error raised once the endpoint ran is remembered and replayed,
	// even after the cause is gone: here, advancing a clock that is not
	// there, then creating one does not change the key's answer.
	advanceGhost := func() rawResponse {
		return e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks + "/clock_ghost/advance", Key: testKey,
			Body: "frozen_time=1732320001", Header: map[string]string{"Idempotency-Key": "key-3"}})
	}
	ghost := advanceGhost()
	ae = ghost.apiError(t, http.StatusNotFound)
	assert.Equal(t, "No such billingclock: 'clock_ghost'", ae.Message)
	replayedGhost := advanceGhost()
	assert.Equal(t, http.StatusNotFound, replayedGhost.Status)
	assert.Equal(t, "true", replayedGhost.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, ghost.Header.Get("Request-Id"), replayedGhost.Header.Get("Original-Request"))
	assert.Equal(t, string(ghost.Body), string(replayedGhost.Body))

	// Neither is a mismatch.
	again := create(testKey, "key-1", body)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, string(first.Body), string(again.Body))

	long := strings.Repeat("k", 255)
	require.Equal(t, http.StatusOK, create(testKey, long, body).Status, "255 characters is allowed")
	ae = create(testKey, long+"k", body).apiError(t, http.StatusBadRequest)
	assert.Equal(t, "invalid_request_error", ae.Type)

	// Keys on GET have no effect.
	for range 2 {
		r := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "/" + id, Key: testKey,
			Header: map[string]string{"Idempotency-Key": "key-get"}})
		require.Equal(t, http.StatusOK, r.Status)
		assert.Empty(t, r.Header.Get("Idempotent-Replayed"))
	}

	// Keys survive a restart.
	e.srv.Restart()
	replayed := create(testKey, "key-1", body)
	require.Equal(t, http.StatusOK, replayed.Status, "%s", replayed.Body)
	assert.Equal(t, "true", replayed.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, firstReq, replayed.Header.Get("Original-Request"))
	assert.Equal(t, string(first.Body), string(replayed.Body))
	ae = create(testKey, "key-1", "frozen_time=1732320001&name=idem").apiError(t, http.StatusBadRequest)
	assert.Equal(t, mismatchMessage("key-1"), ae.Message)
}

func TestIdempotencyWithStripeGo(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	sc := e.client(testKey)
	ctx := t.Context()

	params := func() *stripe.TestHelpersTestClockCreateParams {
		p := &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen0), Name: stripe.String("sdk")}
		p.SetIdempotencyKey("sdk-create-1")
		return p
	}
	a, err := sc.V1TestHelpersTestClocks.Create(ctx, params())
	require.NoError(t, err)
	b, err := sc.V1TestHelpersTestClocks.Create(ctx, params())
	require.NoError(t, err)
	assert.Equal(t, a.ID, b.ID)
	assert.Equal(t, "true", b.LastResponse.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, a.LastResponse.RequestID, b.LastResponse.Header.Get("Original-Request"))

	p := params()
	p.FrozenTime = stripe.Int64(frozen0 + 1)
	_, err = sc.V1TestHelpersTestClocks.Create(ctx, p)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, stripe.ErrorTypeIdempotency, se.Type)
	assert.Equal(t, mismatchMessage("sdk-create-1"), se.Msg)

	// stripe-go sends a key on DELETE too: a retried delete gets the first
	// answer back instead of a 404.
	del := &stripe.TestHelpersTestClockDeleteParams{}
	del.SetIdempotencyKey("sdk-delete-1")
	d1, err := sc.V1TestHelpersTestClocks.Delete(ctx, a.ID, del)
	require.NoError(t, err)
	d2, err := sc.V1TestHelpersTestClocks.Delete(ctx, a.ID, del)
	require.NoError(t, err)
	assert.True(t, d1.Deleted)
	assert.True(t, d2.Deleted)
	assert.Equal(t, "true", d2.LastResponse.Header.Get("Idempotent-Replayed"))
	_, err = sc.V1TestHelpersTestClocks.Delete(ctx, a.ID, nil)
	stripeError(t, err, http.StatusNotFound)
}

func TestIdempotencyKeyExpires(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64 // how far the server's wall clock runs ahead
	e := start(t, emulator.Config{Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	create := func() rawResponse {
		t.Helper()
		r := e.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/test_helpers/test_clocks", Key: testKey,
			Body: "frozen_time=1732320000", Header: map[string]string{"Idempotency-Key": "day-old"}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		return r
	}
	first := create()

	// Keys are kept by the second: stay well clear of the boundary.
	skew.Store(int64(24*time.Hour - time.Minute))
	again := create()
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"), "kept for 24 hours")
	assert.Equal(t, string(first.Body), string(again.Body))

	skew.Store(int64(24*time.Hour + time.Minute))
	later := create()
	assert.Empty(t, later.Header.Get("Idempotent-Replayed"), "forgotten after 24 hours")
	assert.NotEqual(t, first.object(t)["id"], later.object(t)["id"])
}

// TestIdempotencyConcurrentClients sends one request from many stripe-go
// clients at once. stripe-go v86.4.0 does not retry a 409 that comes in
// Stripe's error envelope (its *Error is a retrier that only allows 429
// lock_timeout), even with retries on, so a client whose request overlapped
// sees idempotency_key_in_use and sends again; every client must end with
// the same single clock.
func TestIdempotencyConcurrentClients(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	const n = 16
	create := func(sc *stripe.Client) (*stripe.TestHelpersTestClock, error) {
		p := &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen0)}
		p.SetIdempotencyKey("concurrent-1")
		return sc.V1TestHelpersTestClocks.Create(t.Context(), p)
	}
	clients := make([]*stripe.Client, n)
	clocks := make([]*stripe.TestHelpersTestClock, n)
	errs := make([]error, n)
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		clients[i] = e.clientWithRetries(testKey, 2)
		wg.Go(func() {
			<-gate
			clocks[i], errs[i] = create(clients[i])
		})
	}
	close(gate)
	wg.Wait()

	var id string
	conflicts := 0
	for i := range n {
		if errs[i] != nil {
			se := stripeError(t, errs[i], http.StatusConflict)
			assert.Equal(t, stripe.ErrorCode("idempotency_key_in_use"), se.Code)
			conflicts++
			continue
		}
		if id == "" {
			id = clocks[i].ID
		}
		assert.Equal(t, id, clocks[i].ID, "client %d", i)
	}
	require.NotEmpty(t, id, "the first request succeeds")
	for i := range n {
		if errs[i] != nil {
			c, err := create(clients[i])
			require.NoError(t, err, "sending again once the first has finished")
			assert.Equal(t, id, c.ID)
			assert.Equal(t, "true", c.LastResponse.Header.Get("Idempotent-Replayed"))
		}
	}
	sc := e.client(testKey)
	assert.Equal(t, []string{id}, clockIDs(t, sc))
	assert.Len(t, eventsOf(t, sc, nil), 1)
	t.Logf("%d of %d requests met the first in flight (409)", conflicts, n)
}

// TestIdempotencyKeyInUse checks the 409 a request gets while another with
// the same key is still running. Nothing outside the server can hold a
// request open, so it sends bursts of identical requests until two overlap;
// in each burst every answer must be the one clock or a 409. In practice the
// first burst overlaps (most of its requests get a 409, with -race and on
// one CPU too), so thirty bursts without one mean the check is gone.
func TestIdempotencyKeyInUse(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{})
	const bursts, n = 30, 24
	for burst := range bursts {
		key := fmt.Sprintf("burst-%d", burst)
		resps := make([]rawResponse, n)
		errs := make([]error, n)
		gate := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-gate
				resps[i], errs[i] = e.send(rawRequest{Method: http.MethodPost, Path: "/v1/test_helpers/test_clocks",
					Key: testKey, Body: "frozen_time=1732320000", Header: map[string]string{"Idempotency-Key": key}})
			})
		}
		close(gate)
		wg.Wait()

		var clockID string
		conflicts := 0
		for i, r := range resps {
			require.NoError(t, errs[i])
			switch r.Status {
			case http.StatusOK:
				id := r.object(t)["id"].(string)
				if clockID == "" {
					clockID = id
				}
				assert.Equal(t, clockID, id, "every success is the one clock")
			case http.StatusConflict:
				conflicts++
				ae := r.apiError(t, http.StatusConflict)
				assert.Equal(t, "idempotency_key_in_use", ae.Code)
				assert.Contains(t, ae.Message, "'"+key+"'")
			default:
				t.Fatalf("unexpected %d: %s", r.Status, r.Body)
			}
		}
		require.NotEmpty(t, clockID, "at least the first request succeeds")
		if conflicts > 0 {
			assert.Len(t, clockIDs(t, e.client(testKey)), burst+1, "one clock per key")
			t.Logf("burst %d: %d of %d requests got 409", burst, conflicts, n)
			return
		}
	}
	t.Fatalf("no request got a 409 in %d bursts of %d identical requests: is the in-flight check gone?", bursts, n)
}
