package stripe

import (
	"fmt"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
)

// invoicingMessages words the error codes of invoicing by hand, collection
// by sending and previews (see engineMessages). Stripe's own texts where
// they are known; the others are billclock's, in Stripe's manner.
var invoicingMessages = map[billing.Code]func(e *billing.Error) string{
	billing.CodePriceNotOneTime: func(*billing.Error) string {
		return "The price specified is set to `type=recurring` but this field only accepts prices with `type=one_time`."
	},
	billing.CodeItemPeriodReversed: func(*billing.Error) string {
		return "The period end must be at or after its start."
	},
	billing.CodeInvoiceNotEditable: func(e *billing.Error) string {
		if e.Param == "invoice" {
			return fmt.Sprintf("You can only add invoice items to draft invoices; the invoice %s is %s.", e.ID, e.Status)
		}
		return fmt.Sprintf("Only draft invoices can change %s; this invoice is %s.", e.Param, e.Status)
	},
	billing.CodeInvoiceNotDeletable: func(e *billing.Error) string {
		if e.Status == string(billing.InvoiceDraft) {
			return "You can't delete invoices created by subscriptions. Void the invoice instead."
		}
		return fmt.Sprintf("You can only delete draft invoices; this invoice is %s. Void the invoice instead.", e.Status)
	},
	billing.CodeInvoiceNotOpen: func(e *billing.Error) string {
		return fmt.Sprintf("You can only mark open invoices as uncollectible; this invoice is %s.", e.Status)
	},
	billing.CodeInvoiceItemLocked: func(e *billing.Error) string {
		return fmt.Sprintf("The invoice item %s is on the invoice %s, which is finalized: "+
			"only pending invoice items and those on draft invoices can change.", e.ID, e.Value)
	},
	billing.CodeInvoiceItemNotPending: func(e *billing.Error) string {
		return fmt.Sprintf("The invoice item %s is already on the invoice %s.", e.ID, e.Value)
	},
	billing.CodeCustomerMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("The %s %s belongs to the customer %s, not %s.", strings.ReplaceAll(e.Resource, "_", " "), e.ID, e.Value, e.Want)
	},
	billing.CodeInvoiceCurrencyMismatch: func(e *billing.Error) string {
		return fmt.Sprintf("The invoice %s is in %s: an item in %s cannot go on it.", e.ID, e.Want, e.Value)
	},
	billing.CodeLineNotRemovable: func(e *billing.Error) string {
		return fmt.Sprintf("The line %s bills a subscription item: only lines of invoice items can be removed.", e.ID)
	},
	billing.CodeFinalizeAtNotFuture: func(*billing.Error) string {
		return "automatically_finalizes_at must be in the future."
	},
	billing.CodeAmountWithQuantity: func(*billing.Error) string {
		return "An invoice item priced by its amount has a quantity of 1. To bill a quantity, price it with pricing[price] or price_data."
	},
	billing.CodeDueDateRequired: func(*billing.Error) string {
		return "When collection_method is send_invoice, days_until_due (or, for an invoice, due_date) is required."
	},
	billing.CodeDueDateNotSending: func(e *billing.Error) string {
		return fmt.Sprintf("%s is only valid when collection_method is send_invoice.", e.Param)
	},
	billing.CodeDaysUntilDueRange: func(e *billing.Error) string {
		return fmt.Sprintf("days_until_due must be from %d to %d days.", e.Min, e.Max)
	},
	billing.CodeDueDateNotFuture: func(*billing.Error) string { return "due_date must be in the future." },
	billing.CodeInvoiceNotSendable: func(e *billing.Error) string {
		return fmt.Sprintf("You can't send a %s invoice.", e.Status)
	},
	billing.CodeNoUpcomingInvoice: func(e *billing.Error) string {
		return "No upcoming invoices for customer: " + e.Value
	},
}

// noUpcomingInvoice is Stripe's error for a preview of nothing to come
// (code invoice_upcoming_none), or nil if err is not one.
func noUpcomingInvoice(err error) *Error {
	be, ok := err.(*billing.Error)
	if !ok || be.Code != billing.CodeNoUpcomingInvoice {
		return nil
	}
	e := invalid("", "No upcoming invoices for customer: %s", be.Value)
	e.Code = "invoice_upcoming_none"
	return e
}
