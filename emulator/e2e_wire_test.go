package emulator_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

func TestWireErrors(t *testing.T) {
	t.Parallel()
	const clocks = "/v1/test_helpers/test_clocks"
	// Each subtest has its own server, so that failures land on it.
	setup := func(t *testing.T) (*env, *stripe.Client) {
		e := start(t, emulator.Config{})
		return e, e.client(testKey)
	}

	t.Run("unknown parameter", func(t *testing.T) {
		e, sc := setup(t)
		p := &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen0)}
		p.AddExtra("foo", "bar")
		_, err := sc.V1TestHelpersTestClocks.Create(t.Context(), p)
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, stripe.ErrorCode("parameter_unknown"), se.Code)
		assert.Equal(t, "foo", se.Param)
		assert.Equal(t, "Received unknown parameter: foo", se.Msg)

		ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "?foo=1", Key: testKey}).apiError(t, http.StatusBadRequest)
		assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Param: "foo",
			Message: "Received unknown parameter: foo"}, ae, "in the query string too")
	})

	t.Run("invalid integer", func(t *testing.T) {
		e, _ := setup(t)
		ae := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: testKey, Body: "frozen_time=abc"}).
			apiError(t, http.StatusBadRequest)
		assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_invalid_integer", Param: "frozen_time",
			Message: "Invalid integer: abc"}, ae)
	})

	t.Run("unrecognized URL", func(t *testing.T) {
		e, _ := setup(t)
		ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/foo", Key: testKey}).apiError(t, http.StatusNotFound)
		assert.Equal(t, "invalid_request_error", ae.Type)
		assert.Equal(t, "Unrecognized request URL (GET: /v1/foo). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", ae.Message)

		// A known path with a method it does not serve is unrecognized too,
		// in Stripe's envelope rather than a bare 405.
		ae = e.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/events", Key: testKey}).apiError(t, http.StatusNotFound)
		assert.Equal(t, "Unrecognized request URL (POST: /v1/events). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", ae.Message)
	})

	t.Run("malformed body", func(t *testing.T) {
		e, _ := setup(t)
		for _, body := range []string{"a[b=1", "frozen_time=1732320000&a[b]=1&a=2", "frozen_time=%zz"} {
			ae := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: testKey, Body: body}).apiError(t, http.StatusBadRequest)
			assert.Equal(t, "invalid_request_error", ae.Type, body)
			assert.NotEmpty(t, ae.Message, body)
		}
	})

	t.Run("JSON body", func(t *testing.T) {
		// Stripe takes form-encoded bodies only; a JSON body gets Stripe's
		// 400 saying so, rather than being read as one odd parameter.
		e, sc := setup(t)
		for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
			for _, path := range []string{clocks, "/_billclock/settings"} {
				r := e.as(t, testKey, http.MethodPost, path, `{"frozen_time":1732320000}`, map[string]string{"Content-Type": ct})
				ae := r.apiError(t, http.StatusBadRequest)
				assert.Equal(t, "invalid_request_error", ae.Type, "%s %s", ct, path)
				assert.Contains(t, ae.Message, "Invalid request (check that your POST content type is application/x-www-form-urlencoded).", "%s %s", ct, path)
				assert.Contains(t, ae.Message, "form-encoded", "%s %s", ct, path)
				assert.True(t, strings.HasPrefix(r.Header.Get("Request-Id"), "req_"), "%s %s: Request-Id %q", ct, path, r.Header.Get("Request-Id"))
			}
		}
		assert.Empty(t, clockIDs(t, sc), "a JSON body created nothing")

		// Auth comes first, as for every request.
		r := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Body: `{"frozen_time":1732320000}`,
			Header: map[string]string{"Content-Type": "application/json"}})
		r.apiError(t, http.StatusUnauthorized)
		// A JSON Content-Type with no body (some HTTP clients always send
		// one) is a request without parameters, as before.
		r = e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks, Key: testKey, Header: map[string]string{"Content-Type": "application/json"}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		// The same body form-encoded works.
		r = e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: testKey, Body: "frozen_time=1732320000"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	})

	t.Run("oversized body", func(t *testing.T) {
		e, _ := setup(t)
		// Just over 1 MiB, so the part the server never reads stays small.
		body := "frozen_time=1732320000&name=" + strings.Repeat("a", 1<<20)
		ae := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: testKey, Body: body}).
			apiError(t, http.StatusRequestEntityTooLarge)
		assert.Equal(t, "invalid_request_error", ae.Type)
		assert.NotEmpty(t, ae.Message)
	})

	t.Run("expand array syntaxes", func(t *testing.T) {
		e, sc := setup(t)
		clock := createClock(t, sc, "")
		for _, q := range []string{"expand[]=status_details", "expand[0]=status_details"} {
			r := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "/" + clock.ID + "?" + q, Key: testKey})
			require.Equal(t, http.StatusOK, r.Status, "%s: %s", q, r.Body)
			assert.Equal(t, clock.ID, r.object(t)["id"], q)
		}
		r := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Key: testKey,
			Body: "frozen_time=1732320000&expand[]=status_details"})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

		p := &stripe.TestHelpersTestClockRetrieveParams{}
		p.AddExpand("status_details") // stripe-go sends expand[0]=
		got, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, p)
		require.NoError(t, err)
		assert.Equal(t, clock.ID, got.ID)

		ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "/" + clock.ID + "?expand[]=nonsense", Key: testKey}).
			apiError(t, http.StatusBadRequest)
		assert.Equal(t, "invalid_request_error", ae.Type)
	})

	t.Run("request id and version headers", func(t *testing.T) {
		e, sc := setup(t)
		// The conformance transport checks Request-Id on every response;
		// here: ids are unique, errors carry them, and the version is echoed.
		a := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks, Key: testKey})
		b := e.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/foo"})
		for _, r := range []rawResponse{a, b} {
			assert.True(t, strings.HasPrefix(r.Header.Get("Request-Id"), "req_"), r.Header.Get("Request-Id"))
			assert.Equal(t, "2026-08-26.dahlia", r.Header.Get("Stripe-Version"), "default version when none is sent")
		}
		assert.NotEqual(t, a.Header.Get("Request-Id"), b.Header.Get("Request-Id"))

		r := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks, Key: testKey,
			Header: map[string]string{"Stripe-Version": "2025-03-31.basil"}})
		assert.Equal(t, "2025-03-31.basil", r.Header.Get("Stripe-Version"))

		list := sc.V1TestHelpersTestClocks.List(t.Context(), nil)
		require.NoError(t, list.Err())
		assert.Equal(t, stripe.APIVersion, list.LastResponse().Header.Get("Stripe-Version"), "stripe-go's pinned version")
		assert.True(t, strings.HasPrefix(list.LastResponse().RequestID, "req_"))
	})
}

func TestAuth(t *testing.T) {
	t.Parallel()
	const noKey = "You did not provide an API key. You need to provide your API key in the Authorization header, " +
		"using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication " +
		"for details, or we can help at https://support.stripe.com/."
	const testmodeOnly = "This endpoint is only available in testmode. Try using your test keys instead."
	const clocks = "/v1/test_helpers/test_clocks"

	t.Run("open server", func(t *testing.T) {
		e := start(t, emulator.Config{})

		for _, path := range []string{clocks, "/v1/events", "/v1/foo"} {
			ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: path}).apiError(t, http.StatusUnauthorized)
			assert.Equal(t, "invalid_request_error", ae.Type, path)
			assert.Equal(t, noKey, ae.Message, path)
		}

		// curl -u sk_test_x: acts for the same account as Bearer sk_test_x.
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("sk_test_x:"))
		r := e.raw(t, rawRequest{Method: http.MethodPost, Path: clocks, Body: "frozen_time=1732320000",
			Header: map[string]string{"Authorization": basic}})
		require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
		id := r.object(t)["id"].(string)
		assert.Equal(t, []string{id}, clockIDs(t, e.client("sk_test_x")))
		r = e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks + "/" + id, Header: map[string]string{"Authorization": basic}})
		assert.Equal(t, http.StatusOK, r.Status, "%s", r.Body)

		for _, key := range []string{"sk_live_51Hliveabcd", "rk_live_51Hliveabcd"} {
			_, err := e.client(key).V1TestHelpersTestClocks.Create(t.Context(),
				&stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen0)})
			se := stripeError(t, err, http.StatusBadRequest)
			assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type, key)
			assert.Equal(t, testmodeOnly, se.Msg, key)
		}
	})

	t.Run("restricted to configured keys", func(t *testing.T) {
		const allowed = "sk_test_allowed1234"
		e := start(t, emulator.Config{APIKeys: []string{allowed}})

		clock := createClock(t, e.client(allowed), "")
		assert.Equal(t, []string{clock.ID}, clockIDs(t, e.client(allowed)))

		_, err := e.client("sk_test_someoneelseabcd").V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
		se := stripeError(t, err, http.StatusUnauthorized)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type)
		assert.Equal(t, "Invalid API Key provided: sk_test_****abcd", se.Msg)

		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("sk_test_wrongwxyz:"))
		ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks, Header: map[string]string{"Authorization": basic}}).
			apiError(t, http.StatusUnauthorized)
		assert.Equal(t, "Invalid API Key provided: sk_test_****wxyz", ae.Message)

		ae = e.raw(t, rawRequest{Method: http.MethodGet, Path: clocks}).apiError(t, http.StatusUnauthorized)
		assert.Equal(t, noKey, ae.Message)
	})

	t.Run("accounts are isolated by key", func(t *testing.T) {
		e := start(t, emulator.Config{})
		a := e.client("sk_test_accountA0001")
		b := e.client("sk_test_accountB0002")
		rk := e.client("rk_test_accountA0001") // same suffix as A, still its own account

		clock := createClock(t, a, "A's clock")
		rkClock := createClock(t, rk, "restricted key's clock")

		for name, other := range map[string]*stripe.Client{"B": b, "rk": rk} {
			_, err := other.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
			se := stripeError(t, err, http.StatusNotFound)
			assert.Equal(t, "No such billingclock: '"+clock.ID+"'", se.Msg, name)
			assert.Equal(t, stripe.ErrorCode("resource_missing"), se.Code, name)

			_, err = other.V1TestHelpersTestClocks.Advance(t.Context(), clock.ID,
				&stripe.TestHelpersTestClockAdvanceParams{FrozenTime: stripe.Int64(frozen0 + 1)})
			stripeError(t, err, http.StatusNotFound)
			_, err = other.V1TestHelpersTestClocks.Delete(t.Context(), clock.ID, nil)
			stripeError(t, err, http.StatusNotFound)
		}
		_, err := a.V1TestHelpersTestClocks.Retrieve(t.Context(), rkClock.ID, nil)
		stripeError(t, err, http.StatusNotFound)

		assert.Equal(t, []string{clock.ID}, clockIDs(t, a))
		assert.Equal(t, []string{rkClock.ID}, clockIDs(t, rk))
		assert.Empty(t, clockIDs(t, b))

		assert.Empty(t, eventsOf(t, b, nil), "B sees none of A's events")
		aEvents := eventsOf(t, a, nil)
		require.Len(t, aEvents, 1)
		assert.Equal(t, clock.ID, aEvents[0].Data.Object["id"])
		_, err = b.V1Events.Retrieve(t.Context(), aEvents[0].ID, nil)
		se := stripeError(t, err, http.StatusNotFound)
		assert.Equal(t, "No such event: '"+aEvents[0].ID+"'", se.Msg)
		rkEvents := eventsOf(t, rk, nil)
		require.Len(t, rkEvents, 1)
		assert.Equal(t, rkClock.ID, rkEvents[0].Data.Object["id"])

		// The clock A still has is untouched by B's attempts.
		got, err := a.V1TestHelpersTestClocks.Retrieve(t.Context(), clock.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, stripe.TestHelpersTestClockStatusReady, got.Status)
		assert.Equal(t, frozen0, got.FrozenTime)
	})
}
