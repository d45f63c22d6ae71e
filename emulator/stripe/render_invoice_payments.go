package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
)

// This file renders what invoice collection makes: invoice payments and
// customer balance transactions (components.schemas.invoice_payment and
// customer_balance_transaction at 2026-08-26.dahlia).

// invoicePaymentObject is components.schemas.invoice_payment.
type invoicePaymentObject struct {
	ID                string                   `json:"id"`
	Object            string                   `json:"object"`
	AmountPaid        *int64                   `json:"amount_paid"`
	AmountRequested   int64                    `json:"amount_requested"`
	Created           int64                    `json:"created"`
	Currency          string                   `json:"currency"`
	Invoice           any                      `json:"invoice"`
	IsDefault         bool                     `json:"is_default"`
	Livemode          bool                     `json:"livemode"`
	Payment           invoicePaymentRef        `json:"payment"`
	Status            string                   `json:"status"`
	StatusTransitions invoicePaymentTransition `json:"status_transitions"`
}

// invoicePaymentRef is invoices_payments_invoice_payment_associated_payment:
// billclock's invoice payments are always PaymentIntents.
type invoicePaymentRef struct {
	Type          string `json:"type"`
	PaymentIntent any    `json:"payment_intent"`
}

// invoicePaymentTransition is
// invoices_payments_invoice_payment_status_transitions.
type invoicePaymentTransition struct {
	CanceledAt *int64 `json:"canceled_at"`
	PaidAt     *int64 `json:"paid_at"`
}

// invoicePaymentExpansions are the paths expand[] may name on an invoice
// payment.
var invoicePaymentExpansions = []string{"invoice", "payment.payment_intent"}

// renderInvoicePayment renders an invoice payment; invoice and
// payment.payment_intent are expandable.
func renderInvoicePayment(ip *billing.InvoicePayment, lk renderLookup, ex expandSet) (any, error) {
	o := &invoicePaymentObject{ID: ip.ID, Object: "invoice_payment", AmountRequested: ip.AmountRequested,
		Created: ip.Created, Currency: ip.Currency, IsDefault: ip.IsDefault, Status: string(ip.Status),
		StatusTransitions: invoicePaymentTransition{CanceledAt: nullTime(ip.CanceledAt), PaidAt: nullTime(ip.PaidAt)}}
	if ip.Status == billing.InvoicePaymentPaid {
		paid := ip.AmountPaid
		o.AmountPaid = &paid
	}
	var err error
	o.Invoice, err = expandable(ex, "invoice", ip.Invoice, lookupAndRender(lk.Invoice, ip.Invoice, func(inv *billing.Invoice) (any, error) {
		return renderInvoice(inv, lk, nil)
	}))
	if err != nil {
		return nil, err
	}
	o.Payment.Type = "payment_intent"
	o.Payment.PaymentIntent, err = expandable(ex, "payment.payment_intent", ip.Payment,
		lookupAndRender(lk.Payment, ip.Payment, func(p *billing.Payment) (any, error) {
			return renderPaymentIntent(p, lk)
		}))
	return o, err
}

// invoicePaymentList is the list an invoice's payments field holds.
type invoicePaymentList struct {
	Object  string `json:"object"`
	Data    []any  `json:"data"`
	HasMore bool   `json:"has_more"`
	URL     string `json:"url"`
}

// renderInvoicePayments renders an invoice's payments, as its expanded
// payments field shows them.
func renderInvoicePayments(inv *billing.Invoice, lk renderLookup) (*invoicePaymentList, error) {
	ips, err := lk.InvoicePayments(inv.ID)
	if err != nil {
		return nil, err
	}
	out := &invoicePaymentList{Object: "list", Data: make([]any, 0, len(ips)),
		URL: "/v1/invoice_payments?invoice=" + inv.ID}
	for _, ip := range ips {
		o, err := renderInvoicePayment(ip, lk, nil)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, o)
	}
	return out, nil
}

// balanceTransactionObject is components.schemas.customer_balance_transaction.
type balanceTransactionObject struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Amount          int64             `json:"amount"`
	CheckoutSession any               `json:"checkout_session"`
	Created         int64             `json:"created"`
	CreditNote      any               `json:"credit_note"`
	Currency        string            `json:"currency"`
	Customer        any               `json:"customer"`
	CustomerAccount *string           `json:"customer_account"`
	Description     *string           `json:"description"`
	EndingBalance   int64             `json:"ending_balance"`
	Invoice         any               `json:"invoice"`
	Livemode        bool              `json:"livemode"`
	Metadata        map[string]string `json:"metadata"`
	Type            string            `json:"type"`
}

// balanceTransactionExpansions are the paths expand[] may name on a
// customer balance transaction.
var balanceTransactionExpansions = []string{"customer", "invoice"}

// renderBalanceTransaction renders a customer balance transaction;
// customer and invoice are expandable.
func renderBalanceTransaction(bt *billing.BalanceTransaction, lk renderLookup, ex expandSet) (any, error) {
	o := &balanceTransactionObject{ID: bt.ID, Object: "customer_balance_transaction", Amount: bt.Amount,
		Created: bt.Created, Currency: bt.Currency, Description: nullString(bt.Description),
		EndingBalance: bt.EndingBalance, Metadata: metadata(bt.Metadata), Type: string(bt.Type)}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", bt.Customer, lk); err != nil {
		return nil, err
	}
	o.Invoice, err = expandable(ex, "invoice", bt.Invoice, lookupAndRender(lk.Invoice, bt.Invoice, func(inv *billing.Invoice) (any, error) {
		return renderInvoice(inv, lk, nil)
	}))
	return o, err
}
