package billing

import "fmt"

// ErrorKind classifies engine errors; each surface maps kinds to its own
// wire status and envelope.
type ErrorKind int

// Error kinds.
const (
	// Invalid: the request cannot be applied to the current state.
	Invalid ErrorKind = iota + 1
	// NotFound: a referenced object does not exist.
	NotFound
	// Conflict: the object is busy with another operation.
	Conflict
)

// Code names a rule the engine refused a request by. The engine does not
// word its errors for users: each surface words every code in its
// provider's way, from the values the Error carries.
type Code string

// Error codes. Each says which of Error's values it sets, besides Kind and
// Param (the request parameter at fault, where there is one).
const (
	// CodeTimestampOutOfRange: a timestamp outside [Min, Max]
	// (MinTimestamp, MaxTimestamp).
	CodeTimestampOutOfRange Code = "timestamp_out_of_range"
	// CodeStringTooLong: Value, a string longer than Max characters.
	CodeStringTooLong Code = "string_too_long"
	// CodeAmountTooLarge: an amount, or a sum or product of amounts, that
	// cannot be billed; Max is MaxAmount.
	CodeAmountTooLarge Code = "amount_too_large"
	// CodeMissingParam: Param is required and was not given.
	CodeMissingParam Code = "missing_param"
	// CodeNegativeQuantity: the quantity in Param is below zero.
	CodeNegativeQuantity Code = "negative_quantity"

	// CodeClockAdvancing: the clock ID is already advancing and cannot
	// begin another advance.
	CodeClockAdvancing Code = "clock_advancing"
	// CodeClockFailed: the clock ID's advance failed; it takes no more.
	CodeClockFailed Code = "clock_failed"
	// CodeAdvanceNotForward: an advance to a time that is not after the
	// clock ID's frozen time, Min.
	CodeAdvanceNotForward Code = "advance_not_forward"
	// CodeAdvanceTooFar: an advance past Max, the latest time the clock
	// ID frozen at Min may move to in one step.
	CodeAdvanceTooFar Code = "advance_too_far"
	// CodeArmWhileAdvancing: the clock ID is advancing, so its next
	// advance cannot be set to fail.
	CodeArmWhileAdvancing Code = "arm_while_advancing"

	// CodeInvoiceNotDraft: the invoice ID is finalized already.
	CodeInvoiceNotDraft Code = "invoice_not_draft"
	// CodeInvoicePaid: the invoice ID is paid already.
	CodeInvoicePaid Code = "invoice_paid"
	// CodeInvoiceVoid: the invoice ID is void and cannot be paid.
	CodeInvoiceVoid Code = "invoice_void"
	// CodeInvoiceDraft: the invoice ID is a draft and cannot be paid.
	CodeInvoiceDraft Code = "invoice_draft"
	// CodeInvoiceNotVoidable: the invoice ID, in Status, cannot be voided.
	CodeInvoiceNotVoidable Code = "invoice_not_voidable"

	// CodePriceNotRecurring: the price ID is one-time where a recurring
	// price is needed.
	CodePriceNotRecurring Code = "price_not_recurring"
	// CodeCurrencyMismatch: the price ID is in currency Value, the
	// subscription in Want.
	CodeCurrencyMismatch Code = "currency_mismatch"
	// CodeIntervalMismatch: the price ID is billed every Interval, the
	// subscription's other prices every WantInterval.
	CodeIntervalMismatch Code = "interval_mismatch"
	// CodeAnchorAfterNaturalDate: a billing cycle anchor later than Max,
	// the end of the first whole period.
	CodeAnchorAfterNaturalDate Code = "anchor_after_natural_date"
	// CodeCancelAtNotFuture: a cancellation time that is not in the future.
	CodeCancelAtNotFuture Code = "cancel_at_not_future"
	// CodeSubscriptionCanceled: the subscription ID has ended and cannot
	// change.
	CodeSubscriptionCanceled Code = "subscription_canceled"
	// CodeProrationDateOutsidePeriod: a proration date outside the current
	// period, [Min, Max].
	CodeProrationDateOutsidePeriod Code = "proration_date_outside_period"
	// CodeLastItem: removing the last item of the subscription ID.
	CodeLastItem Code = "last_item"
	// CodeTrialNotMovable: the subscription ID, in Status, is not trialing,
	// so its trial end cannot move.
	CodeTrialNotMovable Code = "trial_not_movable"

	// CodePaymentCustomerSet: the payment ID already has a customer, which
	// cannot change.
	CodePaymentCustomerSet Code = "payment_customer_set"
)

// Error is a billing rule violation: its Kind, the Code of the rule and the
// values a surface needs to word it, and the parameter it concerns, if
// any.
type Error struct {
	Kind  ErrorKind
	Code  Code
	Param string
	// Resource and ID name the object concerned: the missing object of a
	// NotFound error, or the clock, invoice, price, subscription or
	// payment that refused the request.
	Resource, ID string
	// Status is the object's status, where that is why it refuses.
	Status string
	// Value is the value refused, and Want the one it had to match, where
	// they are strings (see each code).
	Value, Want string
	// Interval is the billing interval refused, and WantInterval the one
	// it had to match.
	Interval, WantInterval Interval
	// Min and Max bound what was allowed: times in Unix seconds, a length
	// or an amount (see each code).
	Min, Max int64
	// Message, if set, is the error's text as is: NotFound errors carry
	// one, and so do errors made outside the engine without a Code.
	Message string
}

// NotFoundError reports that the resource id, given in param, does not exist.
func NotFoundError(resource, id, param string) *Error {
	return &Error{Kind: NotFound, Resource: resource, ID: id, Param: param,
		Message: "No such " + resource + ": '" + id + "'"}
}

func invalid(code Code, param string) *Error {
	return &Error{Kind: Invalid, Code: code, Param: param}
}

// Error is the error's Message or, without one, a plain English account of
// its code: what a surface shows for a code it does not word itself.
func (e *Error) Error() string {
	if e.Message != "" {
		return e.Message
	}
	s := e.fallback()
	if e.Param != "" {
		s = e.Param + ": " + s
	}
	return s
}

func (e *Error) fallback() string {
	switch e.Code {
	case CodeTimestampOutOfRange:
		return fmt.Sprintf("timestamp out of range: it must be from %d to %d", e.Min, e.Max)
	case CodeStringTooLong:
		return fmt.Sprintf("string too long: it must be at most %d characters", e.Max)
	case CodeAmountTooLarge:
		return fmt.Sprintf("amount too large: it must be at most %d", e.Max)
	case CodeMissingParam:
		return "missing required parameter"
	case CodeNegativeQuantity:
		return "quantity must not be negative"
	case CodeClockAdvancing:
		return fmt.Sprintf("clock %s is already advancing", e.ID)
	case CodeClockFailed:
		return fmt.Sprintf("clock %s failed to advance and cannot advance again", e.ID)
	case CodeAdvanceNotForward:
		return fmt.Sprintf("clock %s can only advance to a time after %d", e.ID, e.Min)
	case CodeAdvanceTooFar:
		return fmt.Sprintf("clock %s can advance at most to %d in one step", e.ID, e.Max)
	case CodeArmWhileAdvancing:
		return fmt.Sprintf("clock %s is advancing; its next advance cannot be set to fail", e.ID)
	case CodeInvoiceNotDraft:
		return fmt.Sprintf("invoice %s is already finalized", e.ID)
	case CodeInvoicePaid:
		return fmt.Sprintf("invoice %s is already paid", e.ID)
	case CodeInvoiceVoid:
		return fmt.Sprintf("invoice %s is void and cannot be paid", e.ID)
	case CodeInvoiceDraft:
		return fmt.Sprintf("invoice %s is a draft and cannot be paid", e.ID)
	case CodeInvoiceNotVoidable:
		return fmt.Sprintf("invoice %s is %s and cannot be voided", e.ID, e.Status)
	case CodePriceNotRecurring:
		return fmt.Sprintf("price %s is not recurring", e.ID)
	case CodeCurrencyMismatch:
		return fmt.Sprintf("price %s is in %s, the subscription in %s", e.ID, e.Value, e.Want)
	case CodeIntervalMismatch:
		return fmt.Sprintf("price %s is billed every %d %s, the subscription every %d %s",
			e.ID, e.Interval.Count, e.Interval.Unit, e.WantInterval.Count, e.WantInterval.Unit)
	case CodeAnchorAfterNaturalDate:
		return fmt.Sprintf("billing cycle anchor must be at most %d", e.Max)
	case CodeCancelAtNotFuture:
		return "cancellation time must be in the future"
	case CodeSubscriptionCanceled:
		return fmt.Sprintf("subscription %s has ended", e.ID)
	case CodeProrationDateOutsidePeriod:
		return fmt.Sprintf("proration date must be from %d to %d", e.Min, e.Max)
	case CodeLastItem:
		return fmt.Sprintf("subscription %s must keep at least one item", e.ID)
	case CodeTrialNotMovable:
		return fmt.Sprintf("subscription %s is %s, not trialing", e.ID, e.Status)
	case CodePaymentCustomerSet:
		return fmt.Sprintf("payment %s already has a customer", e.ID)
	}
	return "invalid request (" + string(e.Code) + ")"
}
