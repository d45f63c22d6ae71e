package emulator_test

// End-to-end webhook tests: real HTTP receivers that check every delivery
// with stripe-go's own webhook.ConstructEvent, as a user's endpoint would,
// and record what arrived in arrival order. The Stripe API is driven with
// stripe-go through the conformance transport; billclock's own routes
// (POST /v1/events/{id}/retry, which Stripe's spec does not describe, and
// GET /_billclock/webhook_attempts) go through plainRequest instead.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"
	"github.com/stripe/stripe-go/v86/webhook"

	"github.com/billclock/billclock/emulator"
	"github.com/billclock/billclock/emulator/clockwork"
)

const (
	webhookContentType = "application/json; charset=utf-8"
	webhookUserAgent   = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
)

// arrival is one request a receiver got.
type arrival struct {
	ID      string
	Type    string
	Created int64
	Pending int64 // pending_webhooks in the body
	Body    []byte
	Header  http.Header
	At      time.Time
	// N counts the arrivals of this event at this receiver, from 1.
	N int
	// Status is what the receiver answered (0 until it has).
	Status int
}

// answerFunc decides a receiver's status for the n-th arrival (from 1) of
// ev. ctx ends when the request is abandoned or the test ends.
type answerFunc func(ctx context.Context, ev *stripe.Event, n int) int

// receiver is a user's webhook endpoint: it verifies every delivery with
// webhook.ConstructEvent, unchanged, and records it.
type receiver struct {
	t      *testing.T
	URL    string
	answer answerFunc
	keyed  chan struct{} // closed once the secret is known
	done   chan struct{} // closed when the test ends

	mu       sync.Mutex
	secret   string
	arrivals []*arrival
	seen     map[string]int
	changed  chan struct{} // closed and replaced on every arrival or answer
}

// newReceiver starts a receiver on a free loopback port; answer nil
// answers 200 to everything.
func newReceiver(t *testing.T, answer answerFunc) *receiver {
	return newReceiverAt(t, "127.0.0.1:0", answer)
}

// newReceiverAt starts a receiver listening on addr.
func newReceiverAt(t *testing.T, addr string, answer answerFunc) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	rc := &receiver{t: t, URL: "http://" + ln.Addr().String() + "/webhooks", answer: answer,
		keyed: make(chan struct{}), done: make(chan struct{}), seen: map[string]int{}, changed: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(rc.done) }) // runs first: releases blocked handlers
	return rc
}

func (rc *receiver) setSecret(secret string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = secret
	close(rc.keyed)
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-rc.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rc.t.Errorf("webhook receiver: read body: %v", err)
		return
	}
	select {
	case <-rc.keyed:
	case <-ctx.Done():
		return
	}
	rc.mu.Lock()
	secret := rc.secret
	rc.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != "/webhooks" {
		rc.t.Errorf("webhook receiver: %s %s, want POST /webhooks", r.Method, r.URL.Path)
	}
	ev, err := webhook.ConstructEvent(body, r.Header.Get("Stripe-Signature"), secret)
	if err != nil {
		rc.t.Errorf("delivery does not pass webhook.ConstructEvent: %v\nStripe-Signature: %s\nbody: %s",
			err, r.Header.Get("Stripe-Signature"), body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.seen[ev.ID]++
	a := &arrival{ID: ev.ID, Type: string(ev.Type), Created: ev.Created, Pending: ev.PendingWebhooks,
		Body: body, Header: r.Header.Clone(), At: time.Now(), N: rc.seen[ev.ID]}
	rc.arrivals = append(rc.arrivals, a)
	rc.notifyLocked()
	rc.mu.Unlock()

	status := http.StatusOK
	if rc.answer != nil {
		status = rc.answer(ctx, &ev, a.N)
	}
	rc.mu.Lock()
	a.Status = status
	rc.notifyLocked()
	rc.mu.Unlock()
	if ctx.Err() == nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(`{"received":true}`))
	}
}

func (rc *receiver) notifyLocked() {
	close(rc.changed)
	rc.changed = make(chan struct{})
}

// got returns a copy of what arrived so far, in arrival order.
func (rc *receiver) got() []arrival {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]arrival, len(rc.arrivals))
	for i, a := range rc.arrivals {
		out[i] = *a
	}
	return out
}

// ids returns the event ids that arrived, in arrival order.
func (rc *receiver) ids() []string {
	var out []string
	for _, a := range rc.got() {
		out = append(out, a.ID)
	}
	return out
}

func (rc *receiver) types() []string {
	var out []string
	for _, a := range rc.got() {
		out = append(out, a.Type)
	}
	return out
}

// waitFor waits until cond holds for what has arrived.
func (rc *receiver) waitFor(within time.Duration, what string, cond func([]arrival) bool) {
	rc.t.Helper()
	timeout := time.After(max(within, livenessWait)) // a liveness wait (see eventually)
	for {
		rc.mu.Lock()
		changed := rc.changed
		rc.mu.Unlock()
		got := rc.got()
		if cond(got) {
			return
		}
		select {
		case <-changed:
		case <-timeout:
			var seen []string
			for _, a := range got {
				seen = append(seen, fmt.Sprintf("%s %s (#%d, status %d)", a.ID, a.Type, a.N, a.Status))
			}
			rc.t.Fatalf("receiver: after %v still waiting for %s; got:\n%s", within, what, strings.Join(seen, "\n"))
		}
	}
}

// endpoint creates a webhook endpoint for rc subscribed to events, and
// hands its secret to rc.
func (b *billingEnv) endpoint(rc *receiver, events ...string) *stripe.WebhookEndpoint {
	b.t.Helper()
	we, err := b.sc.V1WebhookEndpoints.Create(b.t.Context(), &stripe.WebhookEndpointCreateParams{
		URL: stripe.String(rc.URL), EnabledEvents: stripe.StringSlice(events)})
	require.NoError(b.t, err)
	require.True(b.t, strings.HasPrefix(we.Secret, "whsec_"), "secret %q", we.Secret)
	rc.setSecret(we.Secret)
	return we
}

// liveness is how long a test waits for something that is bound to
// happen (a delivery, an advance): generous, since a loaded machine
// running the race detector is slow, and the wait ends as soon as it does.
const liveness = 2 * time.Minute

// eventually polls cond until it holds.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	// A wait for something that must happen is a liveness check, never a
	// speed check: on a loaded machine it may take far longer than usual,
	// so no wait is shorter than livenessWait.
	within = max(within, livenessWait)
	deadline := time.Now().Add(within)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "after %v still waiting for %s", within, what)
		time.Sleep(10 * time.Millisecond)
	}
}

// livenessWait is the least time eventually waits for its condition.
const livenessWait = time.Minute

// delivered waits until no event of the account has a webhook pending and
// returns the events, oldest first.
func (b *billingEnv) delivered(within time.Duration) []*stripe.Event {
	b.t.Helper()
	var evs []*stripe.Event
	eventually(b.t, within, "every event's pending_webhooks to reach 0", func() bool {
		evs = b.events(nil)
		for _, ev := range evs {
			if ev.PendingWebhooks != 0 {
				return false
			}
		}
		return true
	})
	return evs
}

func eventIDs(evs []*stripe.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

// plainRequest sends a request to one of billclock's routes that Stripe's
// spec does not describe, around the conformance check.
func (e *env) plainRequest(t *testing.T, method, path string, form url.Values) rawResponse {
	t.Helper()
	var body io.Reader
	if method == http.MethodGet {
		if len(form) > 0 {
			path += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, e.srv.URL()+path, body)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(resp.Header.Get("Request-Id"), "req_"), "%s %s: Request-Id %q", method, path, resp.Header.Get("Request-Id"))
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// webhookAttempt is an entry of GET /_billclock/webhook_attempts.
type webhookAttempt struct {
	ID              string `json:"id"`
	Object          string `json:"object"`
	WebhookEndpoint string `json:"webhook_endpoint"`
	Event           string `json:"event"`
	EventType       string `json:"event_type"`
	Attempt         int    `json:"attempt"`
	Created         int64  `json:"created"`
	URL             string `json:"url"`
	StatusCode      int    `json:"status_code"`
	LatencyMS       *int64 `json:"latency_ms"`
	Error           string `json:"error"`
	Outcome         string `json:"outcome"`
}

// attempts lists the delivery attempts to endpoint, oldest first.
func (e *env) attempts(t *testing.T, endpoint string) []webhookAttempt {
	t.Helper()
	r := e.plainRequest(t, http.MethodGet, "/_billclock/webhook_attempts",
		url.Values{"webhook_endpoint": {endpoint}, "limit": {"100"}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var l struct {
		Object  string           `json:"object"`
		URL     string           `json:"url"`
		HasMore bool             `json:"has_more"`
		Data    []webhookAttempt `json:"data"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &l))
	require.Equal(t, "list", l.Object)
	require.Equal(t, "/_billclock/webhook_attempts", l.URL)
	require.False(t, l.HasMore)
	return reversed(l.Data)
}

// TestWebhookDeliveryOfAnAdvance follows one clock advance across a renewal
// to a receiver that checks every delivery as stripe-go's users do.
func TestWebhookDeliveryOfAnAdvance(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	rc := newReceiver(t, nil)
	we := b.endpoint(rc, "*")
	assert.Equal(t, "webhook_endpoint", we.Object)
	assert.Equal(t, "enabled", we.Status)
	assert.Equal(t, rc.URL, we.URL)
	assert.Equal(t, []string{"*"}, we.EnabledEvents)
	assert.False(t, we.Livemode)

	// The secret is shown on create only.
	got, err := b.sc.V1WebhookEndpoints.Retrieve(t.Context(), we.ID, nil)
	require.NoError(t, err)
	assert.Empty(t, got.Secret)
	assert.NotContains(t, rawJSON(t, got.LastResponse), "secret")
	list := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/webhook_endpoints", Key: testKey})
	var l struct {
		Data []map[string]any `json:"data"`
	}
	require.NoError(t, json.Unmarshal(list.Body, &l))
	require.Len(t, l.Data, 1)
	assert.Equal(t, we.ID, l.Data[0]["id"])
	assert.NotContains(t, l.Data[0], "secret")

	const boundary = frozen0 + 30*86400
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	b.advance(clock.ID, boundary+hour)
	renewal := b.latestInvoice(sub.ID)
	require.NotEqual(t, sub.LatestInvoice.ID, renewal.ID)
	require.Equal(t, stripe.InvoiceStatusPaid, renewal.Status)

	evs := b.delivered(liveness)
	arrivals := rc.got()
	require.Equal(t, eventIDs(evs), rc.ids(), "the receiver sees the events in the order GET /v1/events lists them (reversed), each once")

	types := rc.types()
	adv := slices.Index(types, "test_helpers.test_clock.advancing")
	require.GreaterOrEqual(t, adv, 0, "types: %v", types)
	require.Equal(t, []string{
		"test_helpers.test_clock.advancing",
		"invoice.upcoming",
		"customer.subscription.updated",
		"invoice.created",
		"invoice.finalized",
		"payment_intent.created",
		"charge.succeeded",
		"payment_intent.succeeded",
		"invoice.paid",
		"invoice.payment_succeeded",
		"invoice_payment.paid",
		"test_helpers.test_clock.ready",
	}, types[adv:])
	var created []int64
	for _, a := range arrivals[adv+1 : len(arrivals)-1] {
		created = append(created, a.Created)
	}
	at := boundary + hour
	assert.Equal(t, []int64{boundary - 3*86400, boundary, boundary, at, at, at, at, at, at, at}, created,
		"billing events arrive in simulated-time order")

	for _, a := range arrivals {
		assert.Equal(t, webhookContentType, a.Header.Get("Content-Type"), a.Type)
		assert.Equal(t, webhookUserAgent, a.Header.Get("User-Agent"), a.Type)
		// The body is the event as GET /v1/events/{id} shows it, byte for
		// byte, except pending_webhooks: it counts this delivery (1, the
		// only endpoint) when sent and 0 once it succeeded.
		assert.Equal(t, int64(1), a.Pending, a.Type)
		stored := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/events/" + a.ID, Key: testKey})
		require.Equal(t, http.StatusOK, stored.Status)
		assert.Equal(t, 1, bytes.Count(a.Body, []byte(`"pending_webhooks":`)), a.Type)
		sent := bytes.Replace(a.Body, []byte(`,"pending_webhooks":1,`), []byte(`,"pending_webhooks":0,`), 1)
		assert.Equal(t, string(stored.Body), string(sent), "%s: delivered body vs GET /v1/events/%s", a.Type, a.ID)
	}
	for _, ev := range evs {
		assert.Zero(t, ev.PendingWebhooks, "%s %s", ev.ID, ev.Type)
	}
}

// TestWebhookEndpoints covers the endpoint API: enabled_events filtering,
// disabling and re-enabling, updates, deletion and the errors.
func TestWebhookEndpoints(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	all, paidOnly, toggled := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	weAll := b.endpoint(all, "*")
	wePaid := b.endpoint(paidOnly, "invoice.paid")
	weTog := b.endpoint(toggled, "*")

	listed := func() []string {
		var ids []string
		for we, err := range b.sc.V1WebhookEndpoints.List(ctx, &stripe.WebhookEndpointListParams{}).All(ctx) {
			require.NoError(t, err)
			assert.Empty(t, we.Secret)
			ids = append(ids, we.ID)
		}
		return ids
	}
	assert.Equal(t, []string{weTog.ID, wePaid.ID, weAll.ID}, listed(), "newest first")
	page, _ := b.raw(t, rawRequest{Method: http.MethodGet, Path: "/v1/webhook_endpoints?limit=2", Key: testKey}).listIDs(t)
	assert.Equal(t, []string{weTog.ID, wePaid.ID}, page)

	// enabled_events: only invoice.paid reaches paidOnly.
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer("") // pays with a card: a customer with none is not charged
	b.subscribe(cust.ID, price.ID, 1, nil)
	evs := b.delivered(5 * time.Second)
	assert.Equal(t, eventIDs(evs), all.ids())
	assert.Equal(t, eventIDs(evs), toggled.ids())
	paid := eventsOf(t, b.sc, &stripe.EventListParams{Type: stripe.String("invoice.paid")})
	require.Len(t, paid, 1)
	assert.Equal(t, []string{paid[0].ID}, paidOnly.ids())

	// Disabled: no deliveries; enabled again: deliveries resume with new
	// events.
	upd, err := b.sc.V1WebhookEndpoints.Update(ctx, weTog.ID, &stripe.WebhookEndpointUpdateParams{Disabled: stripe.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "disabled", upd.Status)
	assert.Empty(t, upd.Secret)
	whileDisabled := b.bareCustomer("")
	b.delivered(5 * time.Second)
	upd, err = b.sc.V1WebhookEndpoints.Update(ctx, weTog.ID, &stripe.WebhookEndpointUpdateParams{Disabled: stripe.Bool(false)})
	require.NoError(t, err)
	assert.Equal(t, "enabled", upd.Status)
	afterEnable := b.bareCustomer("")
	evs = b.delivered(5 * time.Second)
	created := eventsOf(t, b.sc, &stripe.EventListParams{Type: stripe.String("customer.created")})
	require.Len(t, created, 3)
	require.Equal(t, whileDisabled.ID, created[1].Data.Object["id"])
	require.Equal(t, afterEnable.ID, created[0].Data.Object["id"])
	assert.Equal(t, eventIDs(evs), all.ids())
	assert.NotContains(t, toggled.ids(), created[1].ID, "delivered while disabled")
	assert.Equal(t, created[0].ID, toggled.ids()[len(toggled.ids())-1], "not delivered after enabling again")
	assert.Equal(t, []string{paid[0].ID}, paidOnly.ids())

	// Update: a new url, event list, description and metadata; the
	// secret stays.
	moved := newReceiver(t, nil)
	moved.setSecret(weTog.Secret)
	upd, err = b.sc.V1WebhookEndpoints.Update(ctx, weTog.ID, &stripe.WebhookEndpointUpdateParams{
		URL: stripe.String(moved.URL), EnabledEvents: stripe.StringSlice([]string{"customer.updated"}),
		Description: stripe.String("moved"), Metadata: map[string]string{"team": "billing"}})
	require.NoError(t, err)
	assert.Equal(t, moved.URL, upd.URL)
	assert.Equal(t, []string{"customer.updated"}, upd.EnabledEvents)
	assert.Equal(t, "moved", upd.Description)
	assert.Equal(t, map[string]string{"team": "billing"}, upd.Metadata)
	assert.Equal(t, "enabled", upd.Status)
	ret, err := b.sc.V1WebhookEndpoints.Retrieve(ctx, weTog.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, upd.URL, ret.URL)
	assert.Equal(t, upd.EnabledEvents, ret.EnabledEvents)
	assert.Equal(t, weTog.Created, ret.Created)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("Jenny")})
	require.NoError(t, err)
	b.bareCustomer("") // customer.created: not wanted by the moved endpoint
	b.delivered(5 * time.Second)
	updated := eventsOf(t, b.sc, &stripe.EventListParams{Type: stripe.String("customer.updated")})
	require.Len(t, updated, 1)
	assert.Equal(t, []string{updated[0].ID}, moved.ids())
	assert.Equal(t, created[0].ID, toggled.ids()[len(toggled.ids())-1], "the old url gets nothing more")

	// Deleted: no more deliveries.
	del, err := b.sc.V1WebhookEndpoints.Delete(ctx, weTog.ID, nil)
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	assert.Equal(t, weTog.ID, del.ID)
	assert.Equal(t, "webhook_endpoint", del.Object)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, &stripe.CustomerUpdateParams{Name: stripe.String("Jenny R.")})
	require.NoError(t, err)
	evs = b.delivered(5 * time.Second)
	assert.Equal(t, eventIDs(evs), all.ids())
	assert.Len(t, moved.ids(), 1, "delivered after delete")
	assert.Equal(t, []string{wePaid.ID, weAll.ID}, listed())

	// Errors.
	missing := []struct {
		params *stripe.WebhookEndpointCreateParams
		param  string
	}{
		{&stripe.WebhookEndpointCreateParams{EnabledEvents: stripe.StringSlice([]string{"*"})}, "url"},
		{&stripe.WebhookEndpointCreateParams{URL: stripe.String("https://example.com/hook")}, "enabled_events"},
	}
	for _, tc := range missing {
		_, err := b.sc.V1WebhookEndpoints.Create(ctx, tc.params)
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorCodeParameterMissing, se.Code)
		assert.Equal(t, tc.param, se.Param)
		assert.Equal(t, "Missing required param: "+tc.param+".", se.Msg)
	}
	for _, u := range []string{"ftp://example.com/hook", "example.com/hook", "https://", "http://exa mple.com/"} {
		_, err := b.sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
			URL: stripe.String(u), EnabledEvents: stripe.StringSlice([]string{"*"})})
		se := stripeError(t, err, http.StatusBadRequest)
		assert.Equal(t, stripe.ErrorTypeInvalidRequest, se.Type, u)
		assert.Equal(t, "url", se.Param, u)
		assert.Contains(t, se.Msg, "Invalid URL", u)
	}
	_, err = b.sc.V1WebhookEndpoints.Create(ctx, &stripe.WebhookEndpointCreateParams{
		URL: stripe.String("https://example.com/hook"), EnabledEvents: stripe.StringSlice([]string{"nonsense"})})
	assert.Equal(t, "enabled_events", stripeError(t, err, http.StatusBadRequest).Param)
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/webhook_endpoints", Key: testKey,
		Body: "url=https%3A%2F%2Fexample.com&enabled_events[]=*&colour=red"})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Equal(t, "parameter_unknown", ae.Code)
	assert.Equal(t, "colour", ae.Param)

	notFound := func(err error) {
		t.Helper()
		se := stripeError(t, err, http.StatusNotFound)
		assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)
		assert.Equal(t, "No such webhook endpoint: 'we_x'", se.Msg)
		assert.Equal(t, "id", se.Param)
	}
	_, err = b.sc.V1WebhookEndpoints.Retrieve(ctx, "we_x", nil)
	notFound(err)
	_, err = b.sc.V1WebhookEndpoints.Update(ctx, "we_x", &stripe.WebhookEndpointUpdateParams{Disabled: stripe.Bool(true)})
	notFound(err)
	_, err = b.sc.V1WebhookEndpoints.Delete(ctx, "we_x", nil)
	notFound(err)
	_, err = b.sc.V1WebhookEndpoints.Retrieve(ctx, weTog.ID, nil)
	assert.Equal(t, "No such webhook endpoint: '"+weTog.ID+"'", stripeError(t, err, http.StatusNotFound).Msg)
}

// TestWebhookRetriesKeepOrder: failed deliveries are retried with backoff,
// and an endpoint gets an event only once the one before it succeeded.
func TestWebhookRetriesKeepOrder(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{Webhooks: clockwork.WebhookOptions{
		RetryDelay: 50 * time.Millisecond, MaxRetryDelay: 200 * time.Millisecond}})
	const failFor = 10 * time.Millisecond
	rc := newReceiver(t, func(ctx context.Context, _ *stripe.Event, n int) int {
		if n <= 2 {
			time.Sleep(failFor)
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	we := b.endpoint(rc, "*")
	for range 3 {
		b.bareCustomer("")
	}
	b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	evs := b.delivered(5 * time.Second)
	require.Len(t, evs, 5) // 3 customers, a product, a price

	got := rc.got()
	require.Len(t, got, 3*len(evs), "three tries per event")
	for i, ev := range evs {
		tries := got[3*i : 3*i+3]
		for n, a := range tries {
			assert.Equal(t, ev.ID, a.ID, "arrival %d: event %d (%s) must succeed before the next is sent", 3*i+n, i, ev.Type)
			assert.Equal(t, n+1, a.N)
		}
		assert.Equal(t, []int{500, 500, 200}, []int{tries[0].Status, tries[1].Status, tries[2].Status}, ev.Type)
		// Backoff: RetryDelay after the first failure, twice that after
		// the second, counted from when the failed attempt ended.
		assert.GreaterOrEqual(t, tries[1].At.Sub(tries[0].At), 50*time.Millisecond+failFor, ev.Type)
		assert.GreaterOrEqual(t, tries[2].At.Sub(tries[1].At), 100*time.Millisecond+failFor, ev.Type)
	}

	atts := b.attempts(t, we.ID)
	require.Len(t, atts, len(got))
	for i, att := range atts {
		ev := evs[i/3]
		assert.True(t, strings.HasPrefix(att.ID, "wha_"), att.ID)
		assert.Equal(t, "webhook_attempt", att.Object)
		assert.Equal(t, we.ID, att.WebhookEndpoint)
		assert.Equal(t, ev.ID, att.Event)
		assert.Equal(t, string(ev.Type), att.EventType)
		assert.Equal(t, rc.URL, att.URL)
		assert.Equal(t, i%3+1, att.Attempt)
		assert.InDelta(t, time.Now().Unix(), att.Created, 60)
		require.NotNil(t, att.LatencyMS, "latency_ms")
		if i%3 < 2 {
			assert.Equal(t, http.StatusInternalServerError, att.StatusCode)
			assert.Equal(t, "retrying", att.Outcome)
			assert.NotEmpty(t, att.Error)
			assert.GreaterOrEqual(t, *att.LatencyMS, failFor.Milliseconds(), "latency of a slow failure")
		} else {
			assert.Equal(t, http.StatusOK, att.StatusCode)
			assert.Equal(t, "succeeded", att.Outcome)
			assert.Empty(t, att.Error)
			assert.GreaterOrEqual(t, *att.LatencyMS, int64(0))
		}
	}

	// Filtering by event, and the route's auth.
	r := b.plainRequest(t, http.MethodGet, "/_billclock/webhook_attempts", url.Values{"event": {evs[2].ID}})
	ids, _ := r.listIDs(t)
	assert.Len(t, ids, 3)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.srv.URL()+"/_billclock/webhook_attempts", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

// TestWebhookDeadEndpointDoesNotStallOthers: an endpoint that never answers
// is given up after its attempts, while a healthy endpoint on the same
// account gets every event meanwhile.
func TestWebhookDeadEndpointDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	// Each attempt on the dead endpoint hangs for the timeout: long enough
	// that, even on a loaded machine, the healthy endpoint's deliveries
	// fall while one hangs.
	const timeout = time.Second
	b := startBilling(t, emulator.Config{Webhooks: clockwork.WebhookOptions{
		Timeout: timeout, Attempts: 2, RetryDelay: 50 * time.Millisecond}})
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	var hanging, overlaps atomic.Int32
	dead := newReceiver(t, func(ctx context.Context, _ *stripe.Event, _ int) int {
		hanging.Add(1)
		defer hanging.Add(-1)
		<-ctx.Done() // never answers
		return http.StatusOK
	})
	healthy := newReceiver(t, func(context.Context, *stripe.Event, int) int {
		if hanging.Load() > 0 {
			overlaps.Add(1)
		}
		return http.StatusOK
	})
	weDead := b.endpoint(dead, "customer.created", "invoice.paid")
	b.endpoint(healthy, "*")

	cust := b.customer("") // pays with a card: a customer with none is not charged
	dead.waitFor(liveness, "the first attempt", func(got []arrival) bool { return len(got) >= 1 })
	b.subscribe(cust.ID, price.ID, 1, nil) // nine events in one commit
	all := b.events(nil)
	require.Equal(t, []string{"product.created", "price.created", "customer.created", "payment_method.attached",
		"customer.subscription.created", "invoice.created", "invoice.finalized", "payment_intent.created", "charge.succeeded",
		"payment_intent.succeeded", "invoice.paid", "invoice.payment_succeeded", "invoice_payment.paid"}, eventTypes(all))
	all = all[2:] // the product and price came before the endpoints
	healthy.waitFor(liveness, "every event", func(got []arrival) bool { return len(got) == len(all) })
	assert.Equal(t, eventIDs(all), healthy.ids())
	assert.NotZero(t, overlaps.Load(), "the healthy endpoint got nothing while the dead one hung")

	// Given up on the dead endpoint: customer.created and invoice.paid,
	// two attempts each.
	b.delivered(liveness)
	wanted := []*stripe.Event{all[0], all[8]}
	var want []string
	for _, ev := range wanted {
		want = append(want, ev.ID, ev.ID)
	}
	assert.Equal(t, want, dead.ids(), "two attempts per event, in order")
	atts := b.attempts(t, weDead.ID)
	require.Len(t, atts, 4)
	for i, att := range atts {
		assert.Equal(t, wanted[i/2].ID, att.Event)
		assert.Equal(t, i%2+1, att.Attempt)
		assert.Equal(t, []string{"retrying", "failed"}[i%2], att.Outcome)
		assert.Zero(t, att.StatusCode, "no answer, no status")
		assert.NotEmpty(t, att.Error)
		require.NotNil(t, att.LatencyMS)
		assert.GreaterOrEqual(t, *att.LatencyMS, timeout.Milliseconds())
	}
	assert.Equal(t, eventIDs(all), healthy.ids(), "each event once")
}

// TestWebhookDeliveriesSurviveRestart: deliveries queued for an endpoint
// that is down are made, once each and in order, by the next server on the
// same database.
func TestWebhookDeliveriesSurviveRestart(t *testing.T) {
	t.Parallel()
	// Long enough that the endpoint is tried once before the restart; the
	// retry after the restart honours it (the schedule is persisted).
	const retryDelay = 750 * time.Millisecond
	b := startBilling(t, emulator.Config{Webhooks: clockwork.WebhookOptions{RetryDelay: retryDelay}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // the receiver is down

	we, err := b.sc.V1WebhookEndpoints.Create(t.Context(), &stripe.WebhookEndpointCreateParams{
		URL: stripe.String("http://" + addr + "/webhooks"), EnabledEvents: stripe.StringSlice([]string{"*"})})
	require.NoError(t, err)
	for range 3 {
		b.bareCustomer("")
	}
	evs := b.events(nil)
	require.Len(t, evs, 3)
	eventually(t, 2*time.Second, "a failed attempt", func() bool { return len(b.attempts(t, we.ID)) > 0 })
	for _, att := range b.attempts(t, we.ID) {
		assert.Equal(t, evs[0].ID, att.Event, "only the head of the queue is tried")
		assert.Equal(t, "retrying", att.Outcome)
		assert.Contains(t, att.Error, "refused")
	}

	b.srv.Stop()
	rc := newReceiverAt(t, addr, nil)
	rc.setSecret(we.Secret)
	b.srv.Restart()
	b.sc = b.client(testKey) // the port changed

	after := b.delivered(5 * retryDelay)
	require.Equal(t, eventIDs(evs), eventIDs(after))
	assert.Equal(t, eventIDs(evs), rc.ids(), "each event exactly once, in order")
	atts := b.attempts(t, we.ID)
	require.NotEmpty(t, atts)
	last := atts[len(atts)-1]
	assert.Equal(t, evs[2].ID, last.Event)
	assert.Equal(t, "succeeded", last.Outcome)
	var succeeded []string
	for _, att := range atts {
		if att.Outcome == "succeeded" {
			succeeded = append(succeeded, att.Event)
		}
	}
	assert.Equal(t, eventIDs(evs), succeeded)
}

// TestWebhookRetryEvent: POST /v1/events/{id}/retry (the Stripe CLI's
// `events resend`) delivers an event once more.
func TestWebhookRetryEvent(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	spec, err := loadSpec()
	require.NoError(t, err)
	rc := newReceiver(t, nil)
	we := b.endpoint(rc, "*")
	b.bareCustomer("")
	evs := b.delivered(5 * time.Second)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, []string{ev.ID}, rc.ids())

	r := b.plainRequest(t, http.MethodPost, "/v1/events/"+ev.ID+"/retry", url.Values{"webhook_endpoint": {we.ID}})
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	require.NoError(t, spec.ValidateSchema("event", json.RawMessage(r.Body)))
	got := r.object(t)
	assert.Equal(t, ev.ID, got["id"])
	assert.EqualValues(t, 1, got["pending_webhooks"], "queued once more")
	b.delivered(5 * time.Second)
	assert.Equal(t, []string{ev.ID, ev.ID}, rc.ids())
	assert.Equal(t, []int{1, 2}, []int{rc.got()[0].N, rc.got()[1].N})

	// Without webhook_endpoint: every endpoint that wants the event.
	r = b.plainRequest(t, http.MethodPost, "/v1/events/"+ev.ID+"/retry", nil)
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	b.delivered(5 * time.Second)
	assert.Equal(t, []string{ev.ID, ev.ID, ev.ID}, rc.ids())

	r = b.plainRequest(t, http.MethodPost, "/v1/events/"+ev.ID+"/retry", url.Values{"webhook_endpoint": {"we_x"}})
	ae := r.apiError(t, http.StatusNotFound)
	assert.Equal(t, "No such webhook endpoint: 'we_x'", ae.Message)
	assert.Equal(t, "webhook_endpoint", ae.Param)
	r = b.plainRequest(t, http.MethodPost, "/v1/events/evt_x/retry", url.Values{"webhook_endpoint": {we.ID}})
	ae = r.apiError(t, http.StatusNotFound)
	assert.Equal(t, "No such event: 'evt_x'", ae.Message)
	assert.Len(t, rc.ids(), 3)
}

// TestWebhookSlowReceiverDoesNotHoldTheClock: a clock is ready as soon as
// its advance is applied, however slowly its events are taken.
func TestWebhookSlowReceiverDoesNotHoldTheClock(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	b.subscribe(cust.ID, price.ID, 1, nil)
	rc := newReceiver(t, func(ctx context.Context, _ *stripe.Event, _ int) int {
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
		return http.StatusOK
	})
	b.endpoint(rc, "*")

	b.advance(clock.ID, frozen0+30*86400+hour) // returns once the API reads ready
	assert.NotContains(t, rc.types(), "test_helpers.test_clock.ready", "ready waited for the receiver")

	evs := b.delivered(5 * time.Second)
	adv := slices.IndexFunc(evs, func(ev *stripe.Event) bool { return ev.Type == "test_helpers.test_clock.advancing" })
	require.GreaterOrEqual(t, adv, 0)
	assert.Equal(t, eventIDs(evs[adv:]), rc.ids(), "delivered in order, ready after the events before it")
	types := rc.types()
	require.Len(t, types, 12, "the advance's events: advancing, the upcoming invoice, a renewal paid through a PaymentIntent, ready")
	assert.Equal(t, "test_helpers.test_clock.ready", types[len(types)-1])
}
