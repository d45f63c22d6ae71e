package emulator_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator"
)

// unrecognized is Stripe's message for a route it does not have.
func unrecognized(method, path string) string {
	return "Unrecognized request URL (" + method + ": " + path + "). " +
		"Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
}

// TestUnrecognizedPaths: every path billclock does not serve, inside /v1
// or outside it, and every method a known path does not take, gets Stripe's
// JSON 404 with a Request-Id (checked by the conformance transport), never
// Go's plain-text 404 or 405.
func TestUnrecognizedPaths(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})

	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "/"},
		{http.MethodDelete, "/"},
		{http.MethodGet, "/foo"},
		{http.MethodPost, "/v2/customers"},
		{http.MethodGet, "/_billclock"},
		{http.MethodGet, "/_billclock/nope"},
		{http.MethodGet, "/healthz/x"},
		{http.MethodGet, "/v1"},
		// Known paths, other methods.
		{http.MethodPost, "/_billclock/webhook_attempts"},
		{http.MethodDelete, "/healthz"},
		{http.MethodPost, "/healthz"},
		{http.MethodPut, "/v1/customers"},
		{http.MethodPatch, "/v1/customers/cus_123"},
		{http.MethodPost, "/v1/events"},
		{http.MethodPut, "/v1/invoices/in_123"},
		{http.MethodDelete, "/v1/invoices/in_123/lines"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := e.raw(t, rawRequest{Method: tc.method, Path: tc.path, Key: testKey})
			ae := r.apiError(t, http.StatusNotFound)
			assert.Equal(t, apiError{Type: "invalid_request_error", Message: unrecognized(tc.method, tc.path)}, ae)
		})
	}

	// Without a key the answer is the same as for any route: Stripe's 401.
	ae := e.raw(t, rawRequest{Method: http.MethodGet, Path: "/foo"}).apiError(t, http.StatusUnauthorized)
	assert.Equal(t, "invalid_request_error", ae.Type)

	// /healthz still answers without a key, in plain JSON.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL()+"/healthz", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s /healthz: %s", method, body)
	}
}

// TestUnemulatedStripePaths: Stripe's legacy upcoming-invoice routes,
// which billclock does not emulate yet, create_preview with a method
// other than POST, and the search routes with a method other than GET
// answer "Unrecognized request URL" rather than being read as a retrieve
// (or update) of an object whose id is "search", "upcoming" or
// "create_preview".
func TestUnemulatedStripePaths(t *testing.T) {
	t.Parallel()
	e := start(t, emulator.Config{NoSync: true})

	for _, tc := range []struct{ method, path, query string }{
		{http.MethodGet, "/v1/invoices/upcoming", "?customer=cus_123"},
		{http.MethodGet, "/v1/invoices/upcoming", ""},
		{http.MethodGet, "/v1/invoices/upcoming/lines", "?customer=cus_123"},
		// create_preview is served for POST only.
		{http.MethodGet, "/v1/invoices/create_preview", ""},
		{http.MethodDelete, "/v1/invoices/create_preview", ""},
		// The routes they would have been taken for, with other methods.
		{http.MethodPost, "/v1/customers/search", ""},
		{http.MethodDelete, "/v1/subscriptions/search", ""},
		{http.MethodPost, "/v1/products/search", ""},
		{http.MethodPost, "/v1/charges/search", ""},
	} {
		t.Run(tc.method+" "+tc.path+tc.query, func(t *testing.T) {
			body := ""
			if tc.method == http.MethodPost {
				body = "customer=cus_123"
			}
			r := e.raw(t, rawRequest{Method: tc.method, Path: tc.path + tc.query, Key: testKey, Body: body})
			ae := r.apiError(t, http.StatusNotFound)
			assert.Equal(t, apiError{Type: "invalid_request_error", Message: unrecognized(tc.method, tc.path)}, ae)
		})
	}
}
