package billing

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Percent is a percentage in fixed point with four decimals: PercentUnit
// is one per cent, so 7.25% is 72,500 and Hundred is 100%. Four decimals
// are the precision of tax rate percentages; coupons' percentages fit too.
// Amounts computed from a Percent are exact, so the same inputs always
// give the same invoice.
type Percent int64

// Percent units.
const (
	// PercentUnit is one per cent.
	PercentUnit Percent = 10_000
	// Hundred is 100%.
	Hundred Percent = 100 * PercentUnit
)

// maxPercentDigits bounds the integer part ParsePercent reads, far from
// overflowing an int64 once scaled.
const maxPercentDigits = 9

var errPercentSyntax = errors.New("not a decimal percentage with at most four decimals")

// ParsePercent reads a decimal percentage such as "25", "7.25", "0.0001"
// or ".5": digits, and an optional point followed by at most four
// significant decimals (trailing zeros beyond them are accepted). It takes
// no sign, exponent or spaces. Ranges are for the caller to check.
func ParsePercent(s string) (Percent, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, errPercentSyntax
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 4 || !allDigits(whole) || !allDigits(frac) {
		return 0, errPercentSyntax
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > maxPercentDigits {
		return 0, errPercentSyntax
	}
	var w, f int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	if frac != "" {
		f, _ = strconv.ParseInt(frac+strings.Repeat("0", 4-len(frac)), 10, 64)
	}
	return Percent(w)*PercentUnit + Percent(f), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// String renders p as a decimal without trailing zeros: "7.25", "25".
func (p Percent) String() string {
	sign := ""
	if p < 0 {
		sign, p = "-", -p
	}
	s := sign + strconv.FormatInt(int64(p/PercentUnit), 10)
	if frac := int64(p % PercentUnit); frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(10_000+frac, 10)[1:], "0")
	}
	return s
}

// Of is p of amount, rounded half away from zero, computed exactly.
func (p Percent) Of(amount int64) (int64, error) {
	return mulDivRound(amount, int64(p), int64(Hundred))
}

// mulDivRound is a × num / den rounded half away from zero, computed
// exactly; den must be positive. It fails, rather than wrap, if the
// result does not fit in an int64.
func mulDivRound(a, num, den int64) (int64, error) {
	n := new(big.Int).Mul(big.NewInt(a), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(n, d, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(d) >= 0 {
		if n.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, errAmountTooLarge()
	}
	return q.Int64(), nil
}
