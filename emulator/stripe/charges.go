package stripe

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves charges (/v1/charges), read-only: every charge is made
// by a payment's attempt (a PaymentIntent's confirmation or an invoice's
// collection).

func (s *Surface) retrieveCharge(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(chargeExpansions...)
	if err != nil {
		return nil, err
	}
	l, ch, err := openByID(s, c, tx, (*ledger).Charge)
	if err != nil {
		return nil, err
	}
	return renderChargeEx(ch, l, expandSet(ex))
}

func (s *Surface) listCharges(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	intent, _ := c.p.str("payment_intent")
	c.p.str("transfer_group")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(chargeExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.ChargesCollection)
	if err != nil {
		return nil, err
	}
	match := func(ch *billing.Charge) bool {
		return (customer == "" || ch.Customer == customer) && (intent == "" || ch.Payment == intent) && created.match(ch.Created)
	}
	return listTyped(coll, pg, "/v1/charges", "charge", match, func(ch *billing.Charge) (any, error) {
		return renderChargeEx(ch, l, expandSet(ex))
	})
}
