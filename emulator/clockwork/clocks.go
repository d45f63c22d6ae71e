package clockwork

import (
	"github.com/billclock/billclock/emulator/billing"
)

// This file is the life of a clock in the runtime: stored in the account's
// ClocksCollection, moved by queued advances (advance.go), failed on
// purpose, deleted with everything on it, and expired by the janitor after
// its dialect's ClockLifetime. A dialect that has one clock per account
// (Chargebee's site, Commet's organization) keeps it here like any other,
// under an id of its choosing, and puts every object on it.

// Clock returns a clock of the account.
func (l *Ledger) Clock(id string) (*billing.Clock, error) { return l.clocks.get(l, id) }

// PutClock stores a clock. Moving a clock's time without running what
// falls due on the way (Commet's 2026-07-11 advance, processed later with
// Ledger.RunDue) is a PutClock of its new FrozenTime.
func (l *Ledger) PutClock(c *billing.Clock) error {
	if err := l.noteClockMove(c); err != nil {
		return err
	}
	if err := l.Put(ClocksCollection, c.ID, c.Created, c); err != nil {
		return err
	}
	l.clocks.keep(c.ID, c)
	return nil
}

// ClockBusyError refuses a change to an object on a clock that is
// advancing; each dialect words it.
type ClockBusyError struct {
	Clock string
}

// Error names the clock; dialects word the error for clients.
func (e *ClockBusyError) Error() string { return "clock " + e.Clock + " is advancing" }

// TimeOn is "now" for objects on clock: its frozen time, or wall (the
// request's wall time) for objects on no clock. A clock that is advancing
// refuses changes with a *ClockBusyError.
func (l *Ledger) TimeOn(clock string, wall int64) (int64, error) {
	if clock == "" {
		return wall, nil
	}
	c, err := l.Clock(clock)
	if err != nil {
		return 0, err
	}
	if c.Status == billing.ClockAdvancing {
		return 0, &ClockBusyError{Clock: clock}
	}
	return c.FrozenTime, nil
}

// QueueAdvance stores clock, which billing.Clock.BeginAdvance has just
// marked advancing, and queues its advance for the worker, which runs
// everything due up to the target in time order, then makes the clock
// ready (not before the runtime's AdvanceDelay has passed). Call start
// once the transaction has committed: it sets the worker going.
func (l *Ledger) QueueAdvance(clock *billing.Clock) (start func(), err error) {
	if err := l.PutClock(clock); err != nil {
		return nil, err
	}
	rt := l.rt
	now := rt.now()
	if l.req != nil {
		now = l.req.Time
	}
	if err := rt.advancer.schedule(l.tx, l.account, clock, now.Add(rt.delay)); err != nil {
		return nil, err
	}
	if rt.delay > 0 {
		return rt.advancer.wake, nil
	}
	// Due at once: start it now rather than on the worker's next scan.
	key := jobKey(l.account, clock.ID)
	return func() { rt.advancer.startNow(rt.advancer.job(key)) }, nil
}

// DeleteClock deletes a clock, with everything on it (its subscriptions
// are canceled and its customers deleted, in the clock's time) and its
// pending advance, and records the clock's deleted event at now.
func (l *Ledger) DeleteClock(clock *billing.Clock, now int64) error {
	if err := l.Engine().DeleteClockObjects(clock.ID, clock.FrozenTime); err != nil {
		return err
	}
	tl, err := l.acct.Timeline()
	if err != nil {
		return err
	}
	if err := tl.Clear(clock.ID); err != nil {
		return err
	}
	clocks, err := l.Collection(ClocksCollection)
	if err != nil {
		return err
	}
	if err := clocks.Delete(clock.ID); err != nil {
		return err
	}
	if err := l.forgetClockMoves(clock.ID); err != nil {
		return err
	}
	l.clocks.forget(clock.ID)
	if err := l.rt.advancer.cancel(l.tx, l.account, clock.ID); err != nil {
		return err
	}
	return l.Record(billing.Event{Type: billing.EventClockDeleted, Time: now, Object: clock})
}

// ArmAdvanceFailure makes the next advance of clock id end in
// internal_failure (failure injection for tests, for the clocks of every
// dialect), and returns the clock. The failure is recorded with the
// clock's internal-failure event when the advance would have applied its
// first chunk: nothing of it is applied.
func (l *Ledger) ArmAdvanceFailure(id string) (*billing.Clock, error) {
	clock, err := l.Clock(id)
	if err != nil {
		return nil, err
	}
	if err := clock.ArmAdvanceFailure(); err != nil {
		return nil, err
	}
	return clock, l.PutClock(clock)
}
