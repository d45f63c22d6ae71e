package emulator_test

// The Stripe CLI's `stripe listen` protocol, driven as the CLI drives it:
// the session request it sends, the websocket dial it makes (gorilla's
// Dialer, which the CLI uses, with its subprotocol, headers and query) and
// the messages it sends back, all from fixtures of their shapes written
// down from the CLI's source (testdata/stripecli). Events are verified as
// the CLI's forward target verifies them: stripe-go's ConstructEvent with
// the session's secret.

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"
	"github.com/stripe/stripe-go/v86/webhook"

	"github.com/billclock/billclock/emulator"
)

// cliFixture reads a file of testdata/stripecli.
func cliFixture(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "testdata", "stripecli", name))
	require.NoError(t, err)
	return raw
}

// cliFixtureJSON decodes a JSON fixture of testdata/stripecli.
func cliFixtureJSON(t *testing.T, name string) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(cliFixture(t, name), &v), name)
	return v
}

// sameShape checks that got has exactly the keys of want, each with a value
// of the same JSON type (null in want stands for null).
func sameShape(t *testing.T, what string, want, got map[string]any) {
	t.Helper()
	var wantKeys, gotKeys []string
	for k := range want {
		wantKeys = append(wantKeys, k)
	}
	for k := range got {
		gotKeys = append(gotKeys, k)
	}
	slices.Sort(wantKeys)
	slices.Sort(gotKeys)
	require.Equal(t, wantKeys, gotKeys, "%s: keys", what)
	for k, w := range want {
		assert.Equal(t, reflect.TypeOf(w), reflect.TypeOf(got[k]), "%s: type of %s (%v)", what, k, got[k])
	}
}

// cliSession is a session as the test reads it.
type cliSession struct {
	raw                                                 map[string]any
	URL, ID, Feature, Secret, DefaultVersion, LatestVer string
	ReconnectDelay                                      float64
}

// openCLISession sends the CLI's session request for key.
func openCLISession(t *testing.T, e *env, key string) cliSession {
	t.Helper()
	resp := cliSessionRequest(t, e, key, string(cliFixture(t, "session_request.form")))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var raw map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&raw))
	sameShape(t, "session", cliFixtureJSON(t, "session_response.json"), raw)
	return cliSession{raw: raw, URL: raw["websocket_url"].(string), ID: raw["websocket_id"].(string),
		Feature: raw["websocket_authorized_feature"].(string), Secret: raw["secret"].(string),
		DefaultVersion: raw["default_version"].(string), LatestVer: raw["latest_version"].(string),
		ReconnectDelay: raw["reconnect_delay"].(float64)}
}

func cliSessionRequest(t *testing.T, e *env, key, form string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.srv.URL()+"/v1/stripecli/sessions", strings.NewReader(form))
	require.NoError(t, err)
	// As the CLI's stripe.Client sends it.
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// dialCLI dials the session's websocket as websocket.Client.connect does.
func dialCLI(t *testing.T, s cliSession, id string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	var dial struct {
		Query        string            `json:"query"`
		Headers      map[string]string `json:"headers"`
		Subprotocols []string          `json:"subprotocols"`
	}
	require.NoError(t, json.Unmarshal(cliFixture(t, "websocket_dial.json"), &dial))
	h := http.Header{}
	for k, v := range dial.Headers {
		h.Set(k, strings.ReplaceAll(v, "<websocket_id>", id))
	}
	d := &websocket.Dialer{HandshakeTimeout: 10 * time.Second, Subprotocols: dial.Subprotocols}
	u := s.URL + "?" + strings.ReplaceAll(dial.Query, "<websocket_authorized_feature>", s.Feature)
	conn, resp, err := d.DialContext(t.Context(), u, h)
	if conn != nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

// cliEvent is a webhook_event message, checked against the fixture's
// shape, with its event.
type cliEvent struct {
	msg          map[string]any
	Conversation string
	WebhookID    string
	Payload      []byte
	Headers      map[string]string
	Event        stripe.Event
}

// readCLIEvent reads the next message, which must be a webhook_event whose
// event verifies with secret.
func readCLIEvent(t *testing.T, conn *websocket.Conn, secret string) cliEvent {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	typ, data, err := conn.ReadMessage()
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	var msg map[string]any
	require.NoError(t, json.Unmarshal(data, &msg))
	sameShape(t, "webhook_event", cliFixtureJSON(t, "webhook_event.json"), msg)
	require.Equal(t, "webhook_event", msg["type"])
	require.Nil(t, msg["endpoint"].(map[string]any)["api_version"], "an event in the default version")
	ev := cliEvent{msg: msg, Conversation: msg["webhook_conversation_id"].(string), WebhookID: msg["webhook_id"].(string),
		Payload: []byte(msg["event_payload"].(string)), Headers: map[string]string{}}
	for k, v := range msg["http_headers"].(map[string]any) {
		ev.Headers[k] = v.(string)
	}
	assert.Equal(t, "application/json; charset=utf-8", ev.Headers["Content-Type"])
	assert.Equal(t, "Stripe/1.0 (+https://stripe.com/docs/webhooks)", ev.Headers["User-Agent"])
	ev.Event, err = webhook.ConstructEvent(ev.Payload, ev.Headers["Stripe-Signature"], secret)
	require.NoError(t, err, "the forwarded event verifies with the session's secret")
	return ev
}

// sendCLI sends a fixture message with its placeholders filled in.
func sendCLI(t *testing.T, conn *websocket.Conn, fixture string, ev cliEvent) {
	t.Helper()
	msg := strings.NewReplacer("<webhook_conversation_id>", ev.Conversation, "<webhook_id>", ev.WebhookID,
		"<event_id>", ev.Event.ID).Replace(string(cliFixture(t, fixture)))
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(msg)))
}

// plainCustomer creates a customer on no clock and with nothing else.
func plainCustomer(t *testing.T, b *billingEnv) *stripe.Customer {
	t.Helper()
	c, err := b.sc.V1Customers.Create(t.Context(), &stripe.CustomerCreateParams{Name: stripe.String("Jenny")})
	require.NoError(t, err)
	return c
}

func TestStripeCLIListen(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	s := openCLISession(t, b.env, testKey)
	assert.True(t, strings.HasPrefix(s.Secret, "whsec_"), "secret %q", s.Secret)
	assert.Equal(t, "ws://"+b.srv.Addr()+"/v1/stripecli/websocket", s.URL)
	assert.Equal(t, "webhooks", s.Feature)
	assert.Equal(t, "2026-08-26.dahlia", s.DefaultVersion)
	assert.Equal(t, s.DefaultVersion, s.LatestVer)
	assert.Greater(t, s.ReconnectDelay, 0.0)
	assert.Equal(t, false, s.raw["display_connect_filter_warning"])

	// Events recorded after the session was made, before the CLI connects,
	// are not lost.
	cus := plainCustomer(t, b)
	conn, resp, err := dialCLI(t, s, s.ID)
	require.NoError(t, err)
	assert.Equal(t, "stripecli-devproxy-v1", resp.Header.Get("Sec-Websocket-Protocol"))
	prod, err := b.sc.V1Products.Create(t.Context(), &stripe.ProductCreateParams{Name: stripe.String("Seats")})
	require.NoError(t, err)

	want := b.events(nil)
	require.Equal(t, []string{"customer.created", "product.created"}, eventTypes(want))
	first := readCLIEvent(t, conn, s.Secret)
	second := readCLIEvent(t, conn, s.Secret)
	assert.Equal(t, eventIDs(want), []string{first.Event.ID, second.Event.ID}, "in order")
	assert.Equal(t, cus.ID, first.Event.Data.Object["id"])
	assert.Equal(t, prod.ID, second.Event.Data.Object["id"])
	assert.NotEqual(t, first.Conversation, second.Conversation)
	assert.True(t, strings.HasPrefix(first.WebhookID, "we_"), "webhook_id %q", first.WebhookID)
	// The payload is the event as GET /v1/events/{id} shows it.
	got := b.plainRequest(t, http.MethodGet, "/v1/events/"+first.Event.ID, nil)
	assert.JSONEq(t, string(got.Body), string(first.Payload))

	// The CLI's answers: an ack, then the forward's response. A message
	// the CLI would never send is ignored, not fatal.
	sendCLI(t, conn, "event_ack.json", first)
	sendCLI(t, conn, "webhook_response.json", first)
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"bogus"`)))

	// The CLI reconnects with the same id (every reconnect_delay): the
	// event it did not acknowledge comes again, then what happened while
	// it was away, and nothing else.
	cus2 := plainCustomer(t, b)
	third := readCLIEvent(t, conn, s.Secret)
	assert.Equal(t, cus2.ID, third.Event.Data.Object["id"])
	sendCLI(t, conn, "event_ack.json", third)
	require.NoError(t, conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, "Resetting the connection"), time.Now().Add(time.Second)))
	conn.Close()
	cus3 := plainCustomer(t, b)
	conn, _, err = dialCLI(t, s, s.ID)
	require.NoError(t, err)
	again := readCLIEvent(t, conn, s.Secret)
	assert.Equal(t, second.Event.ID, again.Event.ID, "the unacknowledged event, again")
	next := readCLIEvent(t, conn, s.Secret)
	assert.Equal(t, cus3.ID, next.Event.Data.Object["id"])
	sendCLI(t, conn, "event_ack.json", again)
	sendCLI(t, conn, "event_ack.json", next)
	conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, extra, err := conn.ReadMessage()
	assert.Error(t, err, "nothing more, got %s", extra)

	// The secret is the account's: a new session (a restarted CLI) signs
	// with the same one, as at Stripe.
	assert.Equal(t, s.Secret, openCLISession(t, b.env, testKey).Secret)
	assert.NotEqual(t, s.Secret, openCLISession(t, b.env, "sk_test_another_account").Secret)
}

// TestStripeCLIPing: the CLI pings every two seconds and closes a
// connection whose pongs stop.
func TestStripeCLIPing(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	s := openCLISession(t, b.env, testKey)
	conn, _, err := dialCLI(t, s, s.ID)
	require.NoError(t, err)
	pong := make(chan string, 1)
	conn.SetPongHandler(func(data string) error { pong <- data; return nil })
	go conn.ReadMessage() // control frames are read by a reader
	require.NoError(t, conn.WriteControl(websocket.PingMessage, []byte("hello"), time.Now().Add(time.Second)))
	select {
	case data := <-pong:
		assert.Equal(t, "hello", data)
	case <-time.After(10 * time.Second):
		t.Fatal("no pong")
	}
}

// TestStripeCLIUnknownID: an id billclock does not know (a session of a
// server that restarted) gets the answer that makes the CLI ask for a new
// session.
func TestStripeCLIUnknownID(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	s := openCLISession(t, b.env, testKey)
	for _, id := range []string{"wsid_unknown", ""} {
		conn, resp, err := dialCLI(t, s, id)
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		require.Nil(t, conn)
		body, rerr := io.ReadAll(resp.Body)
		require.NoError(t, rerr)
		var got, want struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal(body, &got))
		require.NoError(t, json.Unmarshal(cliFixture(t, "unknown_id.json"), &want))
		assert.Equal(t, want.Error.Message, got.Error.Message, "id %q", id)
	}

	// Once the server restarts, the session is gone.
	b.srv.Restart()
	s.URL = "ws://" + b.srv.Addr() + "/v1/stripecli/websocket"
	_, _, err := dialCLI(t, s, s.ID)
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
}

// TestStripeCLISessionErrors: the session route answers in Stripe's
// envelope: a bad key, an unknown parameter, a feature billclock does not
// stream (thin events), and filters of `stripe logs tail` that are no JSON.
func TestStripeCLISessionErrors(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	tests := []struct {
		name, key, form string
		status          int
		param, message  string
	}{
		{name: "no key", key: "", form: string(cliFixture(t, "session_request.form")), status: 401, message: "You did not provide an API key"},
		{name: "unknown param", key: testKey, form: "device_name=x&websocket_features[]=webhooks&bogus=1", status: 400, param: "bogus"},
		{name: "thin events", key: testKey, form: "device_name=x&websocket_features[]=v2_events", status: 400,
			param: "websocket_features", message: "thin events"},
		{name: "logs tail, filters not JSON", key: testKey, form: "device_name=x&websocket_features[]=request_logs&filters=GET", status: 400,
			param: "filters", message: "Invalid filters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := cliSessionRequest(t, b.env, tt.key, tt.form)
			require.Equal(t, tt.status, resp.StatusCode)
			var env struct {
				Error struct{ Type, Message, Param string }
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
			assert.Equal(t, "invalid_request_error", env.Error.Type)
			assert.Equal(t, tt.param, env.Error.Param)
			assert.Contains(t, env.Error.Message, tt.message)
		})
	}
}

// TestStripeCLISlowReaderHoldsNothing: `stripe listen` sessions whose
// websocket never reads nor acknowledges anything (a CLI stopped in a
// debugger) delay neither a clock advance nor webhook deliveries, and
// receive at most a window of events.
func TestStripeCLISlowReaderHoldsNothing(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	var stuck []*websocket.Conn
	for range 3 {
		s := openCLISession(t, b.env, testKey)
		conn, _, err := dialCLI(t, s, s.ID)
		require.NoError(t, err)
		stuck = append(stuck, conn)
	}
	rc := newReceiver(t, nil)
	b.endpoint(rc, "*")
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	for range 8 {
		b.subscribe(b.customer(clock.ID).ID, price.ID, 1, nil)
	}
	b.advance(clock.ID, frozen0+2*30*86400) // waits until ready
	// A generous wait: a liveness check, not a timing one.
	evs := b.delivered(2 * time.Minute)
	require.Greater(t, len(evs), 150, "more events than a session's window")
	assert.Equal(t, eventIDs(evs), rc.ids(), "every event delivered to the endpoint, in order")

	// A stuck reader that wakes up gets a window's worth, in order, and no
	// more until it acknowledges.
	conn := stuck[0]
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
		var ev struct{ ID string }
		require.NoError(t, json.Unmarshal([]byte(msg.EventPayload), &ev))
		got = append(got, ev.ID)
	}
	require.Equal(t, 64, len(got), "a window of unacknowledged events")
	assert.Equal(t, eventIDs(evs[:64]), got)

	// When the server stops, the connection of a session waiting for
	// acknowledgements is closed (the CLI then reconnects), not left open.
	conn = stuck[1]
	for range 64 {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err := conn.ReadMessage()
		require.NoError(t, err)
	}
	b.srv.Stop()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err := conn.ReadMessage()
	assert.True(t, websocket.IsCloseError(err, websocket.CloseGoingAway), "err = %v", err)
}
