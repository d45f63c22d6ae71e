package commet

import (
	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file serves seats: add, remove, set, bulk set, one balance and all
// balances, per customer and seats feature. The customer needs exactly one
// active (or trialing, or past due) subscription; changes are billed at
// its next renewal (an advance for the next period and a day-prorated
// true-up of the period that ended), removals take effect at the period's
// end without refunds (the engine's unit billing, units.go).

// seatHolder resolves a seats request: the customer (by any of its ids)
// and the subscription that holds its seats.
func (s *Surface) seatHolder(l *clockwork.Ledger, custRef string) (*billing.Customer, *billing.Subscription, *subscriptionRecord, error) {
	cust, crec, err := s.customer(l, custRef)
	if err != nil {
		return nil, nil, nil, err
	}
	var subs []*billing.Subscription
	for _, id := range crec.Subscriptions {
		sub, err := l.Subscription(id)
		if err != nil {
			return nil, nil, nil, err
		}
		subs = append(subs, sub)
	}
	sub, err := billing.UnitHolder(subs)
	if err != nil {
		return nil, nil, nil, err
	}
	rec, err := subscriptionRec(l, sub.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	return cust, sub, rec, nil
}

// featureCode reads featureCode, or the older seatType.
func featureCode(p *params, required bool) string {
	code, ok := p.str("featureCode", 100)
	if !ok && !p.failed("featureCode") {
		code, ok = p.str("seatType", 100)
	}
	if !ok && required && !p.failed("featureCode") && !p.failed("seatType") {
		p.fail("featureCode", "Required.")
	}
	return code
}

// seatTermsFor is the subscription's seats feature code.
func seatTermsFor(sub *billing.Subscription, rec *subscriptionRecord, code string) (seatTerms, error) {
	for _, st := range rec.Seats {
		if st.Code == code && sub.UnitItem(code) != nil {
			return st, nil
		}
	}
	return seatTerms{}, notFound("feature_not_found", "Feature not found: %s is not a seats feature of the customer's plan.", code)
}

// changeSeats applies one change and answers its seat event.
func (s *Surface) changeSeats(c *call, l *clockwork.Ledger, op billing.UnitOp) (any, error) {
	custRef := c.p.requiredStr("customerId", maxText)
	code := featureCode(c.p, true)
	min := int64(1)
	if op == billing.UnitsSet {
		min = 0
	}
	count, ok := c.p.int("count", min, billing.MaxQuantity)
	if !ok && !c.p.failed("count") {
		c.p.fail("count", "Required.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	cust, sub, rec, err := s.seatHolder(l, custRef)
	if err != nil {
		return nil, err
	}
	st, err := seatTermsFor(sub, rec, code)
	if err != nil {
		return nil, err
	}
	after := count
	if held := sub.UnitItem(code).Quantity; op == billing.UnitsAdd {
		after = held + count
	}
	if op != billing.UnitsRemove {
		if err := checkSeatLimit(st, after); err != nil {
			return nil, err
		}
	}
	chs, err := l.Engine().ChangeUnits(sub.ID, []billing.UnitRequest{{Feature: code, Op: op, Count: count}}, at)
	if err != nil {
		return nil, err
	}
	c.status = 201
	if op == billing.UnitsSet {
		c.status = 200
	}
	return c.renderSeatEvent(&chs[0], cust.ID), nil
}

func (s *Surface) addSeats(c *call, l *clockwork.Ledger) (any, error) {
	return s.changeSeats(c, l, billing.UnitsAdd)
}

func (s *Surface) removeSeats(c *call, l *clockwork.Ledger) (any, error) {
	return s.changeSeats(c, l, billing.UnitsRemove)
}

func (s *Surface) setSeats(c *call, l *clockwork.Ledger) (any, error) {
	return s.changeSeats(c, l, billing.UnitsSet)
}

// bulkSetSeats sets several seats features at once, all or none.
func (s *Surface) bulkSetSeats(c *call, l *clockwork.Ledger) (any, error) {
	custRef := c.p.requiredStr("customerId", maxText)
	seats, ok := c.p.counts("seats", 0, billing.MaxQuantity)
	if !ok && !c.p.failed("seats") {
		c.p.fail("seats", "Required: an object of counts by feature code.")
	} else if ok && len(seats) == 0 {
		c.p.fail("seats", "Give at least one feature code.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	cust, sub, rec, err := s.seatHolder(l, custRef)
	if err != nil {
		return nil, err
	}
	reqs := make([]billing.UnitRequest, 0, len(seats))
	for _, sc := range seats {
		st, err := seatTermsFor(sub, rec, sc.Code)
		if err != nil {
			return nil, err
		}
		if err := checkSeatLimit(st, sc.Count); err != nil {
			return nil, err
		}
		reqs = append(reqs, billing.UnitRequest{Feature: sc.Code, Op: billing.UnitsSet, Count: sc.Count})
	}
	chs, err := l.Engine().ChangeUnits(sub.ID, reqs, at)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(chs))
	for i := range chs {
		out[i] = c.renderSeatEvent(&chs[i], cust.ID)
	}
	if c.legacy {
		return out, nil
	}
	return &listResult{Data: out}, nil
}

func (s *Surface) seatBalance(c *call, l *clockwork.Ledger) (any, error) {
	custRef := c.p.requiredStr("customerId", maxText)
	code := featureCode(c.p, true)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := viewNow(c, l)
	if err != nil {
		return nil, err
	}
	cust, sub, rec, err := s.seatHolder(l, custRef)
	if err != nil {
		return nil, err
	}
	if _, err := seatTermsFor(sub, rec, code); err != nil {
		return nil, err
	}
	obj := "seat_balance"
	if c.legacy {
		obj = "seat"
	}
	return map[string]any{"customerId": cust.ID, "featureCode": code, "current": sub.UnitItem(code).Quantity,
		"asOf": iso(at), "object": obj, "livemode": false}, nil
}

func (s *Surface) seatBalances(c *call, l *clockwork.Ledger) (any, error) {
	custRef := c.p.requiredStr("customerId", maxText)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := viewNow(c, l)
	if err != nil {
		return nil, err
	}
	cust, sub, rec, err := s.seatHolder(l, custRef)
	if err != nil {
		return nil, err
	}
	balances := map[string]any{}
	for _, st := range rec.Seats {
		if it := sub.UnitItem(st.Code); it != nil {
			balances[st.Code] = map[string]any{"current": it.Quantity, "asOf": iso(at)}
		}
	}
	obj := "seat_balance_collection"
	if c.legacy {
		obj = "seat"
	}
	return map[string]any{"customerId": cust.ID, "balances": balances, "object": obj, "livemode": false}, nil
}
