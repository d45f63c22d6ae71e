package emulator_test

// The Stripe CLI's `stripe logs tail`, driven as the CLI drives it: the
// session request it sends (websocket_features[]=request_logs and its
// filters as JSON), the websocket it dials, the request_log_event messages
// it decodes and the acks it sends back, from the fixtures of
// testdata/stripecli.

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// openLogsSession sends `stripe logs tail`'s session request for key,
// with the filters (nil: the fixture's, no filter).
func openLogsSession(t *testing.T, e *env, key string, filters map[string][]string) cliSession {
	t.Helper()
	form := string(cliFixture(t, "logs_session_request.form"))
	if filters != nil {
		b, err := json.Marshal(filters)
		require.NoError(t, err)
		form = url.Values{"device_name": {"billclock-test"}, "websocket_features[]": {"request_logs"}, "filters": {string(b)}}.Encode()
	}
	resp := cliSessionRequest(t, e, key, form)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var raw map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	sameShape(t, "session", cliFixtureJSON(t, "session_response.json"), raw)
	return cliSession{raw: raw, URL: raw["websocket_url"].(string), ID: raw["websocket_id"].(string),
		Feature: raw["websocket_authorized_feature"].(string), Secret: raw["secret"].(string),
		DefaultVersion: raw["default_version"].(string), LatestVer: raw["latest_version"].(string),
		ReconnectDelay: raw["reconnect_delay"].(float64)}
}

// requestLog is a request_log_event as the CLI decodes it.
type requestLog struct {
	ID        string
	CreatedAt int64  `json:"created_at"`
	Livemode  bool   `json:"livemode"`
	Method    string `json:"method"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
	URL       string `json:"url"`
	Error     struct {
		Type        string `json:"type"`
		Charge      string `json:"charge"`
		Code        string `json:"code"`
		DeclineCode string `json:"decline_code"`
		Message     string `json:"message"`
		Param       string `json:"param"`
	} `json:"error"`
}

// readRequestLog reads the next message, which must be a request_log_event
// of the fixtures' shape, and acknowledges it as the CLI does.
func readRequestLog(t *testing.T, conn *websocket.Conn) requestLog {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, data, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	assert.NotContains(t, string(data), "sk_test_", "a log never carries a key")
	var msg map[string]any
	require.NoError(t, json.Unmarshal(data, &msg))
	sameShape(t, "request_log_event", cliFixtureJSON(t, "request_log_event.json"), msg)
	require.Equal(t, "request_log_event", msg["type"])
	payload := msg["event_payload"].(string)
	var p map[string]any
	require.NoError(t, json.Unmarshal([]byte(payload), &p))
	want := cliFixtureJSON(t, "request_log_payload.json")
	sameShape(t, "event_payload", want, p)
	sameShape(t, "event_payload.error", want["error"].(map[string]any), p["error"].(map[string]any))
	var log requestLog
	require.NoError(t, json.Unmarshal([]byte(payload), &log))
	log.ID = msg["request_log_id"].(string)
	assert.True(t, strings.HasPrefix(log.ID, "resp_"), "request_log_id %q", log.ID)
	ack := strings.ReplaceAll(string(cliFixture(t, "request_log_ack.json")), "<request_log_id>", log.ID)
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(ack)))
	return log
}

// noMoreLogs checks that nothing more comes for a while.
func noMoreLogs(t *testing.T, conn *websocket.Conn) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	_, extra, err := conn.ReadMessage()
	assert.Error(t, err, "nothing more, got %s", extra)
}

func TestStripeLogsTail(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	s := openLogsSession(t, b.env, testKey, nil)
	assert.Equal(t, "request_logs", s.Feature)
	assert.Equal(t, "ws://"+b.srv.Addr()+"/v1/stripecli/websocket", s.URL)
	assert.Equal(t, false, s.raw["display_connect_filter_warning"])
	assert.Greater(t, s.ReconnectDelay, 0.0)

	// Requests made after the session, before the CLI connects, are sent
	// once it does.
	before := time.Now().Unix()
	cus := plainCustomer(t, b)
	conn, _, err := dialCLI(t, s, s.ID)
	require.NoError(t, err)
	_, err = b.sc.V1Customers.Retrieve(t.Context(), "cus_missing", nil)
	var missing *stripe.Error
	require.True(t, errors.As(err, &missing), "err = %v", err)
	list := b.sc.V1Customers.List(t.Context(), &stripe.CustomerListParams{ListParams: stripe.ListParams{Limit: stripe.Int64(3)}})
	for _, err := range list.All(t.Context()) {
		require.NoError(t, err)
	}
	after := time.Now().Unix()

	created := readRequestLog(t, conn)
	assert.Equal(t, "POST", created.Method)
	assert.Equal(t, "/v1/customers", created.URL)
	assert.Equal(t, 200, created.Status)
	assert.Equal(t, cus.LastResponse.RequestID, created.RequestID)
	assert.False(t, created.Livemode)
	assert.GreaterOrEqual(t, created.CreatedAt, before)
	assert.LessOrEqual(t, created.CreatedAt, after)
	assert.Empty(t, created.Error, "a request that succeeded has no error")

	failed := readRequestLog(t, conn)
	assert.Equal(t, "GET", failed.Method)
	assert.Equal(t, "/v1/customers/cus_missing", failed.URL)
	assert.Equal(t, 404, failed.Status)
	assert.Equal(t, missing.RequestID, failed.RequestID)
	assert.Equal(t, string(missing.Type), failed.Error.Type)
	assert.Equal(t, string(missing.Code), failed.Error.Code)
	assert.Equal(t, missing.Msg, failed.Error.Message)
	assert.Equal(t, missing.Param, failed.Error.Param)

	listed := readRequestLog(t, conn)
	assert.Equal(t, "GET", listed.Method)
	assert.Equal(t, "/v1/customers", listed.URL, "the path, without the query")
	assert.Equal(t, 200, listed.Status)
	assert.NotEqual(t, created.ID, listed.ID)

	// The session requests themselves, and requests without a valid key,
	// are not logged.
	openLogsSession(t, b.env, testKey, nil)
	for _, auth := range []string{"", "Bearer nope", "Bearer sk_live_" + strings.TrimPrefix(testKey, "sk_test_")} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL()+"/v1/customers", nil)
		require.NoError(t, err)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.GreaterOrEqual(t, resp.StatusCode, 400, "auth %q", auth)
	}
	noMoreLogs(t, conn)

	// The websocket of a logs session is not a listen's.
	s.Feature = "webhooks"
	_, _, err = dialCLI(t, s, s.ID)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
}

// TestStripeLogsTailAccounts: a tail sees the requests of its key's
// account only.
func TestStripeLogsTailAccounts(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	const otherKey = "sk_test_another_account"
	other := b.client(otherKey)
	mine, theirs := openLogsSession(t, b.env, testKey, nil), openLogsSession(t, b.env, otherKey, nil)
	connMine, _, err := dialCLI(t, mine, mine.ID)
	require.NoError(t, err)
	connTheirs, _, err := dialCLI(t, theirs, theirs.ID)
	require.NoError(t, err)

	a1 := plainCustomer(t, b)
	o1, err := other.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{Name: stripe.String("Other")})
	require.NoError(t, err)
	a2 := plainCustomer(t, b)

	assert.Equal(t, a1.LastResponse.RequestID, readRequestLog(t, connMine).RequestID)
	assert.Equal(t, a2.LastResponse.RequestID, readRequestLog(t, connMine).RequestID)
	noMoreLogs(t, connMine)
	assert.Equal(t, o1.LastResponse.RequestID, readRequestLog(t, connTheirs).RequestID)
	noMoreLogs(t, connTheirs)
}

// TestStripeLogsTailFilters: the filters the CLI sends in the session are
// applied by billclock (the CLI filters nothing itself).
func TestStripeLogsTailFilters(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	// stripe logs tail --filter-http-method POST --filter-status-code-type 4XX
	s := openLogsSession(t, b.env, testKey, map[string][]string{"filter_http_method": {"POST"}, "filter_status_code_type": {"400"}})
	conn, _, err := dialCLI(t, s, s.ID)
	require.NoError(t, err)
	// stripe logs tail --filter-request-path /v1/products --filter-request-status SUCCEEDED
	paths := openLogsSession(t, b.env, testKey, map[string][]string{"filter_request_path": {"/v1/products"}, "filter_request_status": {"SUCCEEDED"}})
	connPaths, _, err := dialCLI(t, paths, paths.ID)
	require.NoError(t, err)

	plainCustomer(t, b) // POST 200
	_, err = b.sc.V1Customers.Retrieve(t.Context(), "cus_missing", nil)
	require.Error(t, err) // GET 404
	_, err = b.sc.V1Customers.Update(t.Context(), "cus_missing", &stripe.CustomerUpdateParams{Name: stripe.String("x")})
	var postFailed *stripe.Error
	require.True(t, errors.As(err, &postFailed), "err = %v", err) // POST 404
	prod, err := b.sc.V1Products.Create(t.Context(), &stripe.ProductCreateParams{Name: stripe.String("Seats")})
	require.NoError(t, err) // POST 200 on /v1/products

	got := readRequestLog(t, conn)
	assert.Equal(t, postFailed.RequestID, got.RequestID)
	assert.Equal(t, "POST", got.Method)
	assert.Equal(t, 404, got.Status)
	noMoreLogs(t, conn)
	assert.Equal(t, prod.LastResponse.RequestID, readRequestLog(t, connPaths).RequestID)
	noMoreLogs(t, connPaths)

	// --filter-account is for Connect, which billclock does not emulate:
	// the session says the filter is not applied, as Stripe does for an
	// account that is no Connect platform.
	connect := openLogsSession(t, b.env, testKey, map[string][]string{"filter_account": {"connect_in"}})
	assert.Equal(t, true, connect.raw["display_connect_filter_warning"])
}

// TestStripeLogsTailStalled: tails that read nothing (a CLI stopped in a
// debugger, or one that never connected) hold up no request; one that
// connects late gets the oldest clockwork.TailBuffer requests it missed,
// and the newer ones are dropped for it.
func TestStripeLogsTailStalled(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	for range 3 {
		s := openLogsSession(t, b.env, testKey, nil)
		_, _, err := dialCLI(t, s, s.ID) // never read
		require.NoError(t, err)
	}
	late := openLogsSession(t, b.env, testKey, nil)

	const n = 1000
	done := make(chan []string, 1)
	go func() {
		var ids []string
		for range n {
			_, err := b.sc.V1Customers.Retrieve(t.Context(), "cus_missing", nil)
			var se *stripe.Error
			if !errors.As(err, &se) {
				break
			}
			ids = append(ids, se.RequestID)
		}
		done <- ids
	}()
	var ids []string
	select {
	case ids = <-done:
	// A generous wait: a liveness check, not a timing one.
	case <-time.After(2 * time.Minute):
		t.Fatal("requests are held up by tails that read nothing")
	}
	require.Len(t, ids, n, "every request answered")

	conn, _, err := dialCLI(t, late, late.ID)
	require.NoError(t, err)
	var got []string
	for {
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		_, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		var msg struct {
			EventPayload string `json:"event_payload"`
		}
		require.NoError(t, json.Unmarshal(data, &msg))
		var log requestLog
		require.NoError(t, json.Unmarshal([]byte(msg.EventPayload), &log))
		got = append(got, log.RequestID)
	}
	assert.Equal(t, ids[:256], got, "the oldest clockwork.TailBuffer requests, in order")
}

// TestStripeLogsTailServerStops: when the server stops, a tail's
// connection is closed (the CLI then asks the next server for a new
// session), not left open; after a restart the session is unknown.
func TestStripeLogsTailServerStops(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	s := openLogsSession(t, b.env, testKey, nil)
	conn, _, err := dialCLI(t, s, s.ID)
	require.NoError(t, err)
	cus := plainCustomer(t, b)
	assert.Equal(t, cus.LastResponse.RequestID, readRequestLog(t, conn).RequestID)
	b.srv.Restart()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = conn.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "err = %v", err)
	s.URL = "ws://" + b.srv.Addr() + "/v1/stripecli/websocket"
	_, _, err = dialCLI(t, s, s.ID)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
}
