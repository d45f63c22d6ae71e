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
	"fmt"
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
// [MinTimestamp, MaxTimestamp], with the words Stripe starts its timestamp
// errors with.
func CheckTimestamp(param string, t int64) error {
	if t >= MinTimestamp && t <= MaxTimestamp {
		return nil
	}
	return &Error{Kind: Invalid, Param: param, Message: fmt.Sprintf(
		"Invalid timestamp: must be an integer Unix timestamp from %d (%s) to %d (%s).",
		MinTimestamp, formatUTC(MinTimestamp), MaxTimestamp, formatUTC(MaxTimestamp))}
}

// CheckLength refuses a string, given as param, longer than max
// characters. Like Stripe it counts characters (a byte that is not UTF-8
// counts as one), and its message echoes the first and last ten of them.
func CheckLength(param, value string, max int) error {
	if utf8.RuneCountInString(value) <= max {
		return nil
	}
	return &Error{Kind: Invalid, Param: param, Message: fmt.Sprintf(
		"Invalid string: %s; must be at most %d characters", elide(value), max)}
}

// elide shortens s to its first and last ten characters, as Stripe echoes
// a string that is too long. It cuts between characters, never inside one,
// and what is not UTF-8 comes out as U+FFFD.
func elide(s string) string {
	r := []rune(s)
	if len(r) <= 20 {
		return string(r)
	}
	return string(r[:10]) + "..." + string(r[len(r)-10:])
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
		return &Error{Kind: Invalid, Message: fmt.Sprintf(
			"The test clock %s is already advancing. Wait for the current advancement to finish before advancing again.", c.ID)}
	}
	if c.Status == ClockInternalFailure {
		return &Error{Kind: Invalid, Message: "Failed to advance time. Future requests to advance time will fail."}
	}
	if err := CheckTimestamp("frozen_time", target); err != nil {
		return err
	}
	if target <= c.FrozenTime {
		return &Error{Kind: Invalid, Param: "frozen_time", Message: fmt.Sprintf(
			"The frozen time of this clock is %d (%s). You can only advance it to a time after its current frozen time.",
			c.FrozenTime, formatUTC(c.FrozenTime))}
	}
	if target > limit {
		return &Error{Kind: Invalid, Param: "frozen_time", Message: fmt.Sprintf(
			"The frozen time of this clock is %d (%s). You can only advance it up to %d (%s). "+
				"You can only advance a test clock up to two intervals from the current frozen time at a time, "+
				"based on the shortest subscription interval in the test clock. For example, if a test clock has "+
				"a monthly and yearly subscription, you may only advance up to two months at a time. If the test "+
				"clock has no subscriptions or subscription schedules, you can advance up to 2 years from the current frozen time.",
			c.FrozenTime, formatUTC(c.FrozenTime), limit, formatUTC(limit))}
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
		return &Error{Kind: Invalid, Message: fmt.Sprintf(
			"The test clock %s is advancing. Wait for the current advancement to finish before making its next advance fail.", c.ID)}
	}
	c.FailNextAdvance = true
	return nil
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

func formatUTC(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") }
