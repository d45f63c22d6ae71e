package billing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePercent(t *testing.T) {
	good := map[string]Percent{
		"25":         25 * PercentUnit,
		"7.25":       72_500,
		"0.0001":     1,
		".5":         5_000,
		"5.":         5 * PercentUnit,
		"100":        Hundred,
		"100.000000": Hundred, // zeros beyond four decimals are fine
		"012.5":      125_000,
		"0":          0,
		"999999999":  999_999_999 * PercentUnit,
	}
	for in, want := range good {
		got, err := ParsePercent(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"", ".", "-5", "+5", "1e2", " 5", "5 ", "7.25001", "0.00001", "1,5", "1.2.3",
		"1000000000", "NaN", "Inf", "0x10", "٣"} {
		_, err := ParsePercent(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestPercentString(t *testing.T) {
	for p, want := range map[Percent]string{
		72_500: "7.25", Hundred: "100", 1: "0.0001", 5_000: "0.5", 0: "0", 123_456: "12.3456", 120_000: "12",
	} {
		assert.Equal(t, want, p.String())
	}
}

// What ParsePercent reads, String writes back the same way, and nothing
// makes it panic.
func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"25", "7.25", ".5", "0.0001", "100.000000", "", "-1", "1e3", "99999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePercent(s)
		if err != nil {
			return
		}
		if p < 0 {
			t.Fatalf("%q gave a negative %d", s, p)
		}
		back, err := ParsePercent(p.String())
		if err != nil || back != p {
			t.Fatalf("%q → %d → %q → %d, %v", s, p, p.String(), back, err)
		}
	})
}

func TestPercentOfRoundsHalfAwayFromZero(t *testing.T) {
	cases := []struct {
		p            Percent
		amount, want int64
	}{
		{25 * PercentUnit, 2000, 500},
		{25 * PercentUnit, 2, 1},        // 0.5 rounds up
		{25 * PercentUnit, -2, -1},      // -0.5 rounds away from zero
		{25 * PercentUnit, 1, 0},        // 0.25
		{33_3333, 3, 1},                 // 0.999999
		{15 * PercentUnit, 43, 6},       // Stripe's example: 15% of $0.43 is $0.06 (6.45)
		{15 * PercentUnit, 484, 73},     // and of $4.84 is $0.73 (72.6)
		{72_500, 1999, 145},             // 144.9275
		{88_750, 4499, 399},             // 399.28625
		{Hundred, MaxAmount, MaxAmount}, // all of it
		{1, 500_000, 1},                 // 0.0001% of 500000 is 0.5
		{1, 499_999, 0},                 // 0.499999
		{Hundred, math.MaxInt64, math.MaxInt64},
		{0, math.MaxInt64, 0},
	}
	for _, tc := range cases {
		got, err := tc.p.Of(tc.amount)
		require.NoError(t, err, "%s%% of %d", tc.p, tc.amount)
		assert.Equal(t, tc.want, got, "%s%% of %d", tc.p, tc.amount)
	}
	_, err := (2 * Hundred).Of(math.MaxInt64)
	requireAmountError(t, err, "200%% of MaxInt64")
}
