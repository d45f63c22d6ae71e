package clockwork

import (
	"errors"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// Clocks that follow wall time until their first advance: a provider
// whose test clock is part of the account (Commet's organization clock)
// has objects on it from the start, living in real time until someone
// moves the clock. Such a clock is stored like any other and marked in
// wallClocksCollection; ClockNow is "now" for its objects, the janitor
// runs what falls due on it in wall time (runWallClocks), and Pin stops
// it following wall time, after which it is an ordinary frozen clock.

// wallClocksCollection marks the clocks that follow wall time: clock id
// -> nothing.
const wallClocksCollection = "wall_clocks"

// FollowWall stores c, a new clock, as following wall time from now on:
// its FrozenTime is the latest wall time its work was run to.
func (l *Ledger) FollowWall(c *billing.Clock) error {
	if err := l.PutClock(c); err != nil {
		return err
	}
	marks, err := l.Collection(wallClocksCollection)
	if err != nil {
		return err
	}
	return marks.Put(c.ID, c.Created, nil)
}

// FollowsWall reports whether clock id follows wall time.
func (l *Ledger) FollowsWall(id string) (bool, error) {
	marks, err := l.Collection(wallClocksCollection)
	if err != nil {
		return false, err
	}
	_, err = marks.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// ClockNow is "now" for objects on clock id, given the request's wall
// time: wall (never before the clock's FrozenTime) while the clock follows
// wall time, its frozen time once pinned. Like TimeOn it refuses changes
// while the clock is advancing (*ClockBusyError).
func (l *Ledger) ClockNow(id string, wall int64) (int64, error) {
	c, err := l.Clock(id)
	if err != nil {
		return 0, err
	}
	if c.Status == billing.ClockAdvancing {
		return 0, &ClockBusyError{Clock: id}
	}
	follows, err := l.FollowsWall(id)
	if err != nil || !follows {
		return c.FrozenTime, err
	}
	return max(wall, c.FrozenTime), nil
}

// Pin stops clock id following wall time at wall: what falls due on it up
// to wall is run (objects lived in real time until now), its FrozenTime
// becomes wall (never earlier than it was) and from then on it moves only
// when advanced. Pinning a clock that is already pinned changes nothing.
// It returns the clock.
func (l *Ledger) Pin(id string, wall int64) (*billing.Clock, error) {
	follows, err := l.FollowsWall(id)
	if err != nil {
		return nil, err
	}
	if !follows {
		return l.Clock(id)
	}
	c, err := l.catchUp(id, wall)
	if err != nil {
		return nil, err
	}
	marks, err := l.Collection(wallClocksCollection)
	if err != nil {
		return nil, err
	}
	return c, marks.Delete(id)
}

// catchUp runs what falls due on wall clock id up to wall and moves its
// FrozenTime there.
func (l *Ledger) catchUp(id string, wall int64) (*billing.Clock, error) {
	c, err := l.Clock(id)
	if err != nil {
		return nil, err
	}
	if wall <= c.FrozenTime {
		return c, nil
	}
	if _, err := l.run(id, wall, 0); err != nil {
		return nil, err
	}
	c.FrozenTime = wall
	return c, l.PutClock(c)
}

// runWallClocks does, for the janitor, the work due on every clock of the
// account that follows wall time, up to now.
func (l *Ledger) runWallClocks(now int64) error {
	marks, err := l.Collection(wallClocksCollection)
	if err != nil {
		return err
	}
	var ids []string
	if err := marks.Each(func(id string, _ []byte) error { ids = append(ids, id); return nil }); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := l.catchUp(id, now); err != nil {
			return err
		}
	}
	return nil
}
