package stripe

import (
	"errors"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

var invoiceExpansions = []string{"customer", "test_clock", "payments", "discounts"}

// openInvoice opens the account's ledger and loads the invoice the path
// names, with the time of its clock.
func (s *Surface) openInvoice(c *call, tx *store.Tx) (*ledger, *billing.Invoice, int64, error) {
	return onClock(s, c, tx, (*ledger).Invoice, func(inv *billing.Invoice) string { return inv.Clock })
}

func (s *Surface) retrieveInvoice(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, inv, err := openByID(s, c, tx, (*ledger).Invoice)
	if err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}

func (s *Surface) listInvoices(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	subscription, _ := c.p.str("subscription")
	status, _ := c.p.enum("status", "draft", "open", "paid", "uncollectible", "void")
	collection, _ := c.p.enum("collection_method", chargeAutomatically, sendInvoice)
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.InvoicesCollection)
	if err != nil {
		return nil, err
	}
	match := func(inv *billing.Invoice) bool {
		return (customer == "" || inv.Customer == customer) &&
			(subscription == "" || inv.Subscription == subscription) &&
			(status == "" || string(inv.Status) == status) && created.match(inv.Created) &&
			(collection == "" || collectionMethod(inv.CollectionMethod) == collection)
	}
	return listTyped(coll, pg, "/v1/invoices", "invoice", match, func(inv *billing.Invoice) (any, error) {
		return renderInvoice(inv, l, expandSet(ex))
	})
}

func (s *Surface) listInvoiceLines(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	if _, err := c.p.expansions(); err != nil {
		return nil, err
	}
	l, inv, err := openByID(s, c, tx, (*ledger).Invoice)
	if err != nil {
		return nil, err
	}
	// Lines keep the invoice's order, as Stripe lists them.
	ids := make([]string, len(inv.Lines))
	byID := map[string]billing.InvoiceLine{}
	for i, line := range inv.Lines {
		ids[i] = line.ID
		byID[line.ID] = line
	}
	return listSlice(ids, pg, "/v1/invoices/"+inv.ID+"/lines", "line_item", func(id string) (any, error) {
		return renderInvoiceLine(byID[id], inv, l)
	})
}

// invoiceAction serves the invoice state changes (pay, finalize, void).
func (s *Surface) invoiceAction(act func(e *billing.Engine, inv *billing.Invoice, now int64, c *call) error, params ...string) handler {
	return func(c *call, tx *store.Tx) (any, error) {
		autoAdvance, hasAutoAdvance := false, false
		for _, p := range params {
			if p == "auto_advance" {
				autoAdvance, hasAutoAdvance = c.p.bool("auto_advance")
			}
			c.p.seen[p] = true
		}
		ex, err := c.p.expansions(invoiceExpansions...)
		if err != nil {
			return nil, err
		}
		l, inv, now, err := s.openInvoice(c, tx)
		if err != nil {
			return nil, err
		}
		if hasAutoAdvance {
			inv.AutoAdvance = autoAdvance
		}
		if err := act(l.Engine(), inv, now, c); err != nil {
			return nil, err
		}
		return renderInvoice(inv, l, expandSet(ex))
	}
}

// payInvoice pays an invoice at once: with payment_method (or source),
// or the defaults in Stripe's order (the subscription's, then the
// customer's), or out of band. A decline answers 402 while what the
// attempt left (the failed charge, the invoice attempted) is kept.
func (s *Surface) payInvoice(c *call, tx *store.Tx) (any, error) {
	pmID, _ := c.p.str("payment_method")
	source, _ := c.p.str("source")
	outOfBand, _ := c.p.bool("paid_out_of_band")
	c.p.bool("off_session")
	c.p.bool("forgive")
	c.p.str("mandate")
	ex, err := c.p.expansions(invoiceExpansions...)
	if err != nil {
		return nil, err
	}
	l, inv, now, err := s.openInvoice(c, tx)
	if err != nil {
		return nil, err
	}
	opts := billing.PayOptions{OutOfBand: outOfBand}
	for _, given := range []struct{ id, param string }{{pmID, "payment_method"}, {source, "source"}} {
		if given.id != "" && opts.PaymentMethod == nil && !outOfBand {
			opts.PaymentMethod, err = l.paymentMethodToPay(given.id, given.param, inv.Customer, now)
			if isMissing(err) && given.param == "source" {
				return nil, errNoSuch("source", given.id, "source")
			}
			if err != nil {
				return nil, err
			}
		}
	}
	err = l.Engine().Pay(inv, opts, now)
	var d *billing.Declined
	if errors.As(err, &d) {
		e, err := invoiceDeclineError(l, d)
		if err != nil {
			return nil, err
		}
		return failAfterCommit(e), nil
	}
	if err != nil {
		return nil, err
	}
	return renderInvoice(inv, l, expandSet(ex))
}

func (s *Surface) finalizeInvoice() handler {
	return s.invoiceAction(func(e *billing.Engine, inv *billing.Invoice, now int64, _ *call) error {
		return e.Finalize(inv, now)
	}, "auto_advance")
}

func (s *Surface) voidInvoice() handler {
	return s.invoiceAction(func(e *billing.Engine, inv *billing.Invoice, now int64, _ *call) error {
		return e.Void(inv, now)
	})
}

func (s *Surface) retrieveInvoiceItem(c *call, tx *store.Tx) (any, error) {
	if _, err := c.p.expansions("customer", "invoice"); err != nil {
		return nil, err
	}
	l, ii, err := openByID(s, c, tx, (*ledger).InvoiceItem)
	if err != nil {
		return nil, err
	}
	return renderInvoiceItem(ii, l)
}

func (s *Surface) listInvoiceItems(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	invoice, _ := c.p.str("invoice")
	pending, hasPending := c.p.bool("pending")
	created := rangeParam(c.p, "created")
	if _, err := c.p.expansions("customer", "invoice"); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	coll, err := l.Collection(clockwork.InvoiceItemsCollection)
	if err != nil {
		return nil, err
	}
	match := func(ii *billing.InvoiceItem) bool {
		return (customer == "" || ii.Customer == customer) && (invoice == "" || ii.Invoice == invoice) &&
			(!hasPending || pending == (ii.Invoice == "")) && created.match(ii.Date)
	}
	return listTyped(coll, pg, "/v1/invoiceitems", "invoiceitem", match, func(ii *billing.InvoiceItem) (any, error) {
		return renderInvoiceItem(ii, l)
	})
}
