package billing

import (
	"math"
	"math/big"
)

// MaxAmount is the largest amount, in the currency's smallest unit, that
// Stripe takes for a price or a charge: eight digits, $999,999.99.
const MaxAmount = 99_999_999

// MaxQuantity is the largest quantity (seats) of a subscription item that
// billclock takes. Stripe documents no limit for subscription items; this
// is the highest quantity it documents anywhere (Checkout's adjustable
// quantities), and keeps MaxAmount × MaxQuantity far from overflowing.
const MaxQuantity = 999_999

// errAmountTooLarge refuses an amount beyond what can be billed. The
// engine gives it for any sum or product of amounts that would not fit in
// an int64, rather than wrap.
func errAmountTooLarge() *Error {
	e := invalid(CodeAmountTooLarge, "")
	e.Max = MaxAmount
	return e
}

// mulAmount returns a × b, or an Invalid error if the product does not fit
// in an int64.
func mulAmount(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	// −1 × MinInt64 wraps to MinInt64, which the division check misses.
	if (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, errAmountTooLarge()
	}
	p := a * b
	if p/b != a {
		return 0, errAmountTooLarge()
	}
	return p, nil
}

// addAmount returns a + b, or an Invalid error if the sum does not fit in
// an int64.
func addAmount(a, b int64) (int64, error) {
	s := a + b
	// Overflow flips the sign away from both operands'.
	if (a >= 0) == (b >= 0) && (s >= 0) != (a >= 0) {
		return 0, errAmountTooLarge()
	}
	return s, nil
}

// proratedLine is sign × Prorate(unitAmount × quantity, ...), every step
// checked.
func proratedLine(unitAmount, quantity, sign, start, end, t int64) (int64, error) {
	whole, err := mulAmount(unitAmount, quantity)
	if err != nil {
		return 0, err
	}
	share, err := Prorate(whole, start, end, t)
	if err != nil {
		return 0, err
	}
	return mulAmount(sign, share)
}

// Prorate is the share of amount for the time left in [start, end) after t:
// amount × (end − t) / (end − start), rounded half away from zero, computed
// exactly. It fails, rather than wrap, if the share does not fit in an
// int64 (only possible for a t before start).
func Prorate(amount, start, end, t int64) (int64, error) {
	if end <= start {
		return 0, nil
	}
	left := new(big.Int).Sub(big.NewInt(end), big.NewInt(t))
	num := new(big.Int).Mul(big.NewInt(amount), left)
	den := new(big.Int).Sub(big.NewInt(end), big.NewInt(start))
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half away from zero: compare 2|r| with the divisor.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(den) >= 0 {
		if num.Sign() < 0 {
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

// checkedTotal is Total, or an Invalid error if the lines' sum does not
// fit in an int64. The engine checks it before it records an invoice, so
// that Total never wraps on a stored one.
func (inv *Invoice) checkedTotal() (int64, error) {
	var t int64
	for _, l := range inv.Lines {
		n, err := l.checkedNet()
		if err != nil {
			return 0, err
		}
		if t, err = addAmount(t, n); err != nil {
			return 0, err
		}
	}
	return t, nil
}
