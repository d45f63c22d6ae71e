package stripe

import (
	"fmt"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
)

// This file holds Stripe's wording of what the engine records as data:
// invoice line descriptions, amounts, dates and billing intervals.

// describeLine is the description of an invoice line or item in Stripe's
// words: the text it was given (by a user, or stored before lines
// recorded what they bill), else the wording of what it bills; nil for
// neither. Prorations cover the time after start, the line's period start.
func describeLine(b billing.Billed, text string, quantity, start int64, currency string) *string {
	if text != "" {
		return &text
	}
	var s string
	switch {
	case b.Kind == billing.LinePeriod && b.Interval != nil:
		per := describeInterval(*b.Interval)
		if b.Interval.Count != 1 {
			per = "every " + per
		}
		s = fmt.Sprintf("%d × %s (at %s / %s)", quantity, b.ProductName, formatMoney(b.UnitAmount, currency), per)
	case b.Kind == billing.LineTrial:
		s = "Trial period for " + b.ProductName
	case b.Kind == billing.LineProrationDebit:
		s = fmt.Sprintf("Remaining time on %d × %s after %s", quantity, b.ProductName, formatDate(start))
	case b.Kind == billing.LineProrationCredit:
		s = fmt.Sprintf("Unused time on %d × %s after %s", quantity, b.ProductName, formatDate(start))
	case b.Kind == billing.LineOneTime:
		s = b.ProductName
	default:
		return nil
	}
	return &s
}

// describeInterval words a billing interval as Stripe does in its texts:
// "month", "3 months".
func describeInterval(iv billing.Interval) string {
	if iv.Count == 1 {
		return string(iv.Unit)
	}
	return fmt.Sprintf("%d %ss", iv.Count, iv.Unit)
}

// formatDate is how Stripe dates a proration: "10 Feb 2024".
func formatDate(t int64) string { return time.Unix(t, 0).UTC().Format("02 Jan 2006") }

// formatMoney renders an amount in minor units, e.g. 1000 usd as "$10.00".
func formatMoney(amount int64, currency string) string {
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	if zeroDecimal(currency) {
		return fmt.Sprintf("%s%s%d", sign, currencySymbol(currency), amount)
	}
	return fmt.Sprintf("%s%s%d.%02d", sign, currencySymbol(currency), amount/100, amount%100)
}

func currencySymbol(currency string) string {
	switch currency {
	case "usd":
		return "$"
	case "eur":
		return "€"
	case "gbp":
		return "£"
	case "cad":
		return "CA$"
	case "aud":
		return "A$"
	}
	return strings.ToUpper(currency) + " "
}

// zeroDecimal reports whether currency has no minor unit.
func zeroDecimal(currency string) bool {
	switch currency {
	case "jpy", "krw", "vnd", "clp", "isk", "ugx":
		return true
	}
	return false
}
