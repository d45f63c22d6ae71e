package stripe

import (
	"testing"
	"time"

	"github.com/billclock/billclock/emulator/billing"
)

// TestAnchorFromConfig checks billing_cycle_anchor_config: the next time
// after now on the day of the month (the last day of shorter months), in
// the month asked for yearly prices, at the time of day given or now's.
func TestAnchorFromConfig(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	at := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Unix()
	}
	monthly := billing.Interval{Unit: billing.Month, Count: 1}
	yearly := billing.Interval{Unit: billing.Year, Count: 1}
	for _, c := range []struct {
		name string
		cfg  anchorConfig
		iv   billing.Interval
		now  string
		want string
	}{
		{"later this month", anchorConfig{DayOfMonth: 15, Hour: i(12)}, monthly, "2024-01-01T00:00:00Z", "2024-01-15T12:00:00Z"},
		{"next month", anchorConfig{DayOfMonth: 1}, monthly, "2024-01-10T08:30:05Z", "2024-02-01T08:30:05Z"},
		{"the 31st in February", anchorConfig{DayOfMonth: 31, Hour: i(0), Minute: i(0), Second: i(0)}, monthly,
			"2024-02-10T00:00:00Z", "2024-02-29T00:00:00Z"},
		{"today, later", anchorConfig{DayOfMonth: 10, Hour: i(23)}, monthly, "2024-01-10T08:00:00Z", "2024-01-10T23:00:00Z"},
		{"now is not after now", anchorConfig{DayOfMonth: 10}, monthly, "2024-01-10T08:00:00Z", "2024-02-10T08:00:00Z"},
		{"yearly in June", anchorConfig{DayOfMonth: 1, Month: i(6)}, yearly, "2024-07-01T00:00:00Z", "2025-06-01T00:00:00Z"},
		{"yearly without a month", anchorConfig{DayOfMonth: 5}, yearly, "2024-07-09T00:00:00Z", "2024-08-05T00:00:00Z"},
	} {
		got, err := c.cfg.anchorFor(c.iv, at(c.now))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if want := at(c.want); got != want {
			t.Errorf("%s: %s, want %s", c.name, time.Unix(got, 0).UTC().Format(time.RFC3339), c.want)
		}
	}
	if _, err := (&anchorConfig{DayOfMonth: 1}).anchorFor(billing.Interval{Unit: billing.Week, Count: 1}, 0); err == nil {
		t.Error("a weekly price took an anchor config")
	}
	if _, err := (&anchorConfig{DayOfMonth: 1, Month: i(2)}).anchorFor(monthly, 0); err == nil {
		t.Error("a monthly price took a month")
	}
}
