package commet

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file is the organization's test clock: GET /test-clock, POST
// /test-clock (an advance: under 2026-07-11 it moves the clock; from
// 2026-07-31 it starts a run) and POST /test-clock/process-billing.
//
// The clock is made with the organization's first write, following wall
// time (clockwork's FollowWall): until its first advance simulatedTime is
// null and objects live in real time. The first advance pins it where
// wall time is.

// maxAdvanceDays bounds advanceDays: a century.
const maxAdvanceDays = 36500

// orgClock returns the organization's clock, making it (following wall
// time) if the organization has none yet and the transaction can write;
// nil when it has none and it cannot.
func orgClock(l *clockwork.Ledger, wall int64) (*billing.Clock, error) {
	c, err := l.Clock(orgClockID)
	var be *billing.Error
	if !errors.As(err, &be) || be.Kind != billing.NotFound {
		return c, err
	}
	if !l.Tx().Writable() {
		return nil, nil
	}
	nc, err := billing.NewClock(orgClockID, "", wall, wall)
	if err != nil {
		return nil, err
	}
	return &nc, l.FollowWall(&nc)
}

// now is "now" for the organization's objects, for a change: its clock's
// time, or wall time until the clock's first advance. A clock under a run
// refuses changes.
func now(c *call, l *clockwork.Ledger) (int64, error) {
	if _, err := orgClock(l, c.now.Unix()); err != nil {
		return 0, err
	}
	return l.ClockNow(orgClockID, c.now.Unix())
}

// viewNow is "now" for showing objects: as now, but a clock under a run
// shows the time it started from.
func viewNow(c *call, l *clockwork.Ledger) (int64, error) {
	clock, err := orgClock(l, c.now.Unix())
	if err != nil || clock == nil {
		return c.now.Unix(), err
	}
	if clock.Status == billing.ClockAdvancing {
		return clock.FrozenTime, nil
	}
	return l.ClockNow(orgClockID, c.now.Unix())
}

// clockObject is the test clock on the wire.
type clockObject struct {
	Object        string  `json:"object"`
	Livemode      bool    `json:"livemode"`
	SimulatedTime *string `json:"simulatedTime"`
	IsActive      bool    `json:"isActive"`
	Now           string  `json:"now"`
}

func (s *Surface) clockView(c *call, l *clockwork.Ledger) (any, error) {
	clock, err := orgClock(l, c.now.Unix())
	if err != nil {
		return nil, err
	}
	o := &clockObject{Object: "test_clock", Now: iso(c.now.Unix())}
	if clock != nil {
		follows, err := l.FollowsWall(orgClockID)
		if err != nil {
			return nil, err
		}
		if !follows {
			o.SimulatedTime, o.IsActive, o.Now = isoPtr(clock.FrozenTime), true, iso(clock.FrozenTime)
		}
	}
	if c.legacy {
		return o, nil
	}
	run, err := latestRun(l)
	if err != nil {
		return nil, err
	}
	var ro *runObject
	if run != nil {
		if ro, err = renderRun(l, run); err != nil {
			return nil, err
		}
	}
	return clockWithRun{clockObject: o, LatestRun: ro}, nil
}

// clockWithRun is the clock of 2026-07-31, with latestRun (null before the
// first run).
type clockWithRun struct {
	*clockObject
	LatestRun *runObject `json:"latestRun"`
}

// encodeJSON encodes the clock as json.Marshal does, its run's items
// spliced in as stored (see runObject.encodeJSON).
func (c clockWithRun) encodeJSON() ([]byte, error) {
	if c.LatestRun == nil {
		return json.Marshal(c)
	}
	clock, err := json.Marshal(c.clockObject)
	if err != nil {
		return nil, err
	}
	run, err := c.LatestRun.encodeJSON()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(clock)+len(run)+16)
	out = append(out, clock[:len(clock)-1]...) // the clock's fields, then latestRun
	out = append(out, `,"latestRun":`...)
	out = append(out, run...)
	return append(out, '}'), nil
}

func (s *Surface) getClock(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	return s.clockView(c, l)
}

// advanceClock serves POST /test-clock.
func (s *Surface) advanceClock(c *call, l *clockwork.Ledger) (any, error) {
	days, hasDays := c.p.int("advanceDays", 1, maxAdvanceDays)
	frozenText, hasFrozen := c.p.str("frozenTime", 100)
	var frozen int64
	if hasFrozen {
		var err error
		if frozen, err = parseTime(frozenText); err != nil {
			c.p.fail("frozenTime", "Expected an ISO 8601 time, such as 2026-08-01T00:00:00Z.")
			hasFrozen = false
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	if hasDays == hasFrozen {
		return nil, validation(Detail{Field: "advanceDays", Message: "Provide exactly one of advanceDays or frozenTime."},
			Detail{Field: "frozenTime", Message: "Provide exactly one of advanceDays or frozenTime."})
	}
	current, err := now(c, l)
	if err != nil {
		return nil, err
	}
	target := frozen
	if hasDays {
		target = current + days*86400
	}
	if target <= current {
		return nil, invalidField("frozenTime", "The clock can only move forward.")
	}
	if target > billing.MaxTimestamp {
		field := "frozenTime"
		if hasDays {
			field = "advanceDays"
		}
		return nil, invalidField(field, "The clock can move at most to 2099-12-31T23:59:59Z.")
	}
	clock, err := l.Pin(orgClockID, current)
	if err != nil {
		return nil, err
	}
	if !runsAdvances(c.version) {
		clock.FrozenTime = target
		if err := l.PutClock(clock); err != nil {
			return nil, err
		}
		return s.clockView(c, l)
	}
	estimated, err := estimateDeadlines(l, clock.FrozenTime, target)
	if err != nil {
		return nil, err
	}
	if err := clock.BeginAdvance(target, billing.MaxTimestamp); err != nil {
		return nil, err
	}
	run := &runRecord{ID: s.NewID("tcrun_"), Status: runPending, StartedAt: clock.FrozenTime, Target: target,
		Estimated: estimated, Created: c.now.Unix()}
	if err := putActiveRun(l, run); err != nil {
		return nil, err
	}
	start, err := l.QueueAdvance(clock)
	if err != nil {
		return nil, err
	}
	c.after = append(c.after, start)
	c.status = http.StatusAccepted
	return renderRun(l, run)
}

// processBilling serves POST /test-clock/process-billing (2026-07-11):
// everything due at the clock's time runs now, and is counted.
func (s *Surface) processBilling(c *call, l *clockwork.Ledger) (any, error) {
	if runsAdvances(c.version) {
		return nil, errDeprecated()
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	tally := &billingTally{customers: map[string]bool{}}
	s.tallies.Store(l, tally)
	defer s.tallies.Delete(l)
	if _, err := l.RunDue(orgClockID, at, 0); err != nil {
		return nil, err
	}
	return map[string]any{"customersFound": len(tally.customers), "enqueued": tally.cycles, "failed": tally.failed,
		"dunningRetried": tally.retried, "dunningFailed": tally.retryFail, "object": "test_clock", "livemode": false}, nil
}
