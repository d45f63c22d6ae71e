package stripe

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/billclock/billclock/emulator/billing"
)

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{1000, "usd", "$10.00"},
		{5, "usd", "$0.05"},
		{-2948, "usd", "-$29.48"},
		{99999999, "usd", "$999999.99"},
		{999, "eur", "€9.99"},
		{250, "gbp", "£2.50"},
		{1250, "cad", "CA$12.50"},
		{1250, "aud", "A$12.50"},
		{1200, "jpy", "JPY 1200"},
		{105, "chf", "CHF 1.05"},
	} {
		assert.Equal(t, tc.want, formatMoney(tc.amount, tc.currency), "%d %s", tc.amount, tc.currency)
	}
}

func TestGroupedMajorUnits(t *testing.T) {
	for amount, want := range map[int64]string{0: "0.00", 99: "0.99", 100000: "1,000.00", 99999999: "999,999.99",
		123456789012: "1,234,567,890.12"} {
		assert.Equal(t, want, groupedMajorUnits(amount))
	}
}

// TestDescribeLine: each kind of line in Stripe's words; a given text
// always wins, and a line with neither has no description.
func TestDescribeLine(t *testing.T) {
	const feb10 = 1707562800 // 2024-02-10 11:00:00 UTC
	monthly := &billing.Interval{Unit: billing.Month, Count: 1}
	seats := func(kind billing.LineKind, iv *billing.Interval) billing.Billed {
		return billing.Billed{Kind: kind, ProductName: "Seats", UnitAmount: 1500, Interval: iv}
	}
	for _, tc := range []struct {
		name     string
		billed   billing.Billed
		text     string
		qty      int64
		currency string
		want     string
	}{
		{"period", seats(billing.LinePeriod, monthly), "", 3, "usd", "3 × Seats (at $15.00 / month)"},
		{"period every 3 months", seats(billing.LinePeriod, &billing.Interval{Unit: billing.Month, Count: 3}), "", 4, "usd",
			"4 × Seats (at $15.00 / every 3 months)"},
		{"period every 2 weeks in gbp", seats(billing.LinePeriod, &billing.Interval{Unit: billing.Week, Count: 2}), "", 7, "gbp",
			"7 × Seats (at £15.00 / every 2 weeks)"},
		{"period in yen", seats(billing.LinePeriod, &billing.Interval{Unit: billing.Year, Count: 1}), "", 1, "jpy",
			"1 × Seats (at JPY 1500 / year)"},
		{"trial", seats(billing.LineTrial, monthly), "", 1, "usd", "Trial period for Seats"},
		{"debit", seats(billing.LineProrationDebit, monthly), "", 5, "usd", "Remaining time on 5 × Seats after 10 Feb 2024"},
		{"credit", seats(billing.LineProrationCredit, monthly), "", 3, "usd", "Unused time on 3 × Seats after 10 Feb 2024"},
		{"stored before kinds", billing.Billed{}, "Unused time on 3 × Seats after 10 Feb 2024", 3, "usd",
			"Unused time on 3 × Seats after 10 Feb 2024"},
		{"text wins", seats(billing.LineProrationCredit, monthly), "Goodwill credit", 3, "usd", "Goodwill credit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := describeLine(tc.billed, tc.text, tc.qty, feb10, tc.currency)
			if assert.NotNil(t, got) {
				assert.Equal(t, tc.want, *got)
			}
		})
	}
	assert.Nil(t, describeLine(billing.Billed{}, "", 1, feb10, "usd"), "nothing to say: null")
	assert.Nil(t, describeLine(billing.Billed{Kind: "something_new"}, "", 1, feb10, "usd"), "a kind Stripe does not word")
}
