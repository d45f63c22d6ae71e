package stripe

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billclock/billclock/emulator/billing"
)

// engineMessages words the engine's error codes as Stripe does, from the
// values each error carries. Texts that are billclock's own (Stripe has no
// such refusal) are written in Stripe's manner.
var engineMessages = map[billing.Code]func(e *billing.Error) string{
	billing.CodeTimestampOutOfRange: func(e *billing.Error) string {
		return fmt.Sprintf("Invalid timestamp: must be an integer Unix timestamp from %d (%s) to %d (%s).",
			e.Min, formatUTC(e.Min), e.Max, formatUTC(e.Max))
	},
	billing.CodeStringTooLong: func(e *billing.Error) string {
		return fmt.Sprintf("Invalid string: %s; must be at most %d characters", elide(e.Value), e.Max)
	},
	billing.CodeAmountTooLarge: func(e *billing.Error) string {
		return "Amount must be no more than $" + groupedMajorUnits(e.Max)
	},
	billing.CodeMissingParam: func(e *billing.Error) string {
		return fmt.Sprintf("Missing required param: %s.", e.Param)
	},
	billing.CodeNegativeQuantity: func(*billing.Error) string { return "Invalid non-negative integer" },

	billing.CodeClockAdvancing: func(e *billing.Error) string {
		return fmt.Sprintf("The test clock %s is already advancing. "+
			"Wait for the current advancement to finish before advancing again.", e.ID)
	},
	billing.CodeClockFailed: func(*billing.Error) string {
		return "Failed to advance time. Future requests to advance time will fail."
	},
	billing.CodeAdvanceNotForward: func(e *billing.Error) string {
		return fmt.Sprintf("The frozen time of this clock is %d (%s). "+
			"You can only advance it to a time after its current frozen time.", e.Min, formatUTC(e.Min))
	},
	billing.CodeAdvanceTooFar: func(e *billing.Error) string {
		return fmt.Sprintf("The frozen time of this clock is %d (%s). You can only advance it up to %d (%s). "+
			"You can only advance a test clock up to two intervals from the current frozen time at a time, "+
			"based on the shortest subscription interval in the test clock. For example, if a test clock has "+
			"a monthly and yearly subscription, you may only advance up to two months at a time. If the test "+
			"clock has no subscriptions or subscription schedules, you can advance up to 2 years from the current frozen time.",
			e.Min, formatUTC(e.Min), e.Max, formatUTC(e.Max))
	},
	billing.CodeArmWhileAdvancing: func(e *billing.Error) string {
		return fmt.Sprintf("The test clock %s is advancing. "+
			"Wait for the current advancement to finish before making its next advance fail.", e.ID)
	},

	billing.CodeInvoiceNotDraft: func(*billing.Error) string {
		return "This invoice is already finalized, you can't re-finalize a non-draft invoice."
	},
	billing.CodeInvoicePaid: func(*billing.Error) string { return "Invoice is already paid" },
	billing.CodeInvoiceVoid: func(*billing.Error) string {
		return "This invoice has been voided and can no longer be paid."
	},
	billing.CodeInvoiceDraft: func(*billing.Error) string {
		return "You cannot pay a draft invoice. Finalize it first."
	},
	billing.CodeInvoiceNotVoidable: func(e *billing.Error) string {
		return fmt.Sprintf("You can only void invoices that are open or uncollectible; this invoice is %s.", e.Status)
	},

	billing.CodePriceNotRecurring: func(*billing.Error) string {
		return "The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`."
	},
	billing.CodeCurrencyMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("The price specified (%s) has currency %s, which does not match the subscription's currency %s.",
			e.ID, e.Value, e.Want)
	},
	billing.CodeIntervalMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("The price specified (%s) is billed every %s, but the subscription's other prices are billed every %s. "+
			"billclock does not support mixing or changing billing intervals in a subscription.",
			e.ID, describeInterval(e.Interval), describeInterval(e.WantInterval))
	},
	billing.CodeAnchorAfterNaturalDate: func(e *billing.Error) string {
		return fmt.Sprintf("billing_cycle_anchor cannot be later than next natural billing date (%d) for plan", e.Max)
	},
	billing.CodeCancelAtNotFuture: func(*billing.Error) string { return "cancel_at must be in the future." },
	billing.CodeSubscriptionCanceled: func(*billing.Error) string {
		return "A canceled subscription can only update its cancellation_details and metadata."
	},
	billing.CodeProrationDateOutsidePeriod: func(e *billing.Error) string {
		return fmt.Sprintf("proration_date must be within the current billing period (%d to %d).", e.Min, e.Max)
	},
	billing.CodeLastItem: func(*billing.Error) string {
		return "A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint."
	},
	billing.CodeTrialNotMovable: func(e *billing.Error) string {
		return fmt.Sprintf("billclock can only move the trial end of a subscription that is trialing (this one is %s).", e.Status)
	},

	billing.CodePaymentCustomerSet: func(*billing.Error) string {
		return "The customer of a payment cannot be changed once it is set."
	},
}

// engineMessage is Stripe's text for an engine error: its code's wording,
// or else the text the error carries (a not-found error's, or one made
// without a code), or else the engine's plain account of its code.
func engineMessage(e *billing.Error) string {
	if word, ok := engineMessages[e.Code]; ok {
		return word(e)
	}
	if word, ok := subscriptionMessages[e.Code]; ok {
		return word(e)
	}
	if word, ok := moneyMessages[e.Code]; ok {
		return word(e)
	}
	if word, ok := invoicingMessages[e.Code]; ok {
		return word(e)
	}
	return e.Error()
}

// formatUTC is how Stripe writes a time beside its timestamp in errors.
func formatUTC(t int64) string { return time.Unix(t, 0).UTC().Format("2006-01-02 15:04:05 UTC") }

// elide shortens s to its first and last ten characters, as Stripe echoes
// a string that is too long. It cuts between characters, never inside one,
// and what is not UTF-8 comes out as U+FFFD.
func elide(s string) string {
	r := []rune(s)
	if len(r) <= 20 {
		return string(r)
	}
	return string(r[:10]) + "..." + string(r[len(r)-10:])
}

// groupedMajorUnits writes a non-negative amount in cents as Stripe's
// amount limit reads: 99999999 as "999,999.99".
func groupedMajorUnits(amount int64) string {
	whole := strconv.FormatInt(amount/100, 10)
	var b strings.Builder
	for i, d := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	return fmt.Sprintf("%s.%02d", b.String(), amount%100)
}
