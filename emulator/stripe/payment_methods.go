package stripe

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves payment methods (/v1/payment_methods, a customer's
// payment_methods and its legacy card sources) and resolves the payment
// method ids other endpoints are given: stored ones, and Stripe's test ids
// (pm_card_visa, ...), each use of which makes a new payment method, as at
// Stripe.

var paymentMethodExpansions = []string{"customer"}

// pmOp is what a payment method was being used for, which decides how a
// refusal is worded.
type pmOp int

const (
	opAttach pmOp = iota
	opDetach
	opUpdate
	opUse     // paying with it
	opDefault // making it a customer's or a subscription's default
)

// stripeError words the engine's refusals of payment methods and their
// declines at attach as Stripe does; other errors pass through.
func stripeError(err error, op pmOp) error {
	var pmErr *billing.PaymentMethodError
	var decl *billing.Declined
	switch {
	case errors.As(err, &decl):
		return errCardDeclined(decl.Reason)
	case !errors.As(err, &pmErr):
		return err
	}
	id := pmErr.PaymentMethod
	switch pmErr.Problem {
	case billing.PaymentMethodDetached:
		if op == opAttach {
			return invalid(pmErr.Param, "This PaymentMethod was previously used without being attached to a Customer or was detached from a Customer, and may not be used again.")
		}
		return invalid(pmErr.Param, "The provided PaymentMethod was previously used with a PaymentIntent without Customer attachment, "+
			"shared with a connected account without Customer attachment, or was detached from a Customer. It may not be used again. "+
			"To use a PaymentMethod multiple times, you must attach it to a Customer first.")
	case billing.PaymentMethodOtherCustomer:
		if op == opAttach {
			return invalid(pmErr.Param, "The payment method you provided has already been attached to a customer.")
		}
		if pmErr.Customer == "" {
			return invalid(pmErr.Param, "The provided PaymentMethod (%s) is attached to a Customer. To use it, pass that Customer's ID "+
				"as `customer` along with the PaymentMethod.", id)
		}
		return invalid(pmErr.Param, "The provided PaymentMethod (%s) is attached to another Customer than %s. "+
			"A PaymentMethod attached to a Customer can only be used for that Customer.", id, pmErr.Customer)
	}
	switch op {
	case opDetach:
		return invalid("", "The payment method %s is not attached to a customer so detachment is impossible.", id)
	case opUpdate:
		return invalid("", "You must save this PaymentMethod to a customer before you can update it.")
	}
	return invalid(pmErr.Param, "The customer does not have a payment method with the ID %s. The payment method must be attached to the customer.", id)
}

// resolvePaymentMethod returns the payment method id names: a stored one,
// or for one of Stripe's test ids a new one created at now (fresh), stored
// but attached to no one. param names the request parameter in errors.
func (l *ledger) resolvePaymentMethod(id, param string, now int64) (pm *billing.PaymentMethod, fresh bool, err error) {
	if tc, ok := testCardByMethod(id); ok {
		pm = tc.paymentMethod()
		return pm, true, l.Engine().CreatePaymentMethod(pm, now)
	}
	pm, err = l.PaymentMethod(id)
	if err != nil {
		return nil, false, withParam(err, param)
	}
	return pm, false, nil
}

// attachedPaymentMethod returns the id of the payment method id names as
// a default of cust (at the customer's time now): a test id attaches a new
// copy to the customer; a stored one must already be attached to it.
func (l *ledger) attachedPaymentMethod(cust *billing.Customer, id, param string, now int64) (string, error) {
	pm, fresh, err := l.resolvePaymentMethod(id, param, now)
	if err != nil {
		return "", err
	}
	if fresh {
		if err := l.Engine().AttachPaymentMethod(pm, cust, now); err != nil {
			return "", stripeError(err, opAttach)
		}
		return pm.ID, nil
	}
	if err := billing.CheckDefault(pm, cust.ID, param); err != nil {
		return "", stripeError(err, opDefault)
	}
	return pm.ID, nil
}

// paymentMethodToPay returns the payment method id names for paying on
// behalf of customer ("" for none) at now. A test id makes a new payment
// method, attached to no one; a stored one must not be detached or belong
// to another customer. It is meant for the surfaces' payment endpoints
// (PaymentIntents, invoice pay).
func (l *ledger) paymentMethodToPay(id, param, customer string, now int64) (*billing.PaymentMethod, error) {
	pm, _, err := l.resolvePaymentMethod(id, param, now)
	if err != nil {
		return nil, err
	}
	if err := billing.CheckUsable(pm, customer, param); err != nil {
		return nil, stripeError(err, opUse)
	}
	return pm, nil
}

// readBillingDetails reads billing_details[...]: ok is false when it was
// not sent.
func readBillingDetails(p *params) (ch billing.BillingDetailsChange, ok bool) {
	sub, ok := p.sub("billing_details")
	if !ok {
		return ch, false
	}
	ch.Name = sub.clearable("billing_details[name]")
	ch.Email = sub.clearable("billing_details[email]")
	ch.Phone = sub.clearable("billing_details[phone]")
	sub.str("billing_details[tax_id]")
	if v, isLeaf := sub.form.lookup("billing_details[address]").leafValue(); isLeaf {
		sub.seen["billing_details[address]"] = true
		if v != "" {
			sub.fail(invalid("billing_details[address]", "Invalid billing_details[address]: must be a hash."))
		}
		ch.Address = map[string]string{}
		for _, k := range addressKeys {
			ch.Address[k] = ""
		}
	} else if addr, sent := sub.sub("billing_details[address]"); sent {
		ch.Address = map[string]string{}
		for _, k := range addressKeys {
			if v := addr.clearable("billing_details[address][" + k + "]"); v != nil {
				ch.Address[k] = *v
			}
		}
		sub.fail(addr.check())
	}
	p.fail(sub.check())
	return ch, true
}

// cardParams are a payment method create's card[...]: a token, or the
// card's details.
type cardParams struct {
	token string
	raw   *rawCard
}

// readCardParams reads card[...]; ok is false when it was not sent.
func readCardParams(p *params) (cardParams, bool) {
	var cp cardParams
	sub, ok := p.sub("card")
	if !ok {
		return cp, false
	}
	cp.token, _ = sub.str("card[token]")
	number, hasNumber := sub.str("card[number]")
	month, _ := sub.int64("card[exp_month]")
	year, _ := sub.int64("card[exp_year]")
	cvc, _ := sub.str("card[cvc]")
	if nets, ok := sub.sub("card[networks]"); ok {
		nets.enum("card[networks][preferred]", "cartes_bancaires", "mastercard", "visa")
		sub.fail(nets.check())
	}
	switch {
	case cp.token != "" && hasNumber:
		sub.fail(invalid("card", "Pass either card[token] or the card's details (card[number], ...), not both."))
	case cp.token == "" && !hasNumber:
		sub.fail(errMissing("card[number]"))
	case hasNumber:
		if !sub.present("card[exp_month]") {
			sub.fail(errMissing("card[exp_month]"))
		}
		if !sub.present("card[exp_year]") {
			sub.fail(errMissing("card[exp_year]"))
		}
		cp.raw = &rawCard{number: number, expMonth: month, expYear: year, cvc: cvc}
	}
	p.fail(sub.check())
	return cp, true
}

// openPaymentMethod is onClock for the payment method the path names,
// which lives on its customer's clock (or none).
func (s *Surface) openPaymentMethod(c *call, tx *store.Tx) (*ledger, *billing.PaymentMethod, int64, error) {
	return onClock(s, c, tx, (*ledger).PaymentMethod, func(pm *billing.PaymentMethod) string { return pm.Clock })
}

func (s *Surface) createPaymentMethod(c *call, tx *store.Tx) (any, error) {
	typ, _ := c.p.str("type")
	card, hasCard := readCardParams(c.p)
	bd, _ := readBillingDetails(c.p)
	md, _ := c.p.metadata("metadata")
	c.p.enum("allow_redisplay", "always", "limited", "unspecified")
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == "":
		return nil, errMissing("type")
	case typ != "card":
		return nil, invalid("type", "billclock emulates card payment methods only; type %s is not supported.", typ)
	case !hasCard:
		return nil, errMissing("card")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	var pm *billing.PaymentMethod
	if card.token != "" {
		tc, ok := testCardByToken(card.token)
		if !ok {
			return nil, errNoSuch("token", card.token, "card[token]")
		}
		pm = tc.paymentMethod()
	} else if pm, err = cardFromNumber(*card.raw, now); err != nil {
		return nil, err
	}
	pm.BillingDetails.Apply(bd)
	pm.Metadata = applyMetadata(nil, md, false)
	if err := l.Engine().CreatePaymentMethod(pm, now); err != nil {
		return nil, err
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

// retrievePaymentMethodRoute serves GET /v1/payment_methods/{id}. Reading
// one of Stripe's test ids makes a new payment method, as at Stripe, so
// those requests need a writable transaction.
func (s *Surface) retrievePaymentMethodRoute() http.HandlerFunc {
	read, write := s.read(s.retrievePaymentMethod), s.write(s.retrievePaymentMethod)
	return func(w http.ResponseWriter, r *http.Request) {
		if isMagicPaymentMethod(mux.Vars(r)["id"]) {
			write(w, r)
			return
		}
		read(w, r)
	}
}

func (s *Surface) retrievePaymentMethod(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	pm, _, err := l.resolvePaymentMethod(c.vars["id"], "id", c.now.Unix())
	if err != nil {
		return nil, err
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

func (s *Surface) updatePaymentMethod(c *call, tx *store.Tx) (any, error) {
	var ch billing.PaymentMethodChange
	ch.BillingDetails, _ = readBillingDetails(c.p)
	if card, ok := c.p.sub("card"); ok {
		if v, ok := card.int64("card[exp_month]"); ok {
			m := int(v)
			if v < 1 || v > 12 {
				card.fail(&Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_expiry_month",
					Param: "card[exp_month]", Message: "Your card's expiration month is invalid."})
			}
			ch.ExpMonth = &m
		}
		if v, ok := card.int64("card[exp_year]"); ok {
			if v >= 0 && v < 100 {
				v += 2000
			}
			y := int(v)
			if v < 2000 || v > 9999 {
				card.fail(&Error{Status: http.StatusPaymentRequired, Type: typeCard, Code: "invalid_expiry_year",
					Param: "card[exp_year]", Message: "Your card's expiration year is invalid."})
			}
			ch.ExpYear = &y
		}
		if nets, ok := card.sub("card[networks]"); ok {
			nets.enum("card[networks][preferred]", "cartes_bancaires", "mastercard", "visa")
			card.fail(nets.check())
		}
		c.p.fail(card.check())
	}
	md, cleared := c.p.metadata("metadata")
	c.p.enum("allow_redisplay", "always", "limited", "unspecified")
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	l, pm, now, err := s.openPaymentMethod(c, tx)
	if err != nil {
		return nil, err
	}
	ch.Metadata = metadataUpdate(pm.Metadata, md, cleared)
	if err := l.Engine().UpdatePaymentMethod(pm, ch, now); err != nil {
		return nil, stripeError(err, opUpdate)
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

func (s *Surface) attachPaymentMethod(c *call, tx *store.Tx) (any, error) {
	customer, _ := c.p.str("customer")
	c.p.str("customer_account")
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	if customer == "" {
		return nil, errMissing("customer")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, now, err := l.customerNow(customer, "customer", c.now.Unix())
	if err != nil {
		return nil, err
	}
	pm, _, err := l.resolvePaymentMethod(c.vars["id"], "payment_method", now)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().AttachPaymentMethod(pm, cust, now); err != nil {
		return nil, stripeError(err, opAttach)
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

func (s *Surface) detachPaymentMethod(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	l, pm, now, err := s.openPaymentMethod(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().DetachPaymentMethod(pm, now); err != nil {
		return nil, stripeError(err, opDetach)
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

// listPaymentMethodsOf lists payment methods, newest first: those of
// customer if set (its legacy cards included, as Stripe shows them
// through this API), otherwise every payment method of the account
// (without legacy cards).
func (s *Surface) listPaymentMethodsOf(c *call, tx *store.Tx, customer, url string) (any, error) {
	pg := pageParams(c.p)
	typ, _ := c.p.str("type")
	c.p.enum("allow_redisplay", "always", "limited", "unspecified")
	c.p.str("customer_account")
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if customer != "" {
		if _, err := l.Customer(customer); err != nil {
			return nil, withParam(err, "customer")
		}
	}
	coll, err := l.Collection(clockwork.PaymentMethodsCollection)
	if err != nil {
		return nil, err
	}
	match := func(pm *billing.PaymentMethod) bool {
		if customer == "" && pm.Legacy || customer != "" && pm.Customer != customer {
			return false
		}
		return typ == "" || typ == pm.Type
	}
	return listTyped(coll, pg, url, "PaymentMethod", match, func(pm *billing.PaymentMethod) (any, error) {
		return renderPaymentMethodEx(pm, l, expandSet(ex))
	})
}

func (s *Surface) listPaymentMethods(c *call, tx *store.Tx) (any, error) {
	customer, _ := c.p.str("customer")
	return s.listPaymentMethodsOf(c, tx, customer, "/v1/payment_methods")
}

func (s *Surface) listCustomerPaymentMethods(c *call, tx *store.Tx) (any, error) {
	id := c.vars["customer"]
	return s.listPaymentMethodsOf(c, tx, id, "/v1/customers/"+id+"/payment_methods")
}

// customerPaymentMethod loads payment method id of customer (for a
// customer's payment_methods and sources routes); legacy says which kind
// is asked for.
func (l *ledger) customerPaymentMethod(customer, id string, legacy bool) (*billing.PaymentMethod, error) {
	if _, err := l.Customer(customer); err != nil {
		return nil, withParam(err, "customer")
	}
	pm, err := l.PaymentMethod(id)
	switch {
	case isMissing(err) || err == nil && (pm.Customer != customer || legacy && !pm.Legacy):
		if legacy {
			return nil, errNoSuch("source", id, "id")
		}
		return nil, errNoSuch("PaymentMethod", id, "payment_method")
	case err != nil:
		return nil, err
	}
	return pm, nil
}

func (s *Surface) retrieveCustomerPaymentMethod(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(paymentMethodExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	pm, err := l.customerPaymentMethod(c.vars["customer"], c.vars["id"], false)
	if err != nil {
		return nil, err
	}
	return renderPaymentMethodEx(pm, l, expandSet(ex))
}

// listCustomerSources lists a customer's legacy card sources, newest
// first. billclock has no other kind of source.
func (s *Surface) listCustomerSources(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	object, _ := c.p.str("object")
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	customer := c.vars["customer"]
	if _, err := l.Customer(customer); err != nil {
		return nil, withParam(err, "customer")
	}
	coll, err := l.Collection(clockwork.PaymentMethodsCollection)
	if err != nil {
		return nil, err
	}
	match := func(pm *billing.PaymentMethod) bool {
		return pm.Legacy && pm.Customer == customer && (object == "" || object == "card")
	}
	return listTyped(coll, pg, fmt.Sprintf("/v1/customers/%s/sources", customer), "source", match,
		func(pm *billing.PaymentMethod) (any, error) { return renderCard(pm), nil })
}

func (s *Surface) retrieveCustomerSource(c *call, tx *store.Tx) (any, error) {
	if err := c.p.expand(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	pm, err := l.customerPaymentMethod(c.vars["customer"], c.vars["id"], true)
	if err != nil {
		return nil, err
	}
	return renderCard(pm), nil
}

// sourceFromToken makes a new legacy card (card_...) from one of Stripe's
// test tokens, at now, attached to no one yet. param names the parameter
// in errors.
func (l *ledger) sourceFromToken(token, param string, now int64) (*billing.PaymentMethod, error) {
	tc, ok := testCardByToken(token)
	if !ok {
		return nil, errNoSuch("token", token, param)
	}
	pm := tc.paymentMethod()
	pm.Legacy = true
	return pm, l.Engine().CreatePaymentMethod(pm, now)
}

// stripeEventType is the Stripe event type of ev. A legacy card is a
// customer source to Stripe, and its events are the source's.
func stripeEventType(ev billing.Event) (string, bool) {
	if pm, ok := ev.Object.(*billing.PaymentMethod); ok && pm.Legacy {
		switch ev.Type {
		case billing.EventPaymentMethodAttached:
			return "customer.source.created", true
		case billing.EventPaymentMethodDetached:
			return "customer.source.deleted", true
		case billing.EventPaymentMethodUpdated:
			return "customer.source.updated", true
		}
	}
	typ, ok := eventTypes[ev.Type]
	if !ok {
		typ, ok = subscriptionEventTypes[ev.Type]
	}
	if !ok {
		typ, ok = moneyEventTypes[ev.Type]
	}
	if !ok {
		typ, ok = pageEventTypes[ev.Type]
	}
	return typ, ok
}
