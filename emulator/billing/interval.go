package billing

import "time"

// IntervalUnit is the unit of a recurring billing interval.
type IntervalUnit string

// Interval units.
const (
	Day   IntervalUnit = "day"
	Week  IntervalUnit = "week"
	Month IntervalUnit = "month"
	Year  IntervalUnit = "year"
)

// Interval is a recurring period such as "every 3 months".
type Interval struct {
	Unit  IntervalUnit `json:"unit"`
	Count int          `json:"count"`
}

// MaxIntervalCount is the largest count of unit in one billing period:
// Stripe allows at most three years (3 years, 36 months or 156 weeks);
// billclock counts three years as 1095 days.
func MaxIntervalCount(unit IntervalUnit) int {
	switch unit {
	case Day:
		return 1095
	case Week:
		return 156
	case Month:
		return 36
	case Year:
		return 3
	}
	return 0
}

// AddTo returns t moved forward by the interval, in UTC and calendar-aware:
// a month added to Jan 31 gives the last day of February, not March 3.
func (iv Interval) AddTo(t int64) int64 {
	return iv.Nth(t, 1)
}

// Nth returns the n-th boundary of a cycle anchored at anchor. Boundaries are
// computed from the anchor, not from each other, so a cycle anchored on the
// 31st bills on the last day of shorter months and returns to the 31st.
func (iv Interval) Nth(anchor int64, n int) int64 {
	a := time.Unix(anchor, 0).UTC()
	k := iv.Count * n
	switch iv.Unit {
	case Day:
		return a.AddDate(0, 0, k).Unix()
	case Week:
		return a.AddDate(0, 0, 7*k).Unix()
	case Month:
		return addMonthsClamped(a, k).Unix()
	case Year:
		return addMonthsClamped(a, 12*k).Unix()
	}
	panic("billing: unknown interval unit " + string(iv.Unit))
}

// addMonthsClamped adds months to t, clamping the day to the target month's
// last day instead of overflowing into the next month.
func addMonthsClamped(t time.Time, months int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return first.AddDate(0, 0, d-1)
}
