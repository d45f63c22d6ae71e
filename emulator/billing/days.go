package billing

// secondsPerDay is the length of a billing day. Periods are computed in UTC,
// where every day has 86,400 seconds.
const secondsPerDay = 86400

// WholeDays is the number of days from from to to, a partial day counting
// as a whole one (0 when to is not after from). Day-prorated charges count
// days this way: a unit held for part of a day is held for that day. The
// days are the period's own, starting at its boundaries' time of day: a
// period from 11:00 to 11:00 thirty days later has thirty of them, and a
// unit added at 10:59 on its sixteenth day is held for fifteen.
func WholeDays(from, to int64) int64 {
	if to <= from {
		return 0
	}
	return (to - from + secondsPerDay - 1) / secondsPerDay
}

// ProrateDays is the share of amount, a whole period's price, for held of
// the period's days: amount × held / days, rounded half away from zero and
// computed exactly. held is taken within [0, days]; a period of no days
// gives nothing. It fails, rather than wrap, if a step would not fit in an
// int64 (it cannot for amounts the engine takes).
func ProrateDays(amount, held, days int64) (int64, error) {
	if days <= 0 || held <= 0 {
		return 0, nil
	}
	held = min(held, days)
	// Prorate is amount × (end − t) / (end − start): with start 0, end days
	// and t days − held, that is amount × held / days.
	return Prorate(amount, 0, days, days-held)
}
