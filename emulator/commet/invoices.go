package commet

import (
	"encoding/json"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file serves invoices: list (by customer, status or subscription)
// and retrieve, with their line items.

var invoiceStatuses = map[string]bool{"draft": true, "outstanding": true, "paid": true, "void": true, "uncollectible": true}

func (s *Surface) retrieveInvoice(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	inv, err := l.Invoice(c.vars["id"])
	if err != nil {
		return nil, err
	}
	return s.renderInvoice(l, inv), nil
}

func (s *Surface) listInvoices(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	custRef, hasCust := c.p.str("customerId", maxText)
	status, hasStatus := c.p.str("status", 20)
	subID, hasSub := c.p.str("subscriptionId", maxText)
	if hasStatus && !invoiceStatuses[status] {
		c.p.fail("status", "Expected one of draft, outstanding, paid, void, uncollectible.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	custID := ""
	if hasCust {
		cust, _, err := s.customer(l, custRef)
		if err != nil {
			return nil, err
		}
		custID = cust.ID
	}
	coll, err := l.Collection(clockwork.InvoicesCollection)
	if err != nil {
		return nil, err
	}
	var match func([]byte) (bool, error)
	if hasCust || hasStatus || hasSub {
		match = func(raw []byte) (bool, error) {
			var inv billing.Invoice
			if err := json.Unmarshal(raw, &inv); err != nil {
				return false, err
			}
			return (!hasCust || inv.Customer == custID) && (!hasStatus || invoiceStatus(&inv) == status) &&
				(!hasSub || inv.Subscription == subID), nil
		}
	}
	return listPage(coll, limit, cursor, match, func(raw []byte) (any, error) {
		var inv billing.Invoice
		if err := json.Unmarshal(raw, &inv); err != nil {
			return nil, err
		}
		return s.renderInvoice(l, &inv), nil
	})
}
