package stripe

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// Error types, as in Stripe's envelope.
const (
	typeInvalidRequest = "invalid_request_error"
	typeAPI            = "api_error"
	typeIdempotency    = "idempotency_error"
	typeCard           = "card_error"
)

// Error is an API error rendered in Stripe's envelope. Every failure a
// handler returns ends up as one of these in writeError.
type Error struct {
	Status      int    `json:"-"`
	Type        string `json:"type"`
	Code        string `json:"code,omitempty"`
	DeclineCode string `json:"decline_code,omitempty"`
	Message     string `json:"message"`
	Param       string `json:"param,omitempty"`
	// Charge, PaymentIntent, PaymentMethod and SetupIntent describe a card
	// error: the failed charge's id and the objects involved, rendered.
	Charge        string `json:"charge,omitempty"`
	PaymentIntent any    `json:"payment_intent,omitempty"`
	PaymentMethod any    `json:"payment_method,omitempty"`
	SetupIntent   any    `json:"setup_intent,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// envelope is the JSON body of an error response.
type envelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	*Error
	DocURL        string `json:"doc_url,omitempty"`
	RequestLogURL string `json:"request_log_url,omitempty"`
}

func invalid(param, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

func errMissing(param string) *Error {
	e := invalid(param, "Missing required param: %s.", param)
	e.Code = "parameter_missing"
	return e
}

func errUnknown(param string) *Error {
	e := invalid(param, "Received unknown parameter: %s", param)
	e.Code = "parameter_unknown"
	return e
}

func errInvalidInteger(param, value string) *Error {
	e := invalid(param, "Invalid integer: %s", value)
	e.Code = "parameter_invalid_integer"
	return e
}

// errTooLarge and errTooSmall refuse an integer outside its parameter's
// range, in Stripe's words (its "greater than or equal" answer carries the
// code parameter_invalid_integer: stripe/openapi#93).
func errTooLarge(param string, max, value int64) *Error {
	e := invalid(param, "This value must be less than or equal to %d (it currently is '%d').", max, value)
	e.Code = "parameter_invalid_integer"
	return e
}

func errTooSmall(param string, min int64) *Error {
	e := invalid(param, "This value must be greater than or equal to %d.", min)
	e.Code = "parameter_invalid_integer"
	return e
}

func errInvalidBoolean(param, value string) *Error {
	return invalid(param, "Invalid boolean: %s", value)
}

func errNoSuch(kind, id, param string) *Error {
	return &Error{Status: http.StatusNotFound, Type: typeInvalidRequest, Code: "resource_missing", Param: param,
		Message: fmt.Sprintf("No such %s: '%s'", kind, id)}
}

func errUnrecognizedURL(method, path string) *Error {
	return &Error{Status: http.StatusNotFound, Type: typeInvalidRequest, Message: fmt.Sprintf(
		"Unrecognized request URL (%s: %s). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.", method, path)}
}

// errJSONBody answers a request whose body is JSON: Stripe's own text,
// then what to send instead (Stripe ends with its support address).
func errJSONBody() *Error {
	return invalid("", "Invalid request (check that your POST content type is application/x-www-form-urlencoded). "+
		"Stripe's API takes form-encoded bodies (frozen_time=1732320000&metadata[plan]=pro), not JSON, "+
		"as the Stripe SDKs and curl -d send them.")
}

func errNoAPIKey() *Error {
	return &Error{Status: http.StatusUnauthorized, Type: typeInvalidRequest, Message: "You did not provide an API key. " +
		"You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). " +
		"See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/."}
}

func errInvalidAPIKey(key string) *Error {
	return &Error{Status: http.StatusUnauthorized, Type: typeInvalidRequest,
		Message: "Invalid API Key provided: " + maskKey(key)}
}

func errLiveKey() *Error {
	return invalid("", "This endpoint is only available in testmode. Try using your test keys instead.")
}

func errIdempotencyMismatch(key string) *Error {
	return &Error{Status: http.StatusBadRequest, Type: typeIdempotency, Message: fmt.Sprintf(
		"Keys for idempotent requests can only be used with the same parameters they were first used with. "+
			"Try using a key other than '%s' if you meant to execute a different request.", key)}
}

func errIdempotencyInUse(key string) *Error {
	return &Error{Status: http.StatusConflict, Type: typeInvalidRequest, Code: "idempotency_key_in_use", Message: fmt.Sprintf(
		"There is currently another in-progress request using this Stripe token (probably means you are using the same idempotency key "+
			"'%s' from two places at once). Please try again in a few seconds, or with a new idempotency key.", key)}
}

func errInternal() *Error {
	return &Error{Status: http.StatusInternalServerError, Type: typeAPI,
		Message: "An unknown error occurred while processing your request. Please try again."}
}

// maskKey hides all of an API key but its mode prefix and last four
// characters, as Stripe does in its error messages. The last four are
// left out too unless they are key characters, so that no raw byte of
// whatever was sent is echoed.
func maskKey(key string) string {
	prefix := ""
	for _, p := range []string{"sk_test_", "sk_live_", "rk_test_", "rk_live_", "pk_test_", "pk_live_"} {
		if len(key) > len(p) && key[:len(p)] == p {
			prefix = p
		}
	}
	rest := key[len(prefix):]
	if len(rest) <= 4 || !clockwork.KeyChars(rest[len(rest)-4:]) {
		return prefix + "****"
	}
	return prefix + "****" + rest[len(rest)-4:]
}

// statusOfKind maps engine error kinds to HTTP statuses.
var statusOfKind = map[billing.ErrorKind]int{
	billing.Invalid:  http.StatusBadRequest,
	billing.NotFound: http.StatusNotFound,
	billing.Conflict: http.StatusConflict,
}

// apiError turns any handler error into a Stripe error. ok is false for an
// unexpected error, which becomes a 500 whose details must be logged.
func apiError(err error) (e *Error, ok bool) {
	var se *Error
	if errors.As(err, &se) {
		return se, true
	}
	var fe *FormError
	if errors.As(err, &fe) {
		return invalid("", "%s", fe.Msg), true
	}
	var busy *clockwork.ClockBusyError
	if errors.As(err, &busy) {
		return invalid("", "The test clock %s is advancing. Objects on it cannot be changed until it is ready.", busy.Clock), true
	}
	var be *billing.Error
	if errors.As(err, &be) {
		e := &Error{Status: statusOfKind[be.Kind], Type: typeInvalidRequest, Message: engineMessage(be), Param: be.Param,
			Code: moneyCodes[be.Code]}
		if be.Kind == billing.NotFound {
			e.Code = "resource_missing"
			if be.Resource != "" {
				e.Message = noSuchMessage(be.Resource, be.ID)
			}
		}
		return e, true
	}
	return errInternal(), false
}
