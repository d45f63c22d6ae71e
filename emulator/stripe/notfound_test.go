package stripe

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// TestNotFoundWording: the runtime names missing objects by neutral
// kinds; Stripe's envelope words each as Stripe does.
func TestNotFoundWording(t *testing.T) {
	for kind, want := range map[string]string{
		clockwork.KindCustomer:           "No such customer: 'x_1'",
		clockwork.KindProduct:            "No such product: 'x_1'",
		clockwork.KindPrice:              "No such price: 'x_1'",
		clockwork.KindSubscription:       "No such subscription: 'x_1'",
		clockwork.KindSubscriptionItem:   "No such subscription item: 'x_1'",
		clockwork.KindInvoice:            "No such invoice: 'x_1'",
		clockwork.KindInvoiceItem:        "No such invoiceitem: 'x_1'",
		clockwork.KindClock:              "No such billingclock: 'x_1'",
		clockwork.KindPaymentMethod:      "No such PaymentMethod: 'x_1'",
		clockwork.KindPayment:            "No such payment_intent: 'x_1'",
		clockwork.KindCharge:             "No such charge: 'x_1'",
		clockwork.KindInvoicePayment:     "No such invoice payment: 'x_1'",
		clockwork.KindBalanceTransaction: "No such customer balance transaction: 'x_1'",
		clockwork.KindEvent:              "No such event: 'x_1'",
		clockwork.KindEndpoint:           "No such webhook endpoint: 'x_1'",
	} {
		e, ok := apiError(billing.NotFoundError(kind, "x_1", "id"))
		assert.True(t, ok, kind)
		assert.Equal(t, &Error{Status: 404, Type: typeInvalidRequest, Code: "resource_missing", Param: "id", Message: want}, e, kind)
	}
}
