package stripe

import (
	"errors"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves what invoice collection leaves behind: invoice
// payments and customer balance transactions; and words the engine's
// declines of invoice payments as Stripe's errors.

func (s *Surface) retrieveInvoicePayment(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(invoicePaymentExpansions...)
	if err != nil {
		return nil, err
	}
	l, ip, err := openByID(s, c, tx, (*ledger).InvoicePayment)
	if err != nil {
		return nil, err
	}
	return renderInvoicePayment(ip, l, expandSet(ex))
}

func (s *Surface) listInvoicePayments(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	invoice, _ := c.p.str("invoice")
	status, _ := c.p.enum("status", "canceled", "open", "paid")
	created := rangeParam(c.p, "created")
	var paymentType, paymentIntent string
	if payment, ok := c.p.sub("payment"); ok {
		paymentType, _ = payment.enum("payment[type]", "payment_intent", "payment_record")
		paymentIntent, _ = payment.str("payment[payment_intent]")
		payment.str("payment[payment_record]")
		c.p.fail(payment.check())
	}
	ex, err := c.p.expansions(invoicePaymentExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.InvoicePaymentsCollection)
	if err != nil {
		return nil, err
	}
	match := func(ip *billing.InvoicePayment) bool {
		return (invoice == "" || ip.Invoice == invoice) && (status == "" || string(ip.Status) == status) &&
			(paymentType == "" || paymentType == "payment_intent") &&
			(paymentIntent == "" || ip.Payment == paymentIntent) && created.match(ip.Created)
	}
	return listTyped(coll, pg, "/v1/invoice_payments", "invoice payment", match, func(ip *billing.InvoicePayment) (any, error) {
		return renderInvoicePayment(ip, l, expandSet(ex))
	})
}

// balanceTransaction loads a customer balance transaction.
func (l *ledger) balanceTransaction(id string) (*billing.BalanceTransaction, error) {
	var bt billing.BalanceTransaction
	return &bt, l.Get(clockwork.BalanceTxnsCollection, clockwork.KindBalanceTransaction, id, &bt)
}

// balanceCustomer checks that the customer of the path exists.
func (s *Surface) balanceCustomer(l *ledger, c *call) (string, error) {
	cust, err := l.Customer(c.vars["customer"])
	if err != nil {
		return "", withParam(err, "customer")
	}
	return cust.ID, nil
}

func (s *Surface) retrieveBalanceTransaction(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(balanceTransactionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	customer, err := s.balanceCustomer(l, c)
	if err != nil {
		return nil, err
	}
	bt, err := l.balanceTransaction(c.vars["id"])
	if err == nil && bt.Customer != customer {
		err = billing.NotFoundError(clockwork.KindBalanceTransaction, c.vars["id"], "id")
	}
	if err != nil {
		return nil, err
	}
	return renderBalanceTransaction(bt, l, expandSet(ex))
}

func (s *Surface) listBalanceTransactions(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	invoice, _ := c.p.str("invoice")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(balanceTransactionExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	customer, err := s.balanceCustomer(l, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.BalanceTxnsCollection)
	if err != nil {
		return nil, err
	}
	match := func(bt *billing.BalanceTransaction) bool {
		return bt.Customer == customer && (invoice == "" || bt.Invoice == invoice) && created.match(bt.Created)
	}
	return listTyped(coll, pg, "/v1/customers/"+customer+"/balance_transactions", "customer balance transaction", match,
		func(bt *billing.BalanceTransaction) (any, error) {
			return renderBalanceTransaction(bt, l, expandSet(ex))
		})
}

// errNoPaymentMethod is Stripe's answer to paying an invoice of a customer
// with nothing to charge.
func errNoPaymentMethod() *Error {
	return invalid("", "This customer has no attached payment source or default payment method. "+
		"Please consider adding a default payment method. For more information, visit "+
		"https://stripe.com/docs/billing/subscriptions/payment-methods-setting#payment-method-priority.")
}

// invoiceDeclineError words an engine decline of an invoice's payment as
// Stripe does: a 402 card_error carrying the failed charge, the
// PaymentIntent and the payment method (declineError); for a card that
// needs authentication, the invoice's own requires-action error; with
// nothing to charge, a 400.
func invoiceDeclineError(l *ledger, d *billing.Declined) (*Error, error) {
	if d.Reason == billing.DeclineNoPaymentMethod {
		return errNoPaymentMethod(), nil
	}
	e, err := declineError(l, d)
	if err != nil {
		return nil, err
	}
	if d.Reason == billing.DeclineAuthenticationRequired {
		e.Code, e.DeclineCode = "invoice_payment_intent_requires_action", ""
		e.Message = "This payment requires additional user action before it can be completed successfully. " +
			"Payment can be completed using the PaymentIntent associated with the invoice. " +
			"For more details see: https://stripe.com/docs/billing/subscriptions/overview#requires-action"
	}
	return e, nil
}

// asDecline turns an engine decline into Stripe's error, and leaves any
// other error as it is.
func asDecline(l *ledger, err error) error {
	var d *billing.Declined
	if !errors.As(err, &d) {
		return err
	}
	e, rerr := invoiceDeclineError(l, d)
	if rerr != nil {
		return rerr
	}
	return e
}
