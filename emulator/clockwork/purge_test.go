package clockwork

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// TestPurgeThenRestart: start_afresh's two halves. PurgeCustomerData
// deletes what was billed and the events, keeps the catalog, clocks,
// endpoints and settings, and emits nothing; QueueRestart then moves the
// clock back to a genesis, advancing until the worker makes it ready, and
// the clock bills again from there.
func TestPurgeThenRestart(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_purge"
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: "http://127.0.0.1:1/", EnabledEvents: []string{"*"}}); err != nil {
			return nil, err
		}
		if err := l.PutPolicy(billing.DunningPolicy{RetryAfter: []int64{86400}, FinalizeDelay: 0}); err != nil {
			return nil, err
		}
		return nil, subscribe(l, clock, frozen0, 3)
	})
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, frozen0+40*86400) })
	for finished := false; !finished; {
		var err error
		finished, err = rt.advancer.step(jobKey(key, clock), 0)
		require.NoError(t, err)
	}
	require.NotEmpty(t, eventsOf(t, rt, d, key))

	const genesis = frozen0 - 90*86400
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PurgeCustomerData(); err != nil {
			return nil, err
		}
		// Within the same transaction, what was purged is gone.
		err := l.SubscriptionsOnClock(clock, func(*billing.Subscription) error { return errors.New("a subscription is left") })
		if err != nil {
			return nil, err
		}
		c, err := l.Clock(clock)
		if err != nil {
			return nil, err
		}
		return l.QueueRestart(c, genesis)
	})
	assert.Equal(t, billing.ClockAdvancing, clockStatus(t, rt, d, key, clock), "advancing until the worker has run")
	for finished := false; !finished; {
		var err error
		finished, err = rt.advancer.step(jobKey(key, clock), 0)
		require.NoError(t, err)
	}
	view(t, rt, d, key, func(l *Ledger) error {
		c, err := l.Clock(clock)
		require.NoError(t, err)
		assert.Equal(t, billing.ClockReady, c.Status)
		assert.EqualValues(t, genesis, c.FrozenTime, "moved back to the genesis")
		for _, coll := range []string{CustomersCollection, SubscriptionsCollection, InvoicesCollection, PaymentsCollection,
			ChargesCollection, PaymentMethodsCollection, InvoicePaymentsCollection} {
			co, err := l.Collection(coll)
			require.NoError(t, err)
			n := 0
			require.NoError(t, co.Each(func(string, []byte) error { n++; return nil }))
			assert.Zero(t, n, "%s purged", coll)
		}
		prices, err := l.Collection(PricesCollection)
		require.NoError(t, err)
		n := 0
		require.NoError(t, prices.Each(func(string, []byte) error { n++; return nil }))
		assert.Equal(t, 1, n, "the catalog stays")
		eps, err := l.Endpoints()
		require.NoError(t, err)
		assert.Len(t, eps, 1, "endpoints stay")
		p, err := l.Policy()
		require.NoError(t, err)
		assert.Equal(t, []int64{86400}, p.RetryAfter, "settings stay")
		return nil
	})
	var types []string
	for _, e := range eventsOf(t, rt, d, key) {
		types = append(types, e.Type)
	}
	assert.Equal(t, []string{string(billing.EventClockReady)}, types,
		"nothing of before is left, and the purge emits nothing: the restart ends as an advance does")

	// The restarted clock bills again from the genesis, and a purge of a
	// clock that is advancing is refused.
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return nil, subscribe(l, clock, genesis, 1) })
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, genesis+40*86400) })
	require.NoError(t, rt.DB().Update(func(tx *store.Tx) error {
		l, err := rt.Ledger(tx, d, key, nil)
		require.NoError(t, err)
		c, err := l.Clock(clock)
		require.NoError(t, err)
		_, err = l.QueueRestart(c, genesis)
		var be *billing.Error
		require.ErrorAs(t, err, &be)
		assert.Equal(t, billing.CodeClockAdvancing, be.Code)
		return nil
	}))
	for finished := false; !finished; {
		var err error
		finished, err = rt.advancer.step(jobKey(key, clock), 0)
		require.NoError(t, err)
	}
	view(t, rt, d, key, func(l *Ledger) error {
		invoices, err := l.Collection(InvoicesCollection)
		require.NoError(t, err)
		n := 0
		require.NoError(t, invoices.Each(func(string, []byte) error { n++; return nil }))
		assert.Equal(t, 2, n, "a first invoice and one renewal since the genesis")
		return nil
	})
}

// TestRecordEventQueuesDeliveries: an event a dialect renders itself is
// stored, listed by its type and queued for the endpoints that want it,
// like the engine's; Recorder is the ledger's one recorder.
func TestRecordEventQueuesDeliveries(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_rendered"
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		assert.Equal(t, l.Recorder(), l.Recorder(), "one recorder per ledger")
		if err := l.PutEndpoint(&Endpoint{ID: "we_1", URL: "http://127.0.0.1:1/", EnabledEvents: []string{"own.event"}}); err != nil {
			return nil, err
		}
		e := fakeEvent{ID: "evt_own", Type: "own.event", Created: frozen0, Dialect: "fake"}
		return nil, l.RecordEvent(&Event{ID: e.ID, Type: e.Type, Created: e.Created,
			Encode: func(pending int) ([]byte, error) {
				assert.Equal(t, 1, pending, "queued for the endpoint that wants it")
				return json.Marshal(e)
			}})
	})
	got := eventsOf(t, rt, d, key, "own.event")
	require.Len(t, got, 1)
	assert.Equal(t, "evt_own", got[0].ID)
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		q, err := tx.Queue(deliveryQueue)
		require.NoError(t, err)
		n := 0
		require.NoError(t, q.ForEach(func(string, []byte) error { n++; return nil }))
		assert.Equal(t, 1, n)
		return nil
	}))
}
