package clockwork

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// TestWallClockFollowsWallUntilPinned: a clock that follows wall time is
// "now" in wall time and has its work done by the janitor as wall time
// passes; pinned, it stays where it was, and only an advance moves it.
func TestWallClockFollowsWallUntilPinned(t *testing.T) {
	start := time.Unix(frozen0, 0).UTC()
	wall := &fakeClock{t: start}
	rt := newTestRuntime(t, Options{Now: wall.Now})
	d := newFake(rt, "walling", "wk_")
	rt.Register(d)
	const key = "wk_org"
	const clock = "org_clock"
	invoices := func() int {
		n := 0
		view(t, rt, d, key, func(l *Ledger) error {
			coll, err := l.Collection(InvoicesCollection)
			require.NoError(t, err)
			return coll.Each(func(string, []byte) error { n++; return nil })
		})
		return n
	}
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := billing.NewClock(clock, "", frozen0, frozen0)
		if err != nil {
			return nil, err
		}
		if err := l.FollowWall(&c); err != nil {
			return nil, err
		}
		return nil, subscribe(l, clock, frozen0, 1)
	})
	now := func(wallAt int64) int64 {
		var got int64
		view(t, rt, d, key, func(l *Ledger) (err error) {
			got, err = l.ClockNow(clock, wallAt)
			return err
		})
		return got
	}
	assert.Equal(t, int64(frozen0+600), now(frozen0+600), "wall time while it follows wall")

	wall.Add(31*24*time.Hour + time.Hour)
	require.NoError(t, rt.Sweep())
	assert.Equal(t, 2, invoices(), "the janitor renewed in wall time")
	view(t, rt, d, key, func(l *Ledger) error {
		c, err := l.Clock(clock)
		require.NoError(t, err)
		assert.Equal(t, wall.Now().Unix(), c.FrozenTime, "its work has reached the wall time")
		return nil
	})

	pinnedAt := wall.Now().Unix() + 60
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := l.Pin(clock, pinnedAt)
		if err == nil {
			assert.Equal(t, pinnedAt, c.FrozenTime)
		}
		return nil, err
	})
	view(t, rt, d, key, func(l *Ledger) error {
		follows, err := l.FollowsWall(clock)
		require.NoError(t, err)
		assert.False(t, follows)
		return nil
	})
	assert.Equal(t, pinnedAt, now(pinnedAt+86400), "pinned: frozen, whatever the wall time")
	wall.Add(40 * 24 * time.Hour)
	require.NoError(t, rt.Sweep())
	assert.Equal(t, 2, invoices(), "a pinned clock moves only when advanced")

	update(t, rt, d, key, func(l *Ledger) (func(), error) { return advance(l, clock, pinnedAt+40*86400) })
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		_, err := l.ClockNow(clock, 0)
		var busy *ClockBusyError
		assert.ErrorAs(t, err, &busy, "an advancing clock refuses changes")
		return nil, nil
	})
}

// TestPinRunsWhatIsDue: pinning runs the work that fell due in wall time
// since the janitor's last round, so nothing is skipped.
func TestPinRunsWhatIsDue(t *testing.T) {
	wall := &fakeClock{t: time.Unix(frozen0, 0).UTC()}
	rt := newTestRuntime(t, Options{Now: wall.Now})
	d := newFake(rt, "walling", "wk_")
	rt.Register(d)
	const key = "wk_pin"
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		c, err := billing.NewClock("c", "", frozen0, frozen0)
		if err != nil {
			return nil, err
		}
		if err := l.FollowWall(&c); err != nil {
			return nil, err
		}
		return nil, subscribe(l, "c", frozen0, 1)
	})
	update(t, rt, d, key, func(l *Ledger) (func(), error) {
		_, err := l.Pin("c", frozen0+32*86400)
		return nil, err
	})
	n := 0
	view(t, rt, d, key, func(l *Ledger) error {
		coll, err := l.Collection(InvoicesCollection)
		require.NoError(t, err)
		return coll.Each(func(string, []byte) error { n++; return nil })
	})
	assert.Equal(t, 2, n, "the renewal due before the pin ran")
}
