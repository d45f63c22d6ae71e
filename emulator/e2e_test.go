package emulator_test

// End-to-end tests: each test starts a real billclock on a free port over a
// bbolt file in its temp directory and drives it with stripe-go, or with
// net/http where the client cannot say what the test needs. Every response
// the server sends goes through conformanceTransport, which checks it against
// Stripe's OpenAPI extract and fails the test on any mismatch.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/emulatortest"
	"github.com/billclock/billclock/emulator/stripe/conformance"
)

// testKey is the API key tests act with unless they need another account.
const testKey = "sk_test_e2e0123456789"

// frozen0 is 2024-11-23 00:00:00 UTC, the frozen time of the example in
// Stripe's own error text.
const frozen0 int64 = 1732320000

var loadSpec = sync.OnceValues(func() (*conformance.Spec, error) {
	return conformance.Load("../testdata/openapi/stripe-subset.json")
})

// env is one running server and the means to talk to it.
type env struct {
	t    *testing.T
	srv  *emulatortest.Server
	http *http.Client
}

// start runs a server for the test.
func start(t *testing.T, cfg emulator.Config) *env {
	t.Helper()
	spec, err := loadSpec()
	require.NoError(t, err)
	e := &env{t: t, srv: emulatortest.Start(t, cfg)}
	e.http = &http.Client{Transport: &conformanceTransport{e: e, spec: spec, next: http.DefaultTransport}}
	return e
}

// client returns a stripe-go client for key with automatic retries off, so
// that every answer the server gives reaches the test.
func (e *env) client(key string) *stripe.Client { return e.clientWithRetries(key, 0) }

// clientWithRetries returns a stripe-go client that retries as stripe-go
// does in production: network errors and 5xx, with its usual back-off. (It
// does not retry a 409 in Stripe's error envelope: see
// TestIdempotencyConcurrentClients.)
func (e *env) clientWithRetries(key string, retries int64) *stripe.Client {
	b := stripe.NewBackendsWithConfig(&stripe.BackendConfig{
		URL:               stripe.String(e.srv.URL()), // read now: Restart changes the port
		HTTPClient:        e.http,
		MaxNetworkRetries: stripe.Int64(retries),
		EnableTelemetry:   stripe.Bool(false),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return stripe.NewClient(key, stripe.WithBackends(b))
}

// conformanceTransport checks every response against Stripe's OpenAPI
// extract and the headers Stripe always sends, then hands it on unchanged.
type conformanceTransport struct {
	e    *env
	spec *conformance.Spec
	next http.RoundTripper
}

func (c *conformanceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))

	t := c.e.t
	what := req.Method + " " + req.URL.Path
	if id := resp.Header.Get("Request-Id"); !strings.HasPrefix(id, "req_") {
		t.Errorf("%s -> %d: Request-Id %q, want req_...", what, resp.StatusCode, id)
	}
	if resp.Header.Get("Stripe-Version") == "" {
		t.Errorf("%s -> %d: no Stripe-Version header", what, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s -> %d: Content-Type %q, want application/json", what, resp.StatusCode, ct)
	}
	err = c.spec.ValidateResponse(req.Method, req.URL.Path, resp.StatusCode, body)
	var invalid *conformance.ValidationError
	if err != nil && !errors.As(err, &invalid) && resp.StatusCode >= 400 {
		// Routes Stripe does not have (GET /v1/foo) are not in the spec;
		// their answer must still be Stripe's error envelope.
		if serr := c.spec.ValidateSchema("error", json.RawMessage(body)); serr == nil {
			err = nil
		} else {
			err = errors.Join(err, serr)
		}
	}
	if err != nil {
		t.Errorf("%s -> %d does not conform to Stripe's spec: %v\nbody: %s", what, resp.StatusCode, err, body)
	}
	return resp, nil
}

// rawRequest is a request made without stripe-go.
type rawRequest struct {
	Method string
	// Path includes any query string.
	Path string
	Body string
	// Key is sent as a Bearer token; empty sends no Authorization header
	// unless Header sets one.
	Key    string
	Header map[string]string
}

type rawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// raw sends a request with net/http, through the conformance check.
func (e *env) raw(t *testing.T, r rawRequest) rawResponse {
	t.Helper()
	resp, err := e.send(r)
	require.NoError(t, err)
	return resp
}

// send is raw for goroutines other than the test's: it returns its error.
func (e *env) send(r rawRequest) (rawResponse, error) {
	req, err := http.NewRequest(r.Method, e.srv.URL()+r.Path, strings.NewReader(r.Body))
	if err != nil {
		return rawResponse{}, err
	}
	if r.Body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.Key != "" {
		req.Header.Set("Authorization", "Bearer "+r.Key)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return rawResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return rawResponse{}, err
	}
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// object decodes a JSON object body.
func (r rawResponse) object(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "body: %s", r.Body)
	return m
}

// apiError is the error member of Stripe's envelope.
type apiError struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param"`
}

// apiError decodes Stripe's error envelope, after checking the status.
func (r rawResponse) apiError(t *testing.T, status int) apiError {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	var env struct {
		Error *apiError `json:"error"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &env), "body: %s", r.Body)
	require.NotNil(t, env.Error, "no error member in %s", r.Body)
	return *env.Error
}

// listIDs decodes a list body into its object ids, in the order sent.
func (r rawResponse) listIDs(t *testing.T) (ids []string, hasMore bool) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var l struct {
		Object  string `json:"object"`
		HasMore bool   `json:"has_more"`
		Data    []struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &l))
	require.Equal(t, "list", l.Object)
	for _, d := range l.Data {
		ids = append(ids, d.ID)
	}
	return ids, l.HasMore
}

// stripeError asserts that err is an API error with the given status and
// returns it.
func stripeError(t *testing.T, err error, status int) *stripe.Error {
	t.Helper()
	require.Error(t, err)
	var se *stripe.Error
	require.True(t, errors.As(err, &se), "not a *stripe.Error: %v", err)
	require.Equal(t, status, se.HTTPStatusCode, "error: %v", err)
	assert.True(t, strings.HasPrefix(se.RequestID, "req_"), "request id %q", se.RequestID)
	return se
}

// rawJSON decodes the raw JSON stripe-go received for a resource.
func rawJSON(t *testing.T, r *stripe.APIResponse) map[string]any {
	t.Helper()
	require.NotNil(t, r)
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.RawJSON, &m))
	return m
}

// createClock creates a clock frozen at frozen0.
func createClock(t *testing.T, sc *stripe.Client, name string) *stripe.TestHelpersTestClock {
	t.Helper()
	p := &stripe.TestHelpersTestClockCreateParams{FrozenTime: stripe.Int64(frozen0)}
	if name != "" {
		p.Name = stripe.String(name)
	}
	c, err := sc.V1TestHelpersTestClocks.Create(t.Context(), p)
	require.NoError(t, err)
	return c
}

// waitReady polls a clock until it is no longer advancing and returns it.
func waitReady(t *testing.T, sc *stripe.Client, id string) *stripe.TestHelpersTestClock {
	t.Helper()
	// Generous: a loaded machine running the race detector is slow, and
	// the wait ends as soon as the clock does.
	const within = 2 * time.Minute
	deadline := time.Now().Add(within)
	for {
		c, err := sc.V1TestHelpersTestClocks.Retrieve(t.Context(), id, nil)
		require.NoError(t, err)
		if c.Status != stripe.TestHelpersTestClockStatusAdvancing {
			return c
		}
		require.True(t, time.Now().Before(deadline), "clock %s still advancing after %v", id, within)
		time.Sleep(2 * time.Millisecond)
	}
}

// clockIDs lists every clock of sc's account with the auto-pager.
func clockIDs(t *testing.T, sc *stripe.Client) []string {
	t.Helper()
	var ids []string
	for c, err := range sc.V1TestHelpersTestClocks.List(t.Context(), &stripe.TestHelpersTestClockListParams{}).All(t.Context()) {
		require.NoError(t, err)
		ids = append(ids, c.ID)
	}
	return ids
}

// eventsOf lists the events of sc's account, newest first, with the
// auto-pager; params may be nil.
func eventsOf(t *testing.T, sc *stripe.Client, params *stripe.EventListParams) []*stripe.Event {
	t.Helper()
	if params == nil {
		params = &stripe.EventListParams{}
	}
	var evs []*stripe.Event
	for ev, err := range sc.V1Events.List(t.Context(), params).All(t.Context()) {
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	return evs
}

func eventTypes(evs []*stripe.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type)
	}
	return out
}

// reversed returns a reversed copy of s.
func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}
