package stripe

import (
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// testCard is one of Stripe's test cards: its magic payment method ids
// (pm_card_...), its tokens (tok_...), what it shows and how it behaves.
type testCard struct {
	methods  []string
	tokens   []string
	card     billing.Card
	behavior billing.CardBehavior
}

// testCardExpiry is the expiry billclock gives every test card: a fixed
// date, so that the same scenario gives the same objects.
const (
	testCardExpMonth = 12
	testCardExpYear  = 2034
)

func testCardDetails(brand, last4, funding string) billing.Card {
	return billing.Card{Brand: brand, Last4: last4, ExpMonth: testCardExpMonth, ExpYear: testCardExpYear,
		Funding: funding, Country: "US", Fingerprint: "bc" + brand + last4}
}

// testCards is Stripe's table of test cards (shared/reference/stripe.md,
// "Test cards"). The cards Stripe declines when attached also decline
// every charge.
var testCards = []testCard{
	{[]string{"pm_card_visa"}, []string{"tok_visa"}, testCardDetails("visa", "4242", "credit"), billing.CardBehavior{}},
	{[]string{"pm_card_mastercard"}, []string{"tok_mastercard"}, testCardDetails("mastercard", "4444", "credit"), billing.CardBehavior{}},
	{[]string{"pm_card_amex"}, []string{"tok_amex"}, testCardDetails("amex", "0005", "credit"), billing.CardBehavior{}},
	{[]string{"pm_card_visa_debit"}, []string{"tok_visa_debit"}, testCardDetails("visa", "5556", "debit"), billing.CardBehavior{}},
	{[]string{"pm_card_visa_chargeDeclined"}, []string{"tok_visa_chargeDeclined", "tok_chargeDeclined"},
		testCardDetails("visa", "0002", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineGeneric}},
	{[]string{"pm_card_visa_chargeDeclinedInsufficientFunds"}, []string{"tok_visa_chargeDeclinedInsufficientFunds"},
		testCardDetails("visa", "9995", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineInsufficientFunds}},
	{[]string{"pm_card_visa_chargeDeclinedLostCard"}, []string{"tok_visa_chargeDeclinedLostCard"},
		testCardDetails("visa", "9987", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineLostCard}},
	{[]string{"pm_card_visa_chargeDeclinedStolenCard"}, []string{"tok_visa_chargeDeclinedStolenCard"},
		testCardDetails("visa", "9979", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineStolenCard}},
	{[]string{"pm_card_chargeDeclinedExpiredCard", "pm_card_visa_chargeDeclinedExpiredCard"}, []string{"tok_chargeDeclinedExpiredCard"},
		testCardDetails("visa", "0069", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineExpiredCard}},
	{[]string{"pm_card_chargeDeclinedIncorrectCvc", "pm_card_visa_chargeDeclinedIncorrectCvc"}, []string{"tok_chargeDeclinedIncorrectCvc"},
		testCardDetails("visa", "0127", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineIncorrectCVC}},
	{[]string{"pm_card_chargeDeclinedProcessingError", "pm_card_visa_chargeDeclinedProcessingError"}, []string{"tok_chargeDeclinedProcessingError"},
		testCardDetails("visa", "0119", "credit"), billing.CardBehavior{DeclineOnAttach: billing.DeclineProcessingError}},
	{[]string{"pm_card_chargeCustomerFail"}, []string{"tok_chargeCustomerFail"},
		testCardDetails("visa", "0341", "credit"), billing.CardBehavior{DeclineCharges: billing.DeclineGeneric}},
	{[]string{"pm_card_authenticationRequired"}, []string{"tok_authenticationRequired"},
		testCardDetails("visa", "3184", "credit"), billing.CardBehavior{RequiresAuthentication: true}},
}

// magicPaymentMethod resolves one of Stripe's test payment method ids
// (pm_card_visa, ...) to the payment method it stands for, attached to no
// one. Stored payment methods take precedence (see ledger.PaymentMethod):
// this lets a customer whose invoice_settings.default_payment_method is a
// magic id be charged with that card.
// (At Stripe, using a magic id attaches a new pm_... object to the
// customer; once billclock does so, this fallback only serves data stored
// before.)
func magicPaymentMethod(id string) (*billing.PaymentMethod, bool) {
	if !strings.HasPrefix(id, "pm_card_") {
		return nil, false
	}
	for _, tc := range testCards {
		for _, m := range tc.methods {
			if m == id {
				return &billing.PaymentMethod{ID: id, Type: "card", Card: tc.card, Behavior: tc.behavior}, true
			}
		}
	}
	return nil, false
}

// paymentMethodParam resolves the payment method id given in param to be
// charged for customer: a stored one attached to customer (or to no one),
// or one of Stripe's test ids.
func paymentMethodParam(l *ledger, id, customer, param string) (*billing.PaymentMethod, error) {
	pm, err := l.PaymentMethod(id)
	if isMissing(err) {
		return nil, errNoSuch("PaymentMethod", id, param)
	}
	if err != nil {
		return nil, err
	}
	if pm.Customer != "" && pm.Customer != customer {
		return nil, invalid(param, "The PaymentMethod %s does not belong to the Customer %s. "+
			"Please use a PaymentMethod belonging to the Customer.", id, customer)
	}
	return pm, nil
}
