package commet

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
)

// This file serves subscriptions: create (a paid plan waits in
// pending_payment for its checkout, a free one is active at once), get,
// list, the customer's active one, cancel (now or at period end), uncancel
// and reactivate.

// seatPrice is the engine's price of the extra seats of plan feature pf
// under plan price pp: made the first time a subscription needs it.
func (s *Surface) seatPrice(l *clockwork.Ledger, p *planRecord, pp planPrice, st seatTerms, at int64) (string, error) {
	id := fmt.Sprintf("price_%s_%s_%d", pp.ID, st.Code, st.UnitPrice)
	_, err := l.Price(id)
	var be *billing.Error
	if !errors.As(err, &be) || be.Kind != billing.NotFound {
		return id, err
	}
	iv := intervals[pp.Interval]
	return id, l.PutPrice(&billing.Price{ID: id, Created: at, Product: p.Product, Currency: "usd", UnitAmount: st.UnitPrice,
		Recurring: &iv, Active: true, Nickname: st.Name})
}

// seatTermsOf are the seat features of plan p.
func (s *Surface) seatTermsOf(l *clockwork.Ledger, p *planRecord) ([]seatTerms, error) {
	var out []seatTerms
	for _, pf := range p.Features {
		f, err := s.feature(l, pf.FeatureID)
		if err != nil {
			return nil, err
		}
		if f.Type != featureSeats || !pf.Enabled {
			continue
		}
		st := seatTerms{Code: f.Code, Name: f.Name, Included: pf.Included, Unlimited: pf.Unlimited,
			OverageEnabled: pf.OverageEnabled}
		if pf.OverageEnabled {
			st.UnitPrice = pf.UnitPrice
		}
		if pf.Unlimited {
			st.Included = billing.MaxQuantity
		}
		out = append(out, st)
	}
	return out, nil
}

// checkSeatLimit refuses more seats than a plan without overage includes.
func checkSeatLimit(st seatTerms, n int64) error {
	if st.Unlimited || st.OverageEnabled || n <= st.Included {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Type: typeBilling, Code: "seat_limit_exceeded", Param: "count",
		Message: fmt.Sprintf("The plan includes at most %d seats of %s and has no overage.", st.Included, st.Code)}
}

// liveSubscription is a customer's subscription that has not ended, if
// any.
func liveSubscription(l *clockwork.Ledger, rec *customerRecord) (*billing.Subscription, error) {
	for i := len(rec.Subscriptions) - 1; i >= 0; i-- {
		sub, err := l.Subscription(rec.Subscriptions[i])
		if err != nil {
			return nil, err
		}
		if !sub.Ended() {
			return sub, nil
		}
	}
	return nil, nil
}

func (s *Surface) createSubscription(c *call, l *clockwork.Ledger) (any, error) {
	custRef := c.p.requiredStr("customerId", maxText)
	planCode, hasCode := c.p.str("planCode", maxText)
	planID, hasID := c.p.str("planId", maxText)
	interval, hasInterval := c.p.str("billingInterval", 20)
	seats, _ := c.p.counts("initialSeats", 0, billing.MaxQuantity)
	skipTrial, _ := c.p.bool("skipTrial")
	customTrial, hasCustomTrial := c.p.int("customTrialDays", 0, 730)
	name, _ := c.p.str("name", maxText)
	c.p.str("successUrl", 2000)
	c.p.str("provider", 20)
	if c.p.present("startDate") {
		c.p.fail("startDate", "billclock starts subscriptions at the clock's time; startDate is not emulated.")
	}
	if hasCode == hasID && !c.p.failed("planCode") && !c.p.failed("planId") {
		c.p.fail("planId", "Provide exactly one of planId or planCode.")
	}
	if hasInterval {
		if _, ok := intervals[interval]; !ok {
			c.p.fail("billingInterval", "Expected one of weekly, monthly, quarterly, yearly.")
		}
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	cust, crec, err := s.customer(l, custRef)
	if err != nil {
		return nil, err
	}
	ref := planID
	if hasCode {
		ref = planCode
	}
	p, err := s.plan(l, ref)
	if err != nil {
		return nil, err
	}
	var pp *planPrice
	for i := range p.Prices {
		if hasInterval && p.Prices[i].Interval == interval || !hasInterval && p.Prices[i].IsDefault {
			pp = &p.Prices[i]
		}
	}
	if pp == nil {
		if !hasInterval {
			return nil, invalidField("planId", "The plan has no price.")
		}
		return nil, invalidField("billingInterval", "The plan has no %s price.", interval)
	}
	if live, err := liveSubscription(l, crec); err != nil {
		return nil, err
	} else if live != nil {
		return nil, conflict("subscription_exists", "customerId",
			"The customer already has a subscription that has not ended: %s.", live.ID)
	}
	terms, err := s.seatTermsOf(l, p)
	if err != nil {
		return nil, err
	}
	initial := map[string]int64{}
	for _, sc := range seats {
		known := false
		for _, st := range terms {
			if st.Code == sc.Code {
				known = true
				if err := checkSeatLimit(st, sc.Count); err != nil {
					return nil, err
				}
			}
		}
		if !known {
			return nil, invalidField("initialSeats."+sc.Code, "The plan has no seats feature %s.", sc.Code)
		}
		initial[sc.Code] = sc.Count
	}
	in := billing.NewSubscription{Customer: cust.ID, Items: []billing.ItemSpec{{Price: pp.EnginePrice}},
		PaymentBehavior: billing.DefaultIncomplete, IncompleteUntilPaid: true}
	for _, st := range terms {
		price, err := s.seatPrice(l, p, *pp, st, at)
		if err != nil {
			return nil, err
		}
		n := initial[st.Code]
		in.Items = append(in.Items, billing.ItemSpec{Price: price, Quantity: &n,
			Units: &billing.UnitTerms{Feature: st.Code, Included: st.Included}})
	}
	trial := pp.TrialDays
	if hasCustomTrial {
		trial = customTrial
	}
	if trial > 0 && !skipTrial {
		in.TrialEnd = at + trial*86400
	}
	sub, err := l.Engine().CreateSubscription(in, at)
	if err != nil {
		return nil, err
	}
	token := clockwork.NewSecret("cs_", 32)
	rec := &subscriptionRecord{ID: sub.ID, Customer: cust.ID, PlanID: p.ID, PriceID: pp.ID, Interval: pp.Interval,
		Name: name, Seats: terms, CheckoutToken: token, CheckoutURL: baseURL(c.r) + CheckoutPath + token,
		Created: at, Updated: at}
	if err := putSubscriptionRecord(l, rec); err != nil {
		return nil, err
	}
	if err := fileCheckout(l, token, sub.ID); err != nil {
		return nil, err
	}
	crec.Subscriptions = append(crec.Subscriptions, sub.ID)
	if err := putCustomerRecord(l, crec); err != nil {
		return nil, err
	}
	c.status = http.StatusCreated
	return s.renderSubscription(l, sub, rec, at), nil
}

// baseURL is the address the request reached billclock at.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Surface) getSubscription(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := viewNow(c, l)
	if err != nil {
		return nil, err
	}
	sub, rec, err := subscriptionOf(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	return s.renderSubscription(l, sub, rec, at), nil
}

// subscriptionOf is a subscription with its Commet record.
func subscriptionOf(l *clockwork.Ledger, id string) (*billing.Subscription, *subscriptionRecord, error) {
	rec, err := subscriptionRec(l, id)
	if err != nil {
		return nil, nil, err
	}
	sub, err := l.Subscription(id)
	return sub, rec, err
}

var statuses = map[string]bool{"draft": true, "pending_payment": true, "trialing": true, "active": true,
	"past_due": true, "canceled": true}

func (s *Surface) listSubscriptions(c *call, l *clockwork.Ledger) (any, error) {
	limit, cursor := pageOf(c.p)
	custRef, hasCust := c.p.str("customerId", maxText)
	status, hasStatus := c.p.str("status", 20)
	if hasStatus && !statuses[status] {
		c.p.fail("status", "Expected one of draft, pending_payment, trialing, active, past_due, canceled.")
	}
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := viewNow(c, l)
	if err != nil {
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
	coll, err := l.Collection(subscriptionsCollection)
	if err != nil {
		return nil, err
	}
	decode := func(raw []byte) (*billing.Subscription, *subscriptionRecord, error) {
		var rec subscriptionRecord
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil, nil, err
		}
		sub, err := l.Subscription(rec.ID)
		return sub, &rec, err
	}
	return listPage(coll, limit, cursor, func(raw []byte) (bool, error) {
		sub, _, err := decode(raw)
		if err != nil {
			return false, err
		}
		return (!hasCust || sub.Customer == custID) && (!hasStatus || statusOf(sub) == status), nil
	}, func(raw []byte) (any, error) {
		sub, rec, err := decode(raw)
		if err != nil {
			return nil, err
		}
		return s.renderSubscription(l, sub, rec, at), nil
	})
}

func (s *Surface) activeSubscription(c *call, l *clockwork.Ledger) (any, error) {
	ref := c.p.requiredStr("customerId", maxText)
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := viewNow(c, l)
	if err != nil {
		return nil, err
	}
	_, crec, err := s.customer(l, ref)
	if err != nil {
		return nil, err
	}
	sub, err := liveSubscription(l, crec)
	if err != nil || sub == nil || !sub.HoldsUnits() {
		return nil, err
	}
	rec, err := subscriptionRec(l, sub.ID)
	if err != nil {
		return nil, err
	}
	return s.renderSubscription(l, sub, rec, at), nil
}

func (s *Surface) cancelSubscription(c *call, l *clockwork.Ledger) (any, error) {
	reason, _ := c.p.str("reason", maxText)
	immediate, _ := c.p.bool("immediate")
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	sub, rec, err := subscriptionOf(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	if sub.Ended() {
		return nil, engineError(&billing.Error{Kind: billing.Invalid, Code: billing.CodeSubscriptionCanceled})
	}
	rec.CancelReason, rec.Updated = reason, at
	if err := putSubscriptionRecord(l, rec); err != nil {
		return nil, err
	}
	if immediate || sub.Status == billing.StatusIncomplete {
		sub, err = l.Engine().CancelSubscription(sub.ID, false, false, at)
	} else {
		yes := true
		sub, err = l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{CancelAtPeriodEnd: &yes}, at)
	}
	if err != nil {
		return nil, err
	}
	scheduled := sub.PeriodEnd
	if sub.Ended() {
		scheduled = sub.EndedAt
	}
	return map[string]any{"id": sub.ID, "customerId": sub.Customer, "status": statusOf(sub), "canceledAt": iso(sub.CanceledAt),
		"cancelReason": nullable(reason), "scheduledCancellationDate": iso(scheduled), "updatedAt": iso(at),
		"object": "subscription", "livemode": false}, nil
}

func (s *Surface) uncancelSubscription(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	sub, rec, err := subscriptionOf(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	if sub.Ended() || !sub.CancelAtPeriodEnd {
		return nil, &Error{Status: http.StatusBadRequest, Type: typeInvalidRequest, Code: "no_scheduled_cancellation",
			Message: "The subscription has no scheduled cancellation."}
	}
	no := false
	if sub, err = l.Engine().UpdateSubscription(sub.ID, billing.SubscriptionChange{CancelAtPeriodEnd: &no}, at); err != nil {
		return nil, err
	}
	rec.CancelReason, rec.Updated = "", at
	if err := putSubscriptionRecord(l, rec); err != nil {
		return nil, err
	}
	return s.renderSubscription(l, sub, rec, at), nil
}

func (s *Surface) reactivateSubscription(c *call, l *clockwork.Ledger) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	at, err := now(c, l)
	if err != nil {
		return nil, err
	}
	sub, rec, err := subscriptionOf(l, c.vars["id"])
	if err != nil {
		return nil, err
	}
	restart := sub.Status == billing.StatusCanceled
	_, err = l.Engine().ReactivateSubscription(sub.ID, at)
	var decl *billing.Declined
	switch {
	case errors.As(err, &decl) && restart:
		return nil, declined(decl, rec.CheckoutURL) // nothing of it is kept
	case errors.As(err, &decl):
		// The failed attempt is kept, as a retry's would be.
		return &committed{err: declined(decl, rec.CheckoutURL)}, nil
	case err != nil:
		return nil, err
	}
	if restart {
		rec.CancelReason, rec.Updated = "", at
		if err := putSubscriptionRecord(l, rec); err != nil {
			return nil, err
		}
	}
	return map[string]any{"id": sub.ID, "retryInitiated": true, "object": "subscription", "livemode": false}, nil
}
