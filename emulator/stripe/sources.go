package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// createCustomerSource serves POST /v1/customers/{customer}/sources: a
// legacy card made from a test token (source=tok_...) and attached to the
// customer, who gets it as default source if it had none, as at Stripe.
func (s *Surface) createCustomerSource(c *call, tx *store.Tx) (any, error) {
	source, ok := c.p.str("source")
	if !ok {
		c.p.fail(errMissing("source"))
	}
	metadata, _ := c.p.metadata("metadata")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, now, err := l.customerNow(c.vars["customer"], "customer", c.now.Unix())
	if err != nil {
		return nil, err
	}
	card, err := l.sourceFromToken(source, "source", now)
	if err != nil {
		return nil, err
	}
	card.Metadata = applyMetadata(nil, metadata, false)
	if err := l.Engine().AttachPaymentMethod(card, cust, now); err != nil {
		return nil, stripeError(err, opAttach)
	}
	if cust.DefaultSource == "" {
		before := *cust
		cust.DefaultSource = card.ID
		if err := l.PutCustomer(cust); err != nil {
			return nil, err
		}
		if err := l.Emit(billing.Event{Type: billing.EventCustomerUpdated, Time: now, Object: cust, Before: &before}); err != nil {
			return nil, err
		}
	}
	return renderCard(card), nil
}

// deleteCustomerSource serves DELETE /v1/customers/{customer}/sources/{id}:
// the card is detached from the customer (and is no longer its default
// source) and can never be used again.
func (s *Surface) deleteCustomerSource(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	card, err := l.customerPaymentMethod(c.vars["customer"], c.vars["id"], true)
	if err != nil {
		return nil, err
	}
	cust, err := l.Customer(card.Customer)
	if err != nil {
		return nil, err
	}
	now, err := l.TimeOn(cust.Clock, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if err := l.Engine().DetachPaymentMethod(card, now); err != nil {
		return nil, err
	}
	return renderDeleted(card.ID, "card"), nil
}
