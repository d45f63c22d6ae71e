package stripe

import (
	"github.com/billclock/billclock/emulator/clockwork"
)

// stripeNouns are Stripe's names of the runtime's kinds of objects in
// "No such ..." errors; a kind not here is named as it is.
var stripeNouns = map[string]string{
	clockwork.KindClock:              "billingclock",
	clockwork.KindSubscriptionItem:   "subscription item",
	clockwork.KindInvoiceItem:        "invoiceitem",
	clockwork.KindPaymentMethod:      "PaymentMethod",
	clockwork.KindPayment:            "payment_intent",
	clockwork.KindInvoicePayment:     "invoice payment",
	clockwork.KindBalanceTransaction: "customer balance transaction",
	clockwork.KindEndpoint:           "webhook endpoint",
	clockwork.KindPromotionCode:      "promotion code",
	clockwork.KindTaxRate:            "tax rate",
	clockwork.KindSetup:              "setupintent",
}

// noSuchMessage is Stripe's message for a missing object of the runtime's
// kind with id, e.g. "No such billingclock: 'clock_x'".
func noSuchMessage(kind, id string) string {
	noun, ok := stripeNouns[kind]
	if !ok {
		noun = kind
	}
	return "No such " + noun + ": '" + id + "'"
}
