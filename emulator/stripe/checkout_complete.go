package stripe

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file completes a Checkout Session: what the Checkout page's Pay
// button does, and the control route
// POST /_billclock/checkout/sessions/{id}/complete that does it for tests
// without a browser. Each step is an engine call the API makes the same
// way: the customer is created as POST /v1/customers creates one; in
// subscription mode the card is attached as POST
// /v1/payment_methods/{id}/attach attaches it and the subscription made as
// POST /v1/subscriptions makes it; in payment mode the PaymentIntent is
// made and confirmed as POST /v1/payment_intents with confirm=true does
// (which saves the card with setup_future_usage); in setup mode the
// session's SetupIntent, made with the session, gets the new customer as
// POST /v1/setup_intents/{id} gives it and is confirmed with the card as
// POST /v1/setup_intents/{id}/confirm confirms it (which attaches the
// card). A card that is declined (at attach, at the first charge or at
// the SetupIntent's confirmation) leaves nothing behind but, in setup
// mode, the SetupIntent's failed confirmation: the session stays open and
// the page shows Stripe's decline message.

// defaultCheckoutCard is the card the control route pays with when given
// none: Stripe's 4242 4242 4242 4242.
const defaultCheckoutCard = "4242424242424242"

// checkoutInput is what the customer gives at checkout.
type checkoutInput struct {
	// card is a test card number (spaces and dashes allowed), one of
	// Stripe's test payment method ids (pm_card_visa) or tokens
	// (tok_visa), or a stored payment method of the session's customer.
	card              string
	expMonth, expYear int64
	cvc               string
	email, name       string
	promotionCode     string
	// quantities are the new quantities of adjustable lines, by index.
	quantities map[int]int64
}

// errCheckoutClosed refuses to complete a session that is not open.
func errCheckoutClosed(cs *checkoutSession) *Error {
	if cs.Status == "expired" {
		return invalid("", "This Checkout Session has expired: it can no longer be completed.")
	}
	return invalid("", "This Checkout Session is %s: it can no longer be completed.", cs.Status)
}

// checkoutNow is the time a session's completion happens at: its
// customer's clock, or the wall clock.
func (l *ledger) checkoutNow(cs *checkoutSession, wall int64) (int64, error) {
	return l.TimeOn(cs.Clock, wall)
}

// applyCheckoutInput sets what the customer chose on the page (quantities
// of adjustable lines, a promotion code) on cs, at now.
func (l *ledger) applyCheckoutInput(cs *checkoutSession, in checkoutInput, now int64) error {
	for i, q := range in.quantities {
		if i < 0 || i >= len(cs.Lines) {
			return invalid("line_items", "This Checkout Session has no line item %d.", i)
		}
		line := &cs.Lines[i]
		param := fmt.Sprintf("line_items[%d][quantity]", i)
		switch {
		case line.Adjustable == nil && q != line.Quantity:
			return invalid(param, "The quantity of this line item cannot be changed.")
		case line.Adjustable != nil && (q < line.Adjustable.Min || q > line.Adjustable.Max):
			return invalid(param, "The quantity must be between %d and %d.", line.Adjustable.Min, line.Adjustable.Max)
		}
		line.Quantity = q
	}
	code := strings.TrimSpace(in.promotionCode)
	if code == "" {
		return nil
	}
	if cs.AllowPromotionCodes == nil || !*cs.AllowPromotionCodes {
		return invalid("promotion_code", "This Checkout Session does not take promotion codes.")
	}
	promos, err := l.PromotionCodesByCode(code)
	if err != nil {
		return err
	}
	for _, p := range promos {
		if !p.Active || p.ExpiresAt != 0 && p.ExpiresAt <= now {
			continue
		}
		c, err := l.Coupon(p.Coupon)
		if err != nil && !isMissing(err) {
			return err
		}
		if err == nil && c.Valid(now) {
			cs.Discounts = []billing.DiscountSpec{{PromotionCode: p.ID, Param: "promotion_code"}}
			return nil
		}
	}
	return invalid("promotion_code", "This code is invalid.")
}

// checkoutCard makes the payment method the customer pays with, at now,
// attached to no one yet.
func (l *ledger) checkoutCard(in checkoutInput, customer string, now int64) (*billing.PaymentMethod, error) {
	card := strings.TrimSpace(in.card)
	switch {
	case card == "":
		return nil, &Error{Status: 402, Type: typeCard, Code: "incorrect_number", Param: "card",
			Message: "Your card number is incomplete."}
	case strings.HasPrefix(card, "tok_"):
		tc, ok := testCardByToken(card)
		if !ok {
			return nil, errNoSuch("token", card, "card")
		}
		pm := tc.paymentMethod()
		return pm, l.Engine().CreatePaymentMethod(pm, now)
	case strings.HasPrefix(card, "pm_"):
		return l.paymentMethodToPay(card, "card", customer, now)
	}
	month, year := in.expMonth, in.expYear
	if month == 0 && year == 0 {
		month, year = testCardExpMonth, testCardExpYear
	}
	pm, err := cardFromNumber(rawCard{number: card, expMonth: month, expYear: year, cvc: in.cvc}, now)
	if err != nil {
		return nil, err
	}
	return pm, l.Engine().CreatePaymentMethod(pm, now)
}

// declined words an engine decline as Stripe's card error, and passes
// other errors through.
func declined(err error) error {
	var d *billing.Declined
	if errors.As(err, &d) {
		return errCardDeclined(d.Reason)
	}
	return stripeError(err, opAttach)
}

// makeCheckoutSetup makes the SetupIntent of cs, a session in setup mode,
// at now, as POST /v1/setup_intents makes one: for the session's customer
// (or no one yet), taking cards, with setup_intent_data's description and
// metadata. The caller stores cs.
func (l *ledger) makeCheckoutSetup(cs *checkoutSession, description string, md map[string]string, now int64) (*billing.Setup, error) {
	in := billing.NewSetup{ID: l.NewID("seti_"), Description: description, Metadata: applyMetadata(nil, md, false)}
	if cs.Customer != "" {
		cust, err := l.Customer(cs.Customer)
		if err != nil {
			return nil, err
		}
		in.Customer = cust
	}
	// The settings are stored first, so that setup_intent.created shows
	// them.
	opts := &setupOptions{PaymentMethodTypes: []string{"card"}, CheckoutSession: cs.ID}
	if err := l.putSetupOptions(in.ID, now, opts); err != nil {
		return nil, err
	}
	si, err := l.Engine().CreateSetup(in, now)
	if err != nil {
		return nil, stripeError(err, opUse)
	}
	cs.SetupIntent = si.ID
	return si, nil
}

// checkoutSetup returns the SetupIntent of cs, a session in setup mode. A
// session stored before billclock made them gets one at now (cs is then
// stored too).
func (l *ledger) checkoutSetup(cs *checkoutSession, now int64) (*billing.Setup, error) {
	if cs.SetupIntent != "" {
		return l.Setup(cs.SetupIntent)
	}
	si, err := l.makeCheckoutSetup(cs, "", nil, now)
	if err != nil {
		return nil, err
	}
	return si, l.putCheckoutSession(cs)
}

// setupFailed is completeCheckout's error when the card fails the
// session's SetupIntent: declined, or asking for an authentication the
// page cannot do. The completion is rolled back (no customer is made, no
// card attached), then record keeps the SetupIntent's failed
// confirmation, as the API's confirm keeps it.
type setupFailed struct {
	err     *Error
	session string
	in      checkoutInput
	// now is when the completion was tried: the wall time of a session
	// on no clock.
	now int64
}

func (e *setupFailed) Error() string { return e.err.Error() }
func (e *setupFailed) Unwrap() error { return e.err }

// record confirms the session's SetupIntent with the card again, in the
// transaction after the failed completion's: a test card fails the same
// way each time, and this time the outcome is kept. A session completed or
// expired in between is left alone.
func (e *setupFailed) record(l *ledger) error {
	cs, err := l.checkoutSession(e.session)
	if err != nil || cs.Status != "open" {
		return err
	}
	now, err := l.checkoutNow(cs, e.now)
	if err != nil {
		return err
	}
	si, err := l.checkoutSetup(cs, now)
	if err != nil {
		return err
	}
	pm, err := l.checkoutCard(e.in, cs.Customer, now)
	if err != nil {
		return err
	}
	decl, err := l.Engine().ConfirmSetup(si, pm, now)
	var stateErr *billing.SetupStateError
	switch {
	case errors.As(err, &stateErr):
		return nil
	case err != nil:
		return err
	case decl == nil && si.Status != billing.SetupRequiresAction:
		// Never kept: that would save the card without completing the
		// session.
		return fmt.Errorf("checkout session %s: the SetupIntent's second confirmation succeeded", cs.ID)
	}
	return nil
}

var _ rollbackThen = (*setupFailed)(nil)

// completeCheckout completes cs with what the customer gave, at now. On
// an error nothing of it may be kept: the caller's transaction must fail
// (and a *setupFailed then records what it keeps).
func (l *ledger) completeCheckout(cs *checkoutSession, in checkoutInput, now int64) error {
	if cs.Status != "open" {
		return errCheckoutClosed(cs)
	}
	if now >= cs.ExpiresAt {
		return invalid("", "This Checkout Session has expired: it can no longer be completed.")
	}
	if err := l.applyCheckoutInput(cs, in, now); err != nil {
		return err
	}
	a, err := cs.amounts(l)
	if err != nil {
		return err
	}
	if cs.Mode == "payment" && a.Total > 0 {
		if err := checkAmount(a.Total, cs.Currency, "line_items"); err != nil {
			return err
		}
	}
	email := cs.CustomerEmail
	if email == "" {
		email = strings.TrimSpace(in.email)
	}
	if err := billing.CheckLength("email", email, maxEmail); err != nil {
		return err
	}
	if err := billing.CheckLength("name", in.name, maxCustomerName); err != nil {
		return err
	}
	var cust *billing.Customer
	if cs.Customer != "" {
		if cust, err = l.Customer(cs.Customer); err != nil {
			return err
		}
	}
	pm, err := l.checkoutCard(in, cs.Customer, now)
	if err != nil {
		return err
	}
	needCustomer := cs.Mode != "payment" || cs.CustomerCreation == "always" || cs.SetupFutureUsage != ""
	if cust == nil && needCustomer {
		// As POST /v1/customers makes one.
		cust = &billing.Customer{ID: l.NewID("cus_"), Created: now, Email: email, Name: strings.TrimSpace(in.name),
			InvoicePrefix: newInvoicePrefix()}
		if err := l.PutCustomer(cust); err != nil {
			return err
		}
		if err := l.Emit(billing.Event{Type: billing.EventCustomerCreated, Time: now, Object: cust}); err != nil {
			return err
		}
	}
	if cust != nil && cs.Mode == "subscription" {
		if err := l.Engine().AttachPaymentMethod(pm, cust, now); err != nil {
			return declined(err)
		}
	}
	switch cs.Mode {
	case "subscription":
		items := make([]billing.ItemSpec, len(cs.Lines))
		for i, line := range cs.Lines {
			q := line.Quantity
			items[i] = billing.ItemSpec{Price: line.Price, Quantity: &q, Metadata: line.Metadata,
				Param: fmt.Sprintf("line_items[%d]", i)}
		}
		ns := billing.NewSubscription{Customer: cust.ID, Items: items, Metadata: cs.SubscriptionMetadata,
			DefaultPaymentMethod: pm.ID, PaymentBehavior: billing.ErrorIfIncomplete}
		if cs.TrialPeriodDays > 0 {
			ns.TrialEnd = now + cs.TrialPeriodDays*86400
		}
		if len(cs.Discounts) > 0 {
			ds := append([]billing.DiscountSpec(nil), cs.Discounts...)
			ns.Terms.Discounts = &ds
		}
		sub, err := l.Engine().CreateSubscription(ns, now)
		if err != nil {
			return declined(err)
		}
		cs.Subscription, cs.Invoice, cs.PaymentStatus = sub.ID, sub.LatestInvoice, "paid"
		if inv, err := l.Invoice(sub.LatestInvoice); err == nil && inv.AmountDue() == 0 {
			cs.PaymentStatus = "no_payment_required"
		} else if err != nil && !isMissing(err) {
			return err
		}
	case "payment":
		cs.PaymentStatus = "no_payment_required"
		if a.Total > 0 {
			// As POST /v1/payment_intents with confirm=true makes one.
			np := billing.NewPayment{ID: l.NewID("pi_"), Customer: cust, Amount: a.Total, Currency: cs.Currency,
				PaymentMethod: pm, Description: cs.IntentDescription, Metadata: cs.IntentMetadata}
			opts := &intentOptions{PaymentMethodTypes: []string{"card"}, SetupFutureUsage: cs.SetupFutureUsage}
			if err := l.putIntentOptions(np.ID, now, opts); err != nil {
				return err
			}
			p, err := l.Engine().CreatePayment(np, now)
			if err != nil {
				return stripeError(err, opUse)
			}
			// The page cannot authenticate a card: one that asks for it is
			// declined as off session.
			decl, err := l.Engine().ConfirmPayment(p, billing.ConfirmOptions{OffSession: true}, now)
			if err != nil {
				return intentStateError(err, l, "")
			}
			if decl != nil {
				return errCardDeclined(decl.Reason)
			}
			if err := l.saveForFutureUsage(p, now); err != nil {
				return declined(err)
			}
			cs.PaymentIntent, cs.PaymentStatus = p.ID, "paid"
		}
	case "setup":
		si, err := l.checkoutSetup(cs, now)
		if err != nil {
			return err
		}
		if cust != nil && si.Customer == "" {
			if err := l.Engine().UpdateSetup(si, billing.SetupChange{Customer: cust}); err != nil {
				return setupStateError(err, l, "customer")
			}
		}
		decl, err := l.Engine().ConfirmSetup(si, pm, now)
		if err != nil {
			return setupStateError(err, l, "")
		}
		fail := &setupFailed{session: cs.ID, in: in, now: now}
		switch {
		case decl != nil:
			fail.err = errCardDeclined(decl.Reason)
			return fail
		case si.Status == billing.SetupRequiresAction:
			fail.err = errCardDeclined(billing.DeclineAuthenticationRequired)
			return fail
		}
		cs.PaymentStatus = "no_payment_required"
	}
	cs.Status, cs.PaymentMethod, cs.CompletedAt = "complete", pm.ID, now
	if cust != nil {
		cs.Customer = cust.ID
	}
	cs.DetailsEmail, cs.DetailsName = email, strings.TrimSpace(in.name)
	if err := l.putCheckoutSession(cs); err != nil {
		return err
	}
	return l.Emit(billing.Event{Type: eventCheckoutCompleted, Time: now, Object: cs.snapshot()})
}

// successRedirect is where a completed session sends the customer: its
// success_url with {CHECKOUT_SESSION_ID} replaced, or "" for none.
func successRedirect(cs *checkoutSession) string {
	if cs.SuccessURL == "" {
		return ""
	}
	return strings.ReplaceAll(cs.SuccessURL, "{CHECKOUT_SESSION_ID}", url.QueryEscape(cs.ID))
}

// completeCheckoutRoute serves the control route
// POST /_billclock/checkout/sessions/{id}/complete: it completes a session
// as the Checkout page does, for tests without a browser, and answers the
// session (or Stripe's error: a declined card is a 402 card_error). It
// takes card (default 4242424242424242; a number, a pm_card_... id or a
// tok_...), exp_month, exp_year, cvc, email, name, promotion_code and
// line_items[n][quantity] for adjustable lines.
func (s *Surface) completeCheckoutRoute(c *call, tx *store.Tx) (any, error) {
	var in checkoutInput
	in.card, _ = c.p.str("card")
	if in.card == "" {
		in.card = defaultCheckoutCard
	}
	in.expMonth, _ = c.p.int64("exp_month")
	in.expYear, _ = c.p.int64("exp_year")
	in.cvc, _ = c.p.str("cvc")
	in.email, _ = c.p.text("email", maxEmail)
	in.name, _ = c.p.text("name", maxCustomerName)
	in.promotionCode, _ = c.p.str("promotion_code")
	in.quantities = map[int]int64{}
	c.p.seen["line_items"] = true
	if n := c.p.form.lookup("line_items"); n != nil {
		elems, ok := n.list()
		if !ok || n.leaf {
			c.p.fail(invalid("line_items", "Invalid array"))
		}
		for i, el := range elems {
			sub := newParams(&Form{root: el})
			if el.leaf {
				c.p.fail(invalid(fmt.Sprintf("line_items[%d]", i), "Invalid line_items[%d]: must be a hash.", i))
				break
			}
			if q, ok := sub.intIn("quantity", 0, billing.MaxQuantity); ok {
				in.quantities[i] = q
			}
			if err := sub.check(); err != nil {
				c.p.fail(nestError(fmt.Sprintf("line_items[%d]", i), err))
			}
		}
	}
	ex, err := c.p.expansions(checkoutExpansions...)
	if err != nil {
		return nil, err
	}
	l, cs, err := openByID(s, c, tx, (*ledger).checkoutSession)
	if err != nil {
		return nil, err
	}
	now, err := l.checkoutNow(cs, c.now.Unix())
	if err != nil {
		return nil, err
	}
	if err := l.completeCheckout(cs, in, now); err != nil {
		return nil, err
	}
	return renderCheckoutSession(cs, l, expandSet(ex))
}
