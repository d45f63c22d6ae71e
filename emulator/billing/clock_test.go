package billing

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func utc(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.Unix()
}

func TestIntervalNth(t *testing.T) {
	cases := []struct {
		name   string
		iv     Interval
		anchor string
		n      int
		want   string
	}{
		{"month", Interval{Month, 1}, "2024-11-23T00:00:00Z", 2, "2025-01-23T00:00:00Z"},
		{"31st into February", Interval{Month, 1}, "2024-01-31T10:00:00Z", 1, "2024-02-29T10:00:00Z"},
		{"31st back to March 31", Interval{Month, 1}, "2024-01-31T10:00:00Z", 2, "2024-03-31T10:00:00Z"},
		{"31st into April", Interval{Month, 1}, "2024-01-31T10:00:00Z", 3, "2024-04-30T10:00:00Z"},
		{"quarterly", Interval{Month, 3}, "2025-11-30T00:00:00Z", 1, "2026-02-28T00:00:00Z"},
		{"leap day yearly", Interval{Year, 1}, "2024-02-29T00:00:00Z", 1, "2025-02-28T00:00:00Z"},
		{"leap day back", Interval{Year, 1}, "2024-02-29T00:00:00Z", 4, "2028-02-29T00:00:00Z"},
		{"weeks", Interval{Week, 2}, "2024-12-25T00:00:00Z", 1, "2025-01-08T00:00:00Z"},
		{"days", Interval{Day, 1}, "2024-12-31T23:59:59Z", 1, "2025-01-01T23:59:59Z"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, utc(tc.want), tc.iv.Nth(utc(tc.anchor), tc.n))
		})
	}
}

func TestAdvanceLimit(t *testing.T) {
	from := utc("2024-11-23T00:00:00Z")
	assert.Equal(t, utc("2026-11-23T00:00:00Z"), AdvanceLimit(from, nil), "no subscriptions: two years")
	assert.Equal(t, utc("2025-01-23T00:00:00Z"), AdvanceLimit(from, []Interval{{Year, 1}, {Month, 1}}),
		"two of the shortest interval")
	assert.Equal(t, utc("2024-12-07T00:00:00Z"), AdvanceLimit(from, []Interval{{Week, 1}, {Month, 1}}))
}

func TestClockAdvanceCycle(t *testing.T) {
	c, err := NewClock("clock_1", "", 1732320000, 1790000000)
	require.NoError(t, err)
	assert.Equal(t, ClockReady, c.Status)
	assert.EqualValues(t, 1790000000+30*86400, c.DeletesAfter())

	limit := AdvanceLimit(c.FrozenTime, nil)
	var be *Error
	require.ErrorAs(t, c.BeginAdvance(c.FrozenTime, limit), &be)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeAdvanceNotForward, Param: "frozen_time", Resource: "clock", ID: "clock_1",
		Min: 1732320000}, be)
	require.ErrorAs(t, c.BeginAdvance(limit+1, limit), &be)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeAdvanceTooFar, Param: "frozen_time", Resource: "clock", ID: "clock_1",
		Min: 1732320000, Max: 1795392000}, be)
	assert.Equal(t, "frozen_time: clock clock_1 can advance at most to 1795392000 in one step", be.Error(),
		"the engine's plain account, for a surface that does not word the code")

	require.NoError(t, c.BeginAdvance(limit, limit))
	assert.Equal(t, ClockAdvancing, c.Status)
	assert.Equal(t, int64(1732320000), c.FrozenTime, "frozen_time stays until the advance completes")
	err = c.BeginAdvance(limit, limit)
	require.True(t, errors.As(err, &be))
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeClockAdvancing, Resource: "clock", ID: "clock_1"}, be)

	events := Advance(&c, 1790000100)
	assert.Equal(t, ClockReady, c.Status)
	assert.Equal(t, limit, c.FrozenTime)
	require.Len(t, events, 1)
	assert.Equal(t, EventClockReady, events[0].Type)
	assert.EqualValues(t, 1790000100, events[0].Time)
}

func TestClockNameLimit(t *testing.T) {
	_, err := NewClock("clock_1", strings.Repeat("n", MaxClockNameLen), 0, 0)
	require.NoError(t, err)
	_, err = NewClock("clock_1", strings.Repeat("n", MaxClockNameLen+1), 0, 0)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeStringTooLong, Param: "name",
		Value: strings.Repeat("n", MaxClockNameLen+1), Max: MaxClockNameLen}, be)

	// The limit counts characters, not bytes.
	c, err := NewClock("clock_1", strings.Repeat("é", MaxClockNameLen), 0, 0)
	require.NoError(t, err, "300 two-byte characters are 300 characters")
	assert.Equal(t, strings.Repeat("é", MaxClockNameLen), c.Name)
	long := "€" + strings.Repeat("é", MaxClockNameLen-1) + "日"
	_, err = NewClock("clock_1", long, 0, 0)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, CodeStringTooLong, be.Code)
	assert.Equal(t, long, be.Value)
}

func TestCheckLength(t *testing.T) {
	require.NoError(t, CheckLength("p", strings.Repeat("日", 40), 40))
	require.NoError(t, CheckLength("p", "", 0))
	err := CheckLength("p", strings.Repeat("日", 41), 40)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeStringTooLong, Param: "p", Value: strings.Repeat("日", 41), Max: 40}, be)
	// Bytes that are not UTF-8 count one each.
	require.NoError(t, CheckLength("p", strings.Repeat("\xff", 4), 4))
	err = CheckLength("p", strings.Repeat("\xff", 5), 4)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, CodeStringTooLong, be.Code)
	assert.Equal(t, "p: string too long: it must be at most 4 characters", be.Error(),
		"the plain account echoes nothing of the string")
}

func TestClockTimesInRange(t *testing.T) {
	for _, frozen := range []int64{math.MinInt64, -1, MaxTimestamp + 1, math.MaxInt64} {
		_, err := NewClock("clock_1", "", frozen, 0)
		var be *Error
		require.ErrorAs(t, err, &be, "frozen at %d", frozen)
		assert.Equal(t, &Error{Kind: Invalid, Code: CodeTimestampOutOfRange, Param: "frozen_time",
			Min: MinTimestamp, Max: MaxTimestamp}, be)
	}
	c, err := NewClock("clock_1", "", MaxTimestamp-10, 0)
	require.NoError(t, err)
	limit := AdvanceLimit(c.FrozenTime, nil)
	require.Greater(t, limit, MaxTimestamp, "two years past the range's end is still a time")
	err = c.BeginAdvance(MaxTimestamp+1, limit)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, "frozen_time", be.Param)
	assert.Equal(t, ClockReady, c.Status, "a refused advance leaves the clock ready")
	require.NoError(t, c.BeginAdvance(MaxTimestamp, limit))
}

// TestIntervalNthInRange: for every anchor in the timestamp range and the
// longest interval of each unit, boundaries from the period before the
// anchor to past the end of the range are strictly increasing, a period
// apart, and never wrap.
func TestIntervalNthInRange(t *testing.T) {
	const day = 86400
	// The shortest and longest length of one of each unit, in seconds.
	lengths := map[IntervalUnit][2]int64{Day: {day, day}, Week: {7 * day, 7 * day}, Month: {28 * day, 31 * day}, Year: {365 * day, 366 * day}}
	for _, unit := range []IntervalUnit{Day, Week, Month, Year} {
		for _, count := range []int{1, MaxIntervalCount(unit)} {
			iv := Interval{Unit: unit, Count: count}
			lo, hi := lengths[unit][0]*int64(count), lengths[unit][1]*int64(count)
			for _, anchor := range []int64{MinTimestamp, utc("2024-01-31T10:00:00Z"), MaxTimestamp - 1, MaxTimestamp} {
				prev := iv.Nth(anchor, -1)
				require.Less(t, prev, anchor, "%v from %d", iv, anchor)
				for n := 0; ; n++ {
					b := iv.Nth(anchor, n)
					gap := b - prev
					require.True(t, gap >= lo && gap <= hi, "%v from %d: boundary %d is %d s after the one before", iv, anchor, n, gap)
					if b > MaxTimestamp+hi {
						break
					}
					prev = b
				}
				// An advance limit from anywhere in range stays representable.
				limit := AdvanceLimit(anchor, []Interval{iv})
				assert.Greater(t, limit, anchor)
			}
		}
	}
}

func TestClockAdvanceFailure(t *testing.T) {
	c, err := NewClock("clock_1", "", 1732320000, 1790000000)
	require.NoError(t, err)
	require.NoError(t, c.ArmAdvanceFailure())
	assert.True(t, c.FailNextAdvance)
	assert.Equal(t, ClockReady, c.Status, "arming changes nothing until the advance")

	limit := AdvanceLimit(c.FrozenTime, nil)
	require.NoError(t, c.BeginAdvance(limit, limit))
	var be *Error
	require.ErrorAs(t, c.ArmAdvanceFailure(), &be, "an advancing clock cannot be armed")
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeArmWhileAdvancing, Resource: "clock", ID: "clock_1"}, be)

	c.FailAdvance()
	assert.Equal(t, ClockInternalFailure, c.Status)
	assert.Equal(t, int64(1732320000), c.FrozenTime, "nothing of the advance is applied")
	assert.Zero(t, c.TargetTime)
	assert.False(t, c.FailNextAdvance)
	require.ErrorAs(t, c.BeginAdvance(limit, limit), &be)
	assert.Equal(t, &Error{Kind: Invalid, Code: CodeClockFailed, Resource: "clock", ID: "clock_1"}, be)
}
