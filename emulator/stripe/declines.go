package stripe

import (
	"net/http"

	"github.com/billclock/billclock/emulator/billing"
)

// declineWording is how Stripe words a decline: the error code, the
// decline_code (empty when Stripe sends none) and the message.
type declineWording struct {
	code, declineCode, message string
}

// declines maps the engine's decline reasons to Stripe's wording, from
// Stripe's test-card table. The messages other than the generic one are
// the ones Stripe's docs show for these codes.
var declines = map[billing.DeclineReason]declineWording{
	billing.DeclineGeneric:                {"card_declined", "generic_decline", "Your card was declined."},
	billing.DeclineInsufficientFunds:      {"card_declined", "insufficient_funds", "Your card has insufficient funds."},
	billing.DeclineLostCard:               {"card_declined", "lost_card", "Your card was declined."},
	billing.DeclineStolenCard:             {"card_declined", "stolen_card", "Your card was declined."},
	billing.DeclineExpiredCard:            {"expired_card", "expired_card", "Your card has expired."},
	billing.DeclineIncorrectCVC:           {"incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."},
	billing.DeclineProcessingError:        {"processing_error", "processing_error", "An error occurred while processing your card. Try again in a little bit."},
	billing.DeclineAuthenticationRequired: {"authentication_required", "authentication_required", "Your card was declined. This transaction requires authentication."},
	billing.DeclineNoPaymentMethod: {"payment_intent_payment_attempt_failed", "",
		"The PaymentIntent requires a payment method. Attach a payment method and try again."},
}

// wording is Stripe's wording of reason (the generic decline for a reason
// it does not know).
func wording(reason billing.DeclineReason) declineWording {
	if w, ok := declines[reason]; ok {
		return w
	}
	return declines[billing.DeclineGeneric]
}

// errCardDeclined is the 402 card_error Stripe answers a declined card
// with. The caller fills in Charge, PaymentIntent and PaymentMethod where
// they exist.
func errCardDeclined(reason billing.DeclineReason) *Error {
	w := wording(reason)
	return &Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: w.code, DeclineCode: w.declineCode, Message: w.message}
}
