package clockwork

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// TestClockMoves: the advance log records each advance from its start to
// its end with the tasks it applied, a failed advance as failed, a time
// set without an advance, and a restart as a fresh start; a clock that
// follows wall time logs nothing while it does; a deleted clock's log goes
// with it.
func TestClockMoves(t *testing.T) {
	wall := time.Unix(1750000000, 0)
	rt := newTestRuntime(t, Options{Now: func() time.Time { return wall }})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_moves"
	const frozen, target = 1732320000, 1732320000 + 40*86400
	var clock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := newClock(l, frozen)
		if err != nil {
			return nil, err
		}
		clock = c.ID
		return nil, subscribe(l, clock, frozen, 2)
	})
	moves := func() []ClockMove {
		t.Helper()
		var m []ClockMove
		view(t, rt, d, key, func(l *Ledger) (err error) {
			m, err = l.ClockMoves(clock)
			return err
		})
		return m
	}
	finish := func() {
		t.Helper()
		for {
			finished, err := rt.advancer.step(jobKey(key, clock), 0)
			require.NoError(t, err)
			if finished {
				return
			}
		}
	}
	assert.Empty(t, moves(), "a new clock has not moved")

	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, target) })
	assert.Equal(t, []ClockMove{{From: frozen, To: target, Outcome: MoveAdvancing, Started: wall.Unix()}}, moves())
	wall = wall.Add(3 * time.Second)
	finish()
	first := ClockMove{From: frozen, To: target, Outcome: MoveReady, Started: wall.Unix() - 3, Ended: wall.Unix(), Tasks: 4}
	assert.Equal(t, []ClockMove{first}, moves(), "two renewals and their finalizations")

	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if _, err := l.ArmAdvanceFailure(clock); err != nil {
			return nil, err
		}
		return advance(l, clock, target+86400)
	})
	finish()
	failed := ClockMove{From: target, To: target + 86400, Outcome: MoveFailed, Started: wall.Unix(), Ended: wall.Unix()}
	assert.Equal(t, []ClockMove{first, failed}, moves())

	// A restart from the failure forgets what came before.
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		if err := l.PurgeCustomerData(); err != nil {
			return nil, err
		}
		c, err := l.Clock(clock)
		if err != nil {
			return nil, err
		}
		return l.QueueRestart(c, frozen-86400)
	})
	finish()
	restart := ClockMove{From: target, To: frozen - 86400, Outcome: MoveReady, Started: wall.Unix(), Ended: wall.Unix()}
	assert.Equal(t, []ClockMove{restart}, moves())

	// A time set without an advance (Commet's 2026-07-11 clock).
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := l.Clock(clock)
		if err != nil {
			return nil, err
		}
		c.FrozenTime += 3600
		return nil, l.PutClock(c)
	})
	set := ClockMove{From: frozen - 86400, To: frozen - 86400 + 3600, Outcome: MoveSet, Started: wall.Unix(), Ended: wall.Unix()}
	assert.Equal(t, []ClockMove{restart, set}, moves())

	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := l.Clock(clock)
		if err != nil {
			return nil, err
		}
		return nil, l.DeleteClock(c, wall.Unix())
	})
	assert.Empty(t, moves(), "a deleted clock's log is gone")

	// A clock that follows wall time is caught up without a move; once
	// pinned, its advances are logged.
	var wallClock string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := billing.NewClock("org_clock", "", wall.Unix(), wall.Unix())
		if err != nil {
			return nil, err
		}
		wallClock = c.ID
		return nil, l.FollowWall(&c)
	})
	wall = wall.Add(time.Hour)
	require.NoError(t, rt.Sweep())
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		_, err := l.Pin(wallClock, wall.Unix())
		return nil, err
	})
	view(t, rt, d, key, func(l *Ledger) error {
		m, err := l.ClockMoves(wallClock)
		assert.Empty(t, m, "following wall time and being pinned are no moves")
		return err
	})
}

// TestOnClockHelpers: the clock's invoices, payments and charges, and no
// other clock's.
func TestOnClockHelpers(t *testing.T) {
	rt := newTestRuntime(t, Options{})
	d := newFake(rt, "fake", "tk_")
	rt.Register(d)
	const key = "tk_helpers"
	const frozen = 1732320000
	var a, b string
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		ca, err := newClock(l, frozen)
		if err != nil {
			return nil, err
		}
		cb, err := newClock(l, frozen)
		if err != nil {
			return nil, err
		}
		a, b = ca.ID, cb.ID
		if err := subscribe(l, a, frozen, 2); err != nil {
			return nil, err
		}
		return nil, subscribe(l, b, frozen, 1)
	})
	view(t, rt, d, key, func(l *Ledger) error {
		var clocks []string
		require.NoError(t, l.Clocks(func(c *billing.Clock) error { clocks = append(clocks, c.ID); return nil }))
		assert.Equal(t, []string{a, b}, clocks)
		for clock, n := range map[string]int{a: 2, b: 1} {
			var invoices, payments, charges int
			require.NoError(t, l.InvoicesOnClock(clock, func(inv *billing.Invoice) error {
				assert.Equal(t, clock, inv.Clock)
				invoices++
				return nil
			}))
			require.NoError(t, l.PaymentsOnClock(clock, func(p *billing.Payment) error {
				assert.Equal(t, clock, p.Clock)
				payments++
				return nil
			}))
			require.NoError(t, l.ChargesOnClock(clock, func(ch *billing.Charge) error {
				assert.Equal(t, clock, ch.Clock)
				charges++
				return nil
			}))
			assert.Equal(t, []int{n, n, n}, []int{invoices, payments, charges}, "clock %s", clock)
		}
		events := 0
		require.NoError(t, l.EachEvent(func(id string, stored []byte) error {
			events++
			return nil
		}))
		assert.Positive(t, events)
		return nil
	})
	require.NoError(t, rt.DB().View(func(tx *store.Tx) error {
		got, err := rt.AccountDialect(tx, key)
		require.NoError(t, err)
		assert.Equal(t, "fake", got.Name())
		return nil
	}))
	assert.Len(t, rt.Dialects(), 1)
}
