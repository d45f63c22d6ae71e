package billing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWholeDays(t *testing.T) {
	start := utc("2025-04-01T11:00:00Z")
	cases := []struct {
		name     string
		from, to int64
		want     int64
	}{
		{"thirty-day month", start, utc("2025-05-01T11:00:00Z"), 30},
		{"exactly half", utc("2025-04-16T11:00:00Z"), utc("2025-05-01T11:00:00Z"), 15},
		{"a second into a day counts it", utc("2025-04-16T10:59:59Z"), utc("2025-05-01T11:00:00Z"), 16},
		{"a second before the end is a day", utc("2025-05-01T10:59:59Z"), utc("2025-05-01T11:00:00Z"), 1},
		{"at the end nothing", utc("2025-05-01T11:00:00Z"), utc("2025-05-01T11:00:00Z"), 0},
		{"after the end nothing", utc("2025-05-02T11:00:00Z"), utc("2025-05-01T11:00:00Z"), 0},
		{"february", utc("2025-02-01T00:00:00Z"), utc("2025-03-01T00:00:00Z"), 28},
		{"leap february", utc("2024-02-01T00:00:00Z"), utc("2024-03-01T00:00:00Z"), 29},
		{"quarter", utc("2026-01-01T00:00:00Z"), utc("2026-04-01T00:00:00Z"), 90},
		{"year", utc("2025-01-01T00:00:00Z"), utc("2026-01-01T00:00:00Z"), 365},
		{"widest range", MinTimestamp, MaxTimestamp, 47482},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, WholeDays(tc.from, tc.to))
		})
	}
}

func TestProrateDays(t *testing.T) {
	cases := []struct {
		name                     string
		amount, held, days, want int64
	}{
		// The docs' true-up: $25 × 15/30.
		{"docs true-up", 2500, 15, 30, 1250},
		{"whole period", 2500, 30, 30, 2500},
		{"held longer than the period is the period", 2500, 31, 30, 2500},
		{"nothing held", 2500, 0, 30, 0},
		{"negative held is nothing", 2500, -3, 30, 0},
		{"no days", 2500, 3, 0, 0},
		{"half a cent rounds up", 1, 15, 30, 1},                             // 0.5
		{"a third rounds down", 1000, 1, 3, 333},                            // 333.33
		{"two thirds rounds up", 1000, 2, 3, 667},                           // 666.67
		{"credit rounds away from zero", -1, 1, 2, -1},                      // -0.5
		{"a day of a year", 99_999_999, 1, 365, 273973},                     // 273972.6
		{"largest line", MaxAmount * MaxQuantity, 1, 2, 49_999_949_500_001}, // 49,999,949,500,000.5
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ProrateDays(tc.amount, tc.held, tc.days)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	// Exact, not float: the whole of the largest int64 survives.
	got, err := ProrateDays(math.MaxInt64, 7, 7)
	require.NoError(t, err)
	assert.EqualValues(t, int64(math.MaxInt64), got)
	got, err = ProrateDays(math.MaxInt64, 1, 2)
	require.NoError(t, err)
	assert.EqualValues(t, int64(math.MaxInt64/2+1), got)
}
