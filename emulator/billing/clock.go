// Package billing is billclock's engine: test clocks and everything that
// happens to the objects attached to them as simulated time moves.
//
// It is made of plain Go types and functions of time. It knows nothing of
// HTTP, form encoding, any provider's wire format or of storage: the Stripe,
// Chargebee and Commet surfaces translate to and from these types, and the
// store persists them. Times are Unix seconds; the engine never reads the
// wall clock, callers pass the time in.
package billing

import (
	"time"
	"unicode/utf8"
)

// ClockStatus is where a clock is in its advance cycle.
type ClockStatus string

// Clock statuses.
const (
	ClockReady           ClockStatus = "ready"
	ClockAdvancing       ClockStatus = "advancing"
	ClockInternalFailure ClockStatus = "internal_failure"
)

// ClockLifetime is how long a clock lives before it is deleted.
const ClockLifetime = 30 * 24 * time.Hour

// MaxClockNameLen is the longest name a clock may have.
const MaxClockNameLen = 300

// The range of timestamps billclock takes, in Unix seconds: from the epoch
// to the last second of 2099. Stripe documents none; this one keeps every
// boundary computed from them (a period may end three years later) far
// inside what int64 seconds and time.Time hold.
const (
	MinTimestamp int64 = 0
	MaxTimestamp int64 = 4102444799 // 2099-12-31 23:59:59 UTC
)

// CheckTimestamp refuses a timestamp, given as param, outside
// [MinTimestamp, MaxTimestamp] (CodeTimestampOutOfRange).
func CheckTimestamp(param string, t int64) error {
	if t >= MinTimestamp && t <= MaxTimestamp {
		return nil
	}
	e := invalid(CodeTimestampOutOfRange, param)
	e.Min, e.Max = MinTimestamp, MaxTimestamp
	return e
}

// CheckLength refuses a string, given as param, longer than max
// characters (CodeStringTooLong). Like Stripe it counts characters: a byte
// that is not UTF-8 counts as one.
func CheckLength(param, value string, max int) error {
	if utf8.RuneCountInString(value) <= max {
		return nil
	}
	e := invalid(CodeStringTooLong, param)
	e.Value, e.Max = value, int64(max)
	return e
}

// Clock is a test clock: a frozen simulated time that only moves forward
// when advanced.
type Clock struct {
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Created int64  `json:"created"` // wall time
	// FrozenTime is the clock's current simulated time.
	FrozenTime int64       `json:"frozen_time"`
	Status     ClockStatus `json:"status"`
	// TargetTime is the time an advance in progress moves to.
	TargetTime int64 `json:"target_time,omitempty"`
	// FailNextAdvance makes the clock's next advance end in
	// internal_failure instead of moving it (failure injection for tests;
	// see ArmAdvanceFailure).
	FailNextAdvance bool `json:"fail_next_advance,omitempty"`
	// AdvanceTasks counts the tasks (renewals, finalizations, retries...)
	// the clock's latest advance applied, once it has ended: billclock's
	// progress report, not part of Stripe's object. The runtime that
	// applies the tasks sets it.
	AdvanceTasks int64 `json:"advance_tasks,omitempty"`
}

// NewClock returns a ready clock frozen at frozen, created at wall time now.
func NewClock(id, name string, frozen, now int64) (Clock, error) {
	if err := CheckLength("name", name, MaxClockNameLen); err != nil {
		return Clock{}, err
	}
	if err := CheckTimestamp("frozen_time", frozen); err != nil {
		return Clock{}, err
	}
	return Clock{ID: id, Name: name, Created: now, FrozenTime: frozen, Status: ClockReady}, nil
}

// DeletesAfter is when the clock is due to be deleted.
func (c Clock) DeletesAfter() int64 { return c.Created + int64(ClockLifetime/time.Second) }

// BeginAdvance validates a move of the clock to target and marks it
// advancing. limit is the latest time the clock may be advanced to, as
// computed by AdvanceLimit.
func (c *Clock) BeginAdvance(target, limit int64) error {
	if c.Status == ClockAdvancing {
		return c.refusal(CodeClockAdvancing, "")
	}
	if c.Status == ClockInternalFailure {
		return c.refusal(CodeClockFailed, "")
	}
	if err := CheckTimestamp("frozen_time", target); err != nil {
		return err
	}
	if target <= c.FrozenTime {
		e := c.refusal(CodeAdvanceNotForward, "frozen_time")
		e.Min = c.FrozenTime
		return e
	}
	if target > limit {
		e := c.refusal(CodeAdvanceTooFar, "frozen_time")
		e.Min, e.Max = c.FrozenTime, limit
		return e
	}
	c.Status = ClockAdvancing
	c.TargetTime = target
	c.AdvanceTasks = 0
	return nil
}

// ArmAdvanceFailure makes the clock's next advance fail: it will end in
// internal_failure with nothing of it applied. A clock that is advancing
// is refused, since "next" would be ambiguous: the one under way, or the
// one after?
func (c *Clock) ArmAdvanceFailure() error {
	if c.Status == ClockAdvancing {
		return c.refusal(CodeArmWhileAdvancing, "")
	}
	c.FailNextAdvance = true
	return nil
}

// refusal is an Invalid error of code about c.
func (c *Clock) refusal(code Code, param string) *Error {
	e := invalid(code, param)
	e.Resource, e.ID = "clock", c.ID
	return e
}

// FailAdvance gives up the advance under way: the clock stays at its frozen
// time, in internal_failure, and every later advance is refused.
func (c *Clock) FailAdvance() {
	c.Status = ClockInternalFailure
	c.TargetTime = 0
	c.FailNextAdvance = false
}

// FinishAdvance moves a clock that is advancing to its target and makes it
// ready again. The billing work due between the two times must be applied by
// the caller in the same transaction.
func (c *Clock) FinishAdvance() {
	c.FrozenTime = c.TargetTime
	c.TargetTime = 0
	c.Status = ClockReady
}

// AdvanceLimit is the latest time a clock frozen at frozen may be advanced to
// in one step: two of the shortest interval among the given ones, or two
// years when there are none. Calendar intervals are added calendar-aware.
func AdvanceLimit(frozen int64, intervals []Interval) int64 {
	if len(intervals) == 0 {
		return Interval{Unit: Year, Count: 2}.AddTo(frozen)
	}
	limit := int64(0)
	for i, iv := range intervals {
		t := Interval{Unit: iv.Unit, Count: 2 * iv.Count}.AddTo(frozen)
		if i == 0 || t < limit {
			limit = t
		}
	}
	return limit
}
