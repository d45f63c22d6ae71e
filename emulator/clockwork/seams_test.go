package clockwork

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// renewal0 is the first monthly renewal of subscriptions made at frozen0.
const renewal0 = 1734912000 // 2024-12-23T00:00:00Z

// TestObserverSeesEachTask: a TaskObserver dialect sees every task an
// advance applies, in time order, with the events each caused (Commet's
// run items), and the advance comes out as without it.
func TestObserverSeesEachTask(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	var seen []observedTask
	d := observingFake{newFake(rt, "observing", "tk_"), &seen}
	rt.Register(d)
	const key = "tk_observed"
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen0, 2)
	})
	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, frozen0+40*86400) })
	for {
		finished, err := rt.advancer.step(jobKey(key, clock), 3)
		require.NoError(t, err)
		if finished {
			break
		}
	}
	require.Len(t, seen, 4, "%+v", seen)
	for i, o := range seen {
		kind, at := billing.TaskPeriodEnd, int64(renewal0)
		if i >= 2 {
			kind, at = billing.TaskFinalize, renewal0+billing.FinalizeDelay
		}
		assert.Equal(t, kind, o.Kind, "task %d", i)
		assert.Equal(t, at, o.At, "task %d", i)
		assert.NotEmpty(t, o.Subject, "task %d", i)
		assert.NotEmpty(t, o.Events, "task %d", i)
	}
	assert.Contains(t, seen[0].Events, billing.EventInvoiceCreated)
	assert.Contains(t, seen[2].Events, billing.EventInvoicePaid)
	assert.Equal(t, billing.ClockReady, clockStatus(t, rt, d, key, clock))
	view(t, rt, d, key, func(l *Ledger) error {
		p, err := l.Progress(clock)
		require.NoError(t, err)
		assert.EqualValues(t, 4, p.TasksDone)
		return nil
	})
}

// TestMoveThenRunDue: a clock moved without running what falls due
// (PutClock) has done nothing on the way; RunDue then applies it, in the
// same way, on demand (Commet's 2026-07-11 process-billing).
func TestMoveThenRunDue(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	var seen []observedTask
	d := observingFake{newFake(rt, "observing", "tk_"), &seen}
	rt.Register(d)
	const key = "tk_move"
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen0)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen0, 1)
	})
	invoices := func() int {
		n := 0
		view(t, rt, d, key, func(l *Ledger) error {
			coll, err := l.Collection(InvoicesCollection)
			require.NoError(t, err)
			return coll.Each(func(string, []byte) error { n++; return nil })
		})
		return n
	}
	require.Equal(t, 1, invoices(), "the first invoice")
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := l.Clock(clock)
		if err != nil {
			return nil, err
		}
		c.FrozenTime = frozen0 + 31*86400
		return nil, l.PutClock(c)
	})
	assert.Equal(t, 1, invoices(), "moving the clock runs nothing")
	assert.Empty(t, seen)
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		done, err := l.RunDue(clock, frozen0+31*86400, 0)
		assert.True(t, done)
		return nil, err
	})
	assert.Equal(t, 2, invoices(), "the renewal")
	require.Len(t, seen, 2)
	assert.Equal(t, billing.TaskPeriodEnd, seen[0].Kind)
	assert.Equal(t, billing.TaskFinalize, seen[1].Kind)
}

// TestClockLifetimeIsTheDialects: the janitor deletes a dialect's clocks
// after its ClockLifetime (Stripe's 30 days), and never those of a
// dialect whose clocks do not expire (Chargebee's, Commet's).
func TestClockLifetimeIsTheDialects(t *testing.T) {
	wall := &fakeClock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	rt := newTestRuntime(t, Options{Now: wall.Now})
	expiring, lasting := newFake(rt, "expiring", "ek_"), newFake(rt, "lasting", "lk_")
	expiring.lifetime = 30 * 24 * time.Hour
	rt.Register(expiring)
	rt.Register(lasting)
	clocks := map[Dialect]string{}
	for _, d := range []*fakeDialect{expiring, lasting} {
		update(t, rt, d, d.prefix+"acct", func(l *Ledger) (func(), error) {
			c, err := newClock(l, frozen0)
			if err == nil {
				clocks[d] = c.ID
			}
			return nil, err
		})
	}
	exists := func(d *fakeDialect) bool {
		found := true
		view(t, rt, d, d.prefix+"acct", func(l *Ledger) error {
			_, err := l.Clock(clocks[d])
			found = err == nil
			return nil
		})
		return found
	}
	wall.Add(30*24*time.Hour - time.Second)
	require.NoError(t, rt.Sweep())
	assert.True(t, exists(expiring), "younger than its lifetime")
	wall.Add(time.Second)
	require.NoError(t, rt.Sweep())
	assert.False(t, exists(expiring), "deleted at its lifetime")
	require.Len(t, eventsOf(t, rt, expiring, "ek_acct", string(billing.EventClockDeleted)), 1)
	wall.Add(365 * 24 * time.Hour)
	require.NoError(t, rt.Sweep())
	assert.True(t, exists(lasting), "a clock that never expires")
}
