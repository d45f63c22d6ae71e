package chargebee

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// invoiceStatuses are the statuses invoice lists filter by.
var invoiceStatuses = []string{"paid", "posted", "payment_due", "not_paid", "voided", "pending"}

func (s *Surface) retrieveInvoice(c *call) (any, error) {
	inv, err := c.l.Invoice(c.vars["id"])
	if err != nil {
		return nil, err
	}
	o, err := renderInvoice(inv, c.l)
	if err != nil {
		return nil, err
	}
	return map[string]any{"invoice": o}, nil
}

func (s *Surface) listInvoices(c *call) (any, error) {
	customer := c.p.strFilter("customer_id", nil)
	subscription := c.p.strFilter("subscription_id", nil)
	status := c.p.strFilter("status", invoiceStatuses)
	_, desc := c.p.sortBy("date")
	return c.list(listing{coll: clockwork.InvoicesCollection, asc: !desc,
		match: func(raw []byte) (bool, error) {
			if !customer.set() && !subscription.set() && !status.set() {
				return true, nil
			}
			var inv billing.Invoice
			if err := json.Unmarshal(raw, &inv); err != nil {
				return false, err
			}
			st, _ := invoiceStatus(&inv)
			return customer.match(inv.Customer) && subscription.match(inv.Subscription) && status.match(st), nil
		},
		entry: func(raw []byte) (any, error) {
			var inv billing.Invoice
			if err := json.Unmarshal(raw, &inv); err != nil {
				return nil, err
			}
			o, err := renderInvoice(&inv, c.l)
			if err != nil {
				return nil, err
			}
			return map[string]any{"invoice": o}, nil
		}})
}

// collectPayment serves POST /invoices/{id}/collect_payment: the invoice
// (payment_due or not_paid) is charged at once to payment_source_id, or
// to the customer's card. Paid, it answers {invoice, transaction}; a
// decline keeps the failed transaction and answers 402.
func (s *Surface) collectPayment(c *call) (any, error) {
	inv, err := c.l.Invoice(c.vars["id"])
	if err != nil {
		return nil, err
	}
	source := c.readID("payment_source_id", false)
	if _, ok := c.p.str("amount"); ok {
		if n, ok := c.p.int64("amount", 0, billing.MaxAmount); ok && n != max(inv.AmountDue()-inv.AmountPaid, 0) {
			c.p.fail(errParam("amount", "billclock collects the whole amount due: partial payments are not supported"))
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	now, err := c.siteNow(true)
	if err != nil {
		return nil, err
	}
	var opts billing.PayOptions
	if source != "" {
		pm, err := c.l.PaymentMethod(source)
		if err != nil || pm.Customer != inv.Customer {
			return nil, errParam("payment_source_id", "the payment source "+source+" is not the customer's")
		}
		opts.PaymentMethod = pm
	}
	// A charge made here is a manual collection, not a dunning attempt.
	c.l.Recorder().(*recorder).manual = true
	payErr := c.l.Engine().Pay(inv, opts, now)
	if _, declined := payErr.(*billing.Declined); payErr != nil && !declined {
		return nil, payErr
	}
	inv, err = c.l.Invoice(inv.ID)
	if err != nil {
		return nil, err
	}
	if payErr != nil {
		e, _ := apiError(payErr)
		return &committedError{err: e}, nil
	}
	io, err := renderInvoice(inv, c.l)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"invoice": io}
	if inv.Payment != "" {
		p, err := c.l.Payment(inv.Payment)
		if err != nil {
			return nil, err
		}
		if p.LatestCharge != "" {
			ch, err := c.l.Charge(p.LatestCharge)
			if err != nil {
				return nil, err
			}
			out["transaction"] = renderTransaction(ch, io, c.l)
		}
	}
	return out, nil
}
