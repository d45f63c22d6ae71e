package commet

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// Error types of Commet's envelope.
const (
	typeAuthentication = "authentication_error"
	typeValidation     = "validation_error"
	typeNotFound       = "not_found_error"
	typeBilling        = "billing_error"
	typeInvalidRequest = "invalid_request_error"
	typeConflict       = "conflict_error"
	typeAPI            = "api_error"
)

// Detail is one entry of a validation error's details: the field at fault
// and what is wrong with it.
type Detail struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an API error in Commet's envelope. Every failure a handler
// returns ends up as one of these in writeError.
type Error struct {
	Status  int
	Type    string
	Code    string
	Message string
	Param   string
	// Details are a validation error's fields; Info, for other errors,
	// is the details object (a declined payment's recoveryUrl).
	Details []Detail
	Info    map[string]any
}

func (e *Error) Error() string { return e.Message }

// errorBody is the JSON of an error answer, the same in every version.
type errorBody struct {
	Success bool        `json:"success"`
	Error   errorDetail `json:"error"`
}

type errorDetail struct {
	Type    string  `json:"type"`
	Code    string  `json:"code"`
	Message string  `json:"message"`
	Param   *string `json:"param"`
	DocURL  *string `json:"doc_url"`
	Details any     `json:"details"`
}

func (e *Error) body() errorBody {
	d := errorDetail{Type: e.Type, Code: e.Code, Message: e.Message}
	if e.Param != "" {
		p := e.Param
		d.Param = &p
	}
	switch {
	case e.Details != nil:
		d.Details = e.Details
	case e.Info != nil:
		d.Details = e.Info
	}
	return errorBody{Error: d}
}

// validation is a validation_error with details; its message names the
// first field.
func validation(details ...Detail) *Error {
	msg := "Validation failed"
	if len(details) > 0 {
		msg = fmt.Sprintf("Validation failed: %s: %s", details[0].Field, details[0].Message)
	}
	param := ""
	if len(details) > 0 {
		param = details[0].Field
	}
	return &Error{Status: http.StatusBadRequest, Type: typeValidation, Code: "validation_error", Message: msg,
		Param: param, Details: details}
}

// invalidField is a validation_error about one field.
func invalidField(field, format string, args ...any) *Error {
	return validation(Detail{Field: field, Message: fmt.Sprintf(format, args...)})
}

func notFound(code, format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Type: typeNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errUnauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: typeAuthentication, Code: "unauthorized", Message: msg}
}

func errRouteNotFound(method, path string) *Error {
	return notFound("not_found", "No route for %s %s. See https://commet.co/docs for the API reference.", method, path)
}

func errDeprecated() *Error {
	return &Error{Status: http.StatusGone, Type: typeInvalidRequest, Code: "endpoint_deprecated",
		Message: "POST /test-clock/process-billing is deprecated from API version 2026-07-31: " +
			"POST /test-clock answers with a test clock run that processes every billing deadline up to the target."}
}

func errIdempotencyMismatch() *Error {
	return &Error{Status: http.StatusConflict, Type: typeConflict, Code: "idempotency_key_mismatch",
		Message: "This Idempotency-Key was used with a different request. Use a new key for a different request."}
}

func errIdempotencyInUse() *Error {
	return &Error{Status: http.StatusConflict, Type: typeConflict, Code: "idempotency_key_in_use",
		Message: "Another request with this Idempotency-Key is in progress. Try again in a moment."}
}

func errClockAdvancing() *Error {
	return &Error{Status: http.StatusConflict, Type: typeConflict, Code: "test_clock_advancing",
		Message: "The test clock is running a clock run. Objects cannot change until the run has completed."}
}

func errInternal() *Error {
	return &Error{Status: http.StatusInternalServerError, Type: typeAPI, Code: "internal_error",
		Message: "An unexpected error occurred. Please try again."}
}

// notFoundCodes are the codes of the not-found errors of each kind the
// runtime and the engine name.
var notFoundCodes = map[string]string{
	clockwork.KindCustomer:     "customer_not_found",
	clockwork.KindSubscription: "subscription_not_found",
	clockwork.KindInvoice:      "invoice_not_found",
	clockwork.KindEndpoint:     "webhook_not_found",
	kindPlan:                   "plan_not_found",
	kindPlanPrice:              "price_not_found",
	kindFeature:                "feature_not_found",
}

// nouns word the kinds for messages.
var nouns = map[string]string{
	clockwork.KindCustomer:     "Customer",
	clockwork.KindSubscription: "Subscription",
	clockwork.KindInvoice:      "Invoice",
	clockwork.KindEndpoint:     "Webhook",
	kindPlan:                   "Plan",
	kindPlanPrice:              "Price",
	kindFeature:                "Feature",
}

// apiError turns any handler error into a Commet error. ok is false for an
// unexpected error, which becomes a 500 whose details are logged.
func apiError(err error) (e *Error, ok bool) {
	var ce *Error
	if errors.As(err, &ce) {
		return ce, true
	}
	var busy *clockwork.ClockBusyError
	if errors.As(err, &busy) {
		return errClockAdvancing(), true
	}
	var decl *billing.Declined
	if errors.As(err, &decl) {
		return declined(decl, ""), true
	}
	var be *billing.Error
	if errors.As(err, &be) {
		return engineError(be), true
	}
	return errInternal(), false
}

// engineError words an engine error.
func engineError(be *billing.Error) *Error {
	if be.Kind == billing.NotFound {
		switch {
		case be.Code == billing.CodeNoActiveSubscription:
			return notFound("no_active_subscription", "The customer has no active subscription.")
		case notFoundCodes[be.Resource] != "":
			return notFound(notFoundCodes[be.Resource], "%s not found: %s", nouns[be.Resource], be.ID)
		}
		return notFound("not_found", "%s", be.Error())
	}
	switch be.Code {
	case billing.CodeInsufficientUnits:
		return &Error{Status: http.StatusBadRequest, Type: typeBilling, Code: "insufficient_seats",
			Message: strings.Replace(be.Message, "units", "seats", 1), Param: "count"}
	case billing.CodeMultipleActiveSubscriptions:
		return &Error{Status: http.StatusConflict, Type: typeConflict, Code: "multiple_active_subscriptions",
			Message: "The customer has more than one active subscription."}
	case billing.CodeInvalidStatus:
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "invalid_subscription_status",
			Message: strings.Replace(be.Message, "past-due", "past_due", 1)}
	case billing.CodeSubscriptionCanceled:
		return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "subscription_canceled",
			Message: "The subscription is canceled."}
	}
	field := be.Param
	if field == "" {
		field = "body"
	}
	msg := be.Error()
	if be.Message == "" && be.Param != "" {
		msg = strings.TrimPrefix(msg, be.Param+": ")
	}
	return invalidField(field, "%s", msg)
}

// declined words a declined payment: a 402 billing error carrying, when
// there is one, the link where the customer can pay.
func declined(d *billing.Declined, recoveryURL string) *Error {
	e := &Error{Status: http.StatusPaymentRequired, Type: typeBilling, Code: "payment_failed",
		Message: "The payment was declined: " + declineMessage(d.Reason)}
	e.Info = map[string]any{"failureCode": declineCode(d.Reason)}
	if recoveryURL != "" {
		e.Info["recoveryUrl"] = recoveryURL
	}
	return e
}

// declineCode and declineMessage word an engine decline.
func declineCode(r billing.DeclineReason) string {
	switch r {
	case billing.DeclineNoPaymentMethod:
		return "no_payment_method"
	case billing.DeclineExpiredCard, billing.DeclineIncorrectCVC, billing.DeclineProcessingError,
		billing.DeclineInsufficientFunds, billing.DeclineLostCard, billing.DeclineStolenCard:
		return string(r)
	}
	return "card_declined"
}

func declineMessage(r billing.DeclineReason) string {
	switch r {
	case billing.DeclineNoPaymentMethod:
		return "the customer has no payment method."
	case billing.DeclineInsufficientFunds:
		return "the card has insufficient funds."
	case billing.DeclineExpiredCard:
		return "the card has expired."
	case billing.DeclineAuthenticationRequired:
		return "the card requires authentication."
	}
	return "the card was declined."
}
