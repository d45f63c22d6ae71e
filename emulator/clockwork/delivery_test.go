package clockwork

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// customerCreated records a customer's created event on the ledger.
func customerCreated(l *Ledger) error {
	c := &billing.Customer{ID: l.NewID("cus_"), Created: l.Wall()}
	if err := l.PutCustomer(c); err != nil {
		return err
	}
	return l.Record(billing.Event{Type: billing.EventCustomerCreated, Time: c.Created, Object: c})
}

// A scan of the delivery queue made before a delivery committed hands out
// the same job again once that delivery is done: running it must not send
// the event a second time.
func TestStaleDeliveryJobIsNotSentTwice(t *testing.T) {
	var hits atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(recv.Close)
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_stale"
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: recv.URL, EnabledEvents: []string{"*"}, Secret: "s"}); err != nil {
			return nil, err
		}
		return nil, customerCreated(l)
	})

	due, _, err := rt.deliverer.scan(time.Now())
	require.NoError(t, err)
	require.Len(t, due, 1)
	require.NoError(t, due[0].run(t.Context()))
	require.EqualValues(t, 1, hits.Load())

	require.NoError(t, due[0].run(t.Context()))
	assert.EqualValues(t, 1, hits.Load(), "the event was sent again")
}

// TestPrunedEventIsNotDelivered: an event pruned while still queued for
// delivery is dropped from the queue, not sent.
func TestPrunedEventIsNotDelivered(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	rt := newTestRuntime(t, Options{Now: wall.Now})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_pruned_delivery"
	var hits atomic.Int64
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(rc.Close)
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: rc.URL, EnabledEvents: []string{"*"}, Secret: "s"}); err != nil {
			return nil, err
		}
		return nil, customerCreated(l)
	})

	wall.Add(31 * 24 * time.Hour)
	require.NoError(t, rt.Sweep())
	require.Empty(t, eventsOf(t, rt, d, key))
	_, err := rt.DeliverDue(t.Context())
	require.NoError(t, err)
	assert.Zero(t, hits.Load(), "nothing is sent for a pruned event")
	view(t, rt, d, key, func(l *Ledger) error {
		_, err := l.ListAttempts(AttemptFilter{}, store.Page{Limit: 10}, func([]byte) error {
			t.Error("an attempt was recorded")
			return nil
		})
		return err
	})
	due, next, err := rt.deliverer.scan(wall.Now())
	require.NoError(t, err)
	assert.Empty(t, due)
	assert.Negative(t, next, "the delivery left the queue")
}
