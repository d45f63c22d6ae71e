package chargebee

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Error types, as in Chargebee's envelope.
const (
	typeInvalidRequest  = "invalid_request"
	typePayment         = "payment"
	typeOperationFailed = "operation_failed"
)

// Error is an API error in Chargebee's envelope: message, type,
// api_error_code and error_code (which the SDKs need to tell a Chargebee
// error from any other), the parameter at fault, and http_status_code.
// Every failure a handler returns ends up as one of these.
type Error struct {
	Status       int    `json:"-"`
	Message      string `json:"message"`
	Type         string `json:"type,omitempty"`
	APIErrorCode string `json:"api_error_code"`
	Param        string `json:"param,omitempty"`
	// ErrorCode, ErrorMsg and ErrorParam are the envelope's older fields,
	// which the SDKs still read.
	ErrorCode      string `json:"error_code"`
	ErrorMsg       string `json:"error_msg"`
	ErrorParam     string `json:"error_param,omitempty"`
	HTTPStatusCode int    `json:"http_status_code"`
}

func (e *Error) Error() string { return e.Message }

// newError is an error of status, type and api_error_code, worded msg.
func newError(status int, typ, code, msg string) *Error {
	return &Error{Status: status, Message: msg, Type: typ, APIErrorCode: code, ErrorCode: code, ErrorMsg: msg,
		HTTPStatusCode: status}
}

// errParam refuses parameter param: Chargebee words it "param : problem".
func errParam(param, problem string) *Error {
	e := newError(http.StatusBadRequest, typeInvalidRequest, "param_wrong_value", param+" : "+problem)
	e.Param, e.ErrorParam, e.ErrorMsg = param, param, problem
	return e
}

func errRequired(param string) *Error { return errParam(param, "cannot be blank") }

// errInvalid refuses a request that cannot be served as sent.
func errInvalid(param, msg string) *Error {
	e := newError(http.StatusBadRequest, typeInvalidRequest, "invalid_request", msg)
	e.Param, e.ErrorParam = param, param
	return e
}

func errDuplicate(param, kind, id string) *Error {
	e := newError(http.StatusBadRequest, typeInvalidRequest, "duplicate_entry",
		fmt.Sprintf("%s : The value %s is already present.", param, id))
	e.Param, e.ErrorParam, e.ErrorMsg = param, param, fmt.Sprintf("a %s with id %s exists already", kind, id)
	return e
}

// errNotFound refuses a request for an object that does not exist.
func errNotFound(kind, id string) *Error {
	return newError(http.StatusNotFound, typeInvalidRequest, "resource_not_found",
		fmt.Sprintf("Sorry, we couldn't find that resource: the %s %s does not exist.", kind, id))
}

func errUnknownURL(method, path string) *Error {
	return newError(http.StatusNotFound, typeInvalidRequest, "resource_not_found",
		fmt.Sprintf("Sorry, we couldn't find that resource (%s %s is not an API route billclock serves).", method, path))
}

// errState refuses a request the object's state does not allow.
func errState(msg string) *Error {
	return newError(http.StatusConflict, typeInvalidRequest, "invalid_state_for_request", msg)
}

func errAuth(msg string) *Error {
	e := newError(http.StatusUnauthorized, "", "api_authentication_failed", msg)
	return e
}

func errPayment(code, msg string) *Error {
	return newError(http.StatusPaymentRequired, typePayment, code, msg)
}

func errInternal() *Error {
	return newError(http.StatusInternalServerError, typeOperationFailed, "internal_error",
		"Sorry, something went wrong when trying to process the request (billclock logged the details).")
}

// kindNames words the runtime's kinds of objects.
var kindNames = map[string]string{
	clockwork.KindCustomer:      "customer",
	clockwork.KindProduct:       "item",
	clockwork.KindPrice:         "item price",
	clockwork.KindSubscription:  "subscription",
	clockwork.KindInvoice:       "invoice",
	clockwork.KindPaymentMethod: "payment source",
	clockwork.KindEvent:         "event",
	clockwork.KindEndpoint:      "webhook endpoint",
	clockwork.KindClock:         "time machine",
}

// apiError turns any error into Chargebee's envelope; known is false for
// an error nothing explains (a bug, a failed disk), which becomes a 500
// whose details are logged, never shown.
func apiError(err error) (e *Error, known bool) {
	var ce *Error
	var be *billing.Error
	var busy *clockwork.ClockBusyError
	var decl *billing.Declined
	var pme *billing.PaymentMethodError
	switch {
	case errors.As(err, &ce):
		return ce, true
	case errors.As(err, &busy):
		return errTravelling(), true
	case errors.As(err, &decl):
		return errDeclined(decl), true
	case errors.As(err, &pme):
		return errInvalid("payment_source_id", "the payment source "+pme.PaymentMethod+" cannot be used: "+string(pme.Problem)), true
	case errors.As(err, &be):
		return engineError(be), true
	case errors.Is(err, clockwork.ErrOtherDialect):
		return errAuth("This API key is another provider's account in billclock (a Stripe key), not a Chargebee site."), true
	case errors.Is(err, store.ErrNotFound):
		return errParam("offset", "invalid value: it is not a next_offset of this list"), true
	}
	return errInternal(), false
}

// errTravelling refuses a change while the time machine travels.
func errTravelling() *Error {
	return errState("The time machine delorean is travelling (time_travel_status in_progress): the site's data cannot change until it has succeeded.")
}

// errDeclined words a declined payment.
func errDeclined(d *billing.Declined) *Error {
	switch d.Reason {
	case billing.DeclineNoPaymentMethod:
		return errPayment("payment_method_not_present", "The customer has no card to charge.")
	}
	return errPayment("payment_processing_failed", "Payment failed: "+declineText(d.Reason)+".")
}

// declineText is the test gateway's text for a decline.
func declineText(r billing.DeclineReason) string {
	switch r {
	case billing.DeclineInsufficientFunds:
		return "Insufficient funds"
	case billing.DeclineNoPaymentMethod:
		return "No payment method"
	}
	return "Card declined"
}

// engineError words the engine's refusals.
func engineError(be *billing.Error) *Error {
	if be.Kind == billing.NotFound {
		kind := kindNames[be.Resource]
		if kind == "" {
			kind = strings.ReplaceAll(be.Resource, "_", " ")
		}
		e := errNotFound(kind, be.ID)
		if be.ID == "" {
			e = errNotFound(kind, "asked for")
		}
		return e
	}
	param := be.Param
	switch be.Code {
	case billing.CodeTimestampOutOfRange:
		return errParam(param, fmt.Sprintf("must be a time from %d to %d", be.Min, be.Max))
	case billing.CodeStringTooLong:
		return errParam(param, fmt.Sprintf("cannot be longer than %d characters", be.Max))
	case billing.CodeAmountTooLarge:
		return errInvalid(param, fmt.Sprintf("The amount is too large: amounts must be at most %d.", be.Max))
	case billing.CodeNegativeQuantity:
		return errParam(param, "must not be negative")
	case billing.CodeMissingParam:
		return errRequired(param)
	case billing.CodeClockAdvancing:
		return errTravelling()
	case billing.CodeArmWhileAdvancing:
		return errState("The time machine delorean is travelling: its next travel can be set to fail once it has succeeded.")
	case billing.CodeCurrencyMismatch:
		return errInvalid(param, fmt.Sprintf("The item price %s is in %s, the subscription in %s.", be.ID,
			strings.ToUpper(be.Value), strings.ToUpper(be.Want)))
	case billing.CodeIntervalMismatch:
		return errInvalid(param, fmt.Sprintf("The item price %s is billed every %d %s, the subscription every %d %s.", be.ID,
			be.Interval.Count, be.Interval.Unit, be.WantInterval.Count, be.WantInterval.Unit))
	case billing.CodePriceNotRecurring:
		return errInvalid(param, fmt.Sprintf("The item price %s is not recurring (it has no period): only plan and addon item prices can be subscribed to.", be.ID))
	case billing.CodeSubscriptionCanceled:
		return errState(fmt.Sprintf("The subscription %s is cancelled.", be.ID))
	case billing.CodeLastItem:
		return errInvalid(param, "A subscription must keep its plan.")
	case billing.CodeInvoicePaid:
		return errState(fmt.Sprintf("The invoice %s is paid already.", be.ID))
	case billing.CodeInvoiceVoid:
		return errState(fmt.Sprintf("The invoice %s is voided.", be.ID))
	case billing.CodeInvoiceDraft:
		return errState(fmt.Sprintf("The invoice %s is pending.", be.ID))
	case billing.CodeCancelAtNotFuture:
		return errParam(param, "must be in the future")
	}
	if be.Kind == billing.Conflict {
		return errState(be.Error())
	}
	return errInvalid(param, be.Error())
}
