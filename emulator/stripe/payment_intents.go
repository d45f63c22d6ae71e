package stripe

import (
	"errors"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves PaymentIntents (/v1/payment_intents): direct payments
// over the engine's payments, whose outcome comes from the test card. An
// invoice's PaymentIntent can be read here but is collected through its
// invoice.

// minimumAmounts are Stripe's smallest charge amounts, in minor units, of
// the common currencies. Other currencies are checked for positivity only.
var minimumAmounts = map[string]int64{"usd": 50, "eur": 50, "gbp": 30, "cad": 50, "aud": 50, "chf": 50,
	"jpy": 50, "nzd": 50, "sek": 300, "nok": 300, "dkk": 250, "sgd": 50, "hkd": 400, "mxn": 1000}

// maxAmount is the largest amount Stripe takes (99,999,999 minor units).
const maxAmount = 99999999

// checkAmount refuses an amount Stripe would not charge.
func checkAmount(amount int64, currency, param string) error {
	if amount <= 0 {
		return invalid(param, "This value must be greater than or equal to 1.")
	}
	if least, ok := minimumAmounts[currency]; ok && amount < least {
		e := invalid(param, "Amount must be at least %s %s", formatMoney(least, currency), currency)
		e.Code = "amount_too_small"
		return e
	}
	if amount > maxAmount {
		e := invalid(param, "Amount must be no more than %s %s", formatMoney(maxAmount, currency), currency)
		e.Code = "amount_too_large"
		return e
	}
	return nil
}

// intentParams are the PaymentIntent parameters create, update and
// confirm share.
type intentParams struct {
	paymentMethod                  string
	hasPaymentMethod               bool
	captureMethod                  string
	receiptEmail, setupFutureUsage *string
	descriptor, descriptorSuffix   *string
	methodTypes                    []string
}

// readIntentParams reads the parameters of which update takes all and
// create and confirm take some; allowed names those the endpoint knows.
func readIntentParams(p *params, allowed ...string) intentParams {
	var ip intentParams
	for _, name := range allowed {
		switch name {
		case "payment_method":
			ip.paymentMethod, ip.hasPaymentMethod = p.str("payment_method")
		case "capture_method":
			ip.captureMethod, _ = p.enum("capture_method", "automatic", "automatic_async", "manual")
		case "receipt_email":
			ip.receiptEmail = p.clearable("receipt_email")
		case "setup_future_usage":
			v := p.clearable(name)
			if v != nil && *v != "" && *v != "off_session" && *v != "on_session" {
				p.fail(invalid(name, "Invalid setup_future_usage: must be one of off_session, or on_session"))
				break
			}
			ip.setupFutureUsage = v
		case "statement_descriptor":
			ip.descriptor = p.clearable("statement_descriptor")
		case "statement_descriptor_suffix":
			ip.descriptorSuffix = p.clearable("statement_descriptor_suffix")
		case "payment_method_types":
			ip.methodTypes = readMethodTypes(p)
		default:
			// Accepted and ignored: billclock has nothing they would
			// change (payment_method_options, shipping, mandate_data, ...).
			p.seen[name] = true
		}
	}
	return ip
}

// apply sets the Stripe-only settings that were sent on o.
func (ip intentParams) apply(o *intentOptions) {
	if ip.captureMethod != "" && ip.captureMethod != "manual" {
		o.CaptureMethod = ip.captureMethod
	}
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&o.ReceiptEmail, ip.receiptEmail}, {&o.SetupFutureUsage, ip.setupFutureUsage},
		{&o.StatementDescriptor, ip.descriptor}, {&o.StatementSuffix, ip.descriptorSuffix}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if len(ip.methodTypes) > 0 {
		o.PaymentMethodTypes, o.AutomaticPaymentMethods, o.AllowRedirects = ip.methodTypes, false, ""
	}
}

// readOffSession reads off_session, which Stripe takes as a boolean or as
// one_off / recurring (both meaning true).
func readOffSession(p *params) bool {
	v, ok := p.leaf("off_session")
	if !ok {
		return false
	}
	switch v {
	case "true", "one_off", "recurring":
		return true
	case "false":
		return false
	}
	p.fail(invalid("off_session", "Invalid off_session: must be a boolean, one_off or recurring."))
	return false
}

// statusList lists the statuses an action may be taken from, as Stripe's
// errors do: "requires_payment_method, requires_confirmation".
func statusList[S ~string](statuses []S) string {
	out := make([]string, len(statuses))
	for i, s := range statuses {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}

// intentStateError words the engine's refusal of a PaymentIntent action
// as Stripe does, with the PaymentIntent in the error as Stripe sends it.
// field names the field an update tried to change.
func intentStateError(err error, l *ledger, field string) error {
	var stateErr *billing.PaymentStateError
	var tooLarge *billing.CaptureTooLargeError
	switch {
	case errors.As(err, &tooLarge):
		e := invalid("amount_to_capture", "The amount_to_capture (%d) is greater than the PaymentIntent's amount_capturable (%d).",
			tooLarge.Amount, tooLarge.Capturable)
		e.Code = "amount_too_large"
		return e
	case !errors.As(err, &stateErr):
		return stripeError(err, opUse)
	}
	p := stateErr.Payment
	var e *Error
	list := statusList(stateErr.Allowed)
	switch {
	case stateErr.Invoice != "":
		e = invalid("", "This PaymentIntent belongs to invoice %s, which collects it: billclock does not let you %s it directly. "+
			"Pay the invoice (POST /v1/invoices/%s/pay) or void it instead.", stateErr.Invoice, stateErr.Action, stateErr.Invoice)
	case stateErr.MissingPaymentMethod && p.Customer != "":
		e = invalid("", "You cannot confirm this PaymentIntent because it's missing a payment method. To confirm the PaymentIntent "+
			"with %s, specify a payment method attached to this customer along with the customer ID.", p.Customer)
	case stateErr.MissingPaymentMethod:
		e = invalid("", "You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the "+
			"PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.")
	case stateErr.Action == billing.ActionConfirm && p.Status == billing.PaymentSucceeded:
		e = invalid("", "You cannot confirm this PaymentIntent because it has already succeeded after being previously confirmed.")
	case stateErr.Action == billing.ActionConfirm:
		e = invalid("", "You cannot confirm this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the "+
			"following statuses may be confirmed: %s.", p.Status, list)
	case stateErr.Action == billing.ActionCapture:
		e = invalid("", "This PaymentIntent could not be captured because it has a status of %s. Only a PaymentIntent with one of "+
			"the following statuses may be captured: %s.", p.Status, list)
	case stateErr.Action == billing.ActionCancel:
		e = invalid("", "You cannot cancel this PaymentIntent because it has a status of %s. Only a PaymentIntent with one of the "+
			"following statuses may be canceled: %s.", p.Status, list)
	default:
		e = invalid(field, "This PaymentIntent's %s could not be updated because it has a status of %s. You may only update the %s "+
			"of a PaymentIntent with one of the following statuses: %s.", field, p.Status, field, list)
	}
	e.Code = "payment_intent_unexpected_state"
	pi, rerr := renderPaymentIntent(p, l)
	if rerr != nil {
		return rerr
	}
	e.PaymentIntent = pi
	return e
}

// declineError is Stripe's 402 for a declined confirmation, with the
// charge, the PaymentIntent and the payment method, as Stripe sends them.
func declineError(l *ledger, decl *billing.Declined) (*Error, error) {
	e := errCardDeclined(decl.Reason)
	if decl.Charge != nil {
		e.Charge = decl.Charge.ID
	}
	if decl.Payment != nil {
		pi, err := renderPaymentIntent(decl.Payment, l)
		if err != nil {
			return nil, err
		}
		e.PaymentIntent = pi
	}
	if decl.PaymentMethod != nil {
		pm, err := renderPaymentMethod(decl.PaymentMethod, l)
		if err != nil {
			return nil, err
		}
		e.PaymentMethod = pm
	}
	return e, nil
}

// openIntent is onClock for the PaymentIntent the path names, which
// lives on its customer's clock.
func (s *Surface) openIntent(c *call, tx *store.Tx) (*ledger, *billing.Payment, int64, error) {
	return onClock(s, c, tx, (*ledger).Payment, func(p *billing.Payment) string { return p.Clock })
}

// confirmIntent confirms p at now and answers: the PaymentIntent, or
// Stripe's 402 for a decline, whose failed charge and the PaymentIntent's
// error are kept all the same. A successful payment with
// setup_future_usage leaves its payment method attached to the customer.
func (s *Surface) confirmIntent(l *ledger, p *billing.Payment, opts billing.ConfirmOptions, ex expandSet, now int64) (any, error) {
	decl, err := l.Engine().ConfirmPayment(p, opts, now)
	if err != nil {
		return nil, intentStateError(err, l, "")
	}
	if decl != nil && decl.Payment.Status != billing.PaymentRequiresAction {
		e, err := declineError(l, decl)
		if err != nil {
			return nil, err
		}
		return failAfterCommit(e), nil
	}
	if decl == nil {
		if err := l.saveForFutureUsage(p, now); err != nil {
			return nil, err
		}
	}
	return renderPaymentIntentEx(p, l, ex)
}

// saveForFutureUsage attaches the payment method of p, a PaymentIntent
// just confirmed without a decline, to its customer when p has
// setup_future_usage, as Stripe saves it.
func (l *ledger) saveForFutureUsage(p *billing.Payment, now int64) error {
	if p.Customer == "" {
		return nil
	}
	o, err := l.intentOptions(p.ID)
	if err != nil || o.SetupFutureUsage == "" {
		return err
	}
	pm, err := l.PaymentMethod(p.PaymentMethod)
	if err != nil || pm.Customer != "" {
		return err
	}
	cust, err := l.Customer(p.Customer)
	if err != nil {
		return err
	}
	if err := l.Engine().AttachPaymentMethod(pm, cust, now); err != nil {
		return stripeError(err, opAttach)
	}
	return nil
}

// errorOnRequiresAction reads error_on_requires_action: a payment that
// would need the customer to authenticate fails instead, as off session.
func errorOnRequiresAction(p *params) bool {
	v, _ := p.bool("error_on_requires_action")
	return v
}

func (s *Surface) createPaymentIntent(c *call, tx *store.Tx) (any, error) {
	amount, hasAmount := c.p.int64("amount")
	currency, hasCurrency := readCurrency(c.p, "currency")
	customer, _ := c.p.str("customer")
	confirm, _ := c.p.bool("confirm")
	offSession := readOffSession(c.p)
	failOnAction := errorOnRequiresAction(c.p)
	ip := readIntentParams(c.p, "payment_method", "capture_method", "receipt_email", "setup_future_usage",
		"statement_descriptor", "statement_descriptor_suffix", "payment_method_types", "payment_method_options",
		"shipping", "mandate_data", "transfer_group", "use_stripe_sdk", "return_url")
	apm, allowRedirects := readAutomaticPaymentMethods(c.p)
	confirmation, _ := c.p.enum("confirmation_method", "automatic", "manual")
	description, _ := c.p.str("description")
	md, _ := c.p.metadata("metadata")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	switch {
	case !hasAmount && !c.p.present("amount"):
		return nil, errMissing("amount")
	case !hasCurrency:
		return nil, errMissing("currency")
	case apm != nil && len(ip.methodTypes) > 0:
		return nil, invalid("", "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.")
	case offSession && !confirm:
		return nil, invalid("off_session", "The parameter `off_session` can only be used when `confirm` is `true`.")
	}
	if err := checkAmount(amount, currency, "amount"); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	in := billing.NewPayment{Amount: amount, Currency: currency, CaptureManual: ip.captureMethod == "manual",
		Description: description, Metadata: applyMetadata(nil, md, false)}
	now := c.now.Unix()
	if customer != "" {
		if in.Customer, now, err = l.customerNow(customer, "customer", now); err != nil {
			return nil, err
		}
	}
	if ip.hasPaymentMethod {
		if in.PaymentMethod, err = l.paymentMethodToPay(ip.paymentMethod, "payment_method", customer, now); err != nil {
			return nil, err
		}
	}
	// Since 2023-08-16 a PaymentIntent that names no payment method types
	// takes the account's automatic payment methods.
	opts := &intentOptions{AutomaticPaymentMethods: true, AllowRedirects: "always", ConfirmationMethod: confirmation}
	if apm != nil {
		opts.AutomaticPaymentMethods = *apm
		if *apm && allowRedirects != "" {
			opts.AllowRedirects = allowRedirects
		}
		if !*apm {
			opts.AllowRedirects = ""
		}
	}
	ip.apply(opts)
	// The settings are stored first, so that payment_intent.created shows
	// them.
	in.ID = l.NewID("pi_")
	if err := l.putIntentOptions(in.ID, now, opts); err != nil {
		return nil, err
	}
	p, err := l.Engine().CreatePayment(in, now)
	if err != nil {
		return nil, stripeError(err, opUse)
	}
	if !confirm {
		return renderPaymentIntentEx(p, l, expandSet(ex))
	}
	return s.confirmIntent(l, p, billing.ConfirmOptions{OffSession: offSession || failOnAction}, expandSet(ex), now)
}

func (s *Surface) retrievePaymentIntent(c *call, tx *store.Tx) (any, error) {
	secret, _ := c.p.str("client_secret")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, err := openByID(s, c, tx, (*ledger).Payment)
	if err != nil {
		return nil, err
	}
	if secret != "" && secret != clientSecret(p.ID) {
		return nil, invalid("client_secret", "The client_secret provided does not match the client_secret associated with the PaymentIntent.")
	}
	return renderPaymentIntentEx(p, l, expandSet(ex))
}

func (s *Surface) updatePaymentIntent(c *call, tx *store.Tx) (any, error) {
	var ch billing.PaymentChange
	var changed string // the first money field sent, for errors
	if v, ok := c.p.int64("amount"); ok {
		ch.Amount, changed = &v, "amount"
	}
	if v, ok := readCurrency(c.p, "currency"); ok {
		ch.Currency = &v
		if changed == "" {
			changed = "currency"
		}
	}
	customer, hasCustomer := c.p.str("customer")
	ip := readIntentParams(c.p, "payment_method", "capture_method", "receipt_email", "setup_future_usage",
		"statement_descriptor", "statement_descriptor_suffix", "payment_method_types", "payment_method_options",
		"shipping", "transfer_group")
	ch.Description = c.p.clearable("description")
	md, cleared := c.p.metadata("metadata")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, now, err := s.openIntent(c, tx)
	if err != nil {
		return nil, err
	}
	if hasCustomer && customer != p.Customer {
		if p.Customer != "" {
			return nil, invalid("customer", "You cannot modify `customer` on a PaymentIntent once it already has been set. "+
				"To fulfill a payment with a different Customer, cancel this PaymentIntent and create a new one.")
		}
		if ch.Customer, now, err = l.customerNow(customer, "customer", c.now.Unix()); err != nil {
			return nil, err
		}
		if changed == "" {
			changed = "customer"
		}
	}
	if ip.captureMethod != "" {
		manual := ip.captureMethod == "manual"
		if manual != p.CaptureManual {
			ch.CaptureManual = &manual
			if changed == "" {
				changed = "capture_method"
			}
		}
	}
	owner := p.Customer
	if ch.Customer != nil {
		owner = ch.Customer.ID
	}
	if ip.hasPaymentMethod {
		if changed == "" {
			changed = "payment_method"
		}
		if ch.PaymentMethod, err = l.paymentMethodToPay(ip.paymentMethod, "payment_method", owner, now); err != nil {
			return nil, err
		}
	}
	currency := p.Currency
	if ch.Currency != nil {
		currency = *ch.Currency
	}
	if ch.Amount != nil {
		if err := checkAmount(*ch.Amount, currency, "amount"); err != nil {
			return nil, err
		}
	}
	ch.Metadata = metadataUpdate(p.Metadata, md, cleared)
	if err := l.Engine().UpdatePayment(p, ch); err != nil {
		return nil, intentStateError(err, l, changed)
	}
	opts, err := l.intentOptions(p.ID)
	if err != nil {
		return nil, err
	}
	ip.apply(opts)
	if err := l.putIntentOptions(p.ID, p.Created, opts); err != nil {
		return nil, err
	}
	return renderPaymentIntentEx(p, l, expandSet(ex))
}

func (s *Surface) confirmPaymentIntent(c *call, tx *store.Tx) (any, error) {
	offSession := readOffSession(c.p)
	failOnAction := errorOnRequiresAction(c.p)
	ip := readIntentParams(c.p, "payment_method", "capture_method", "receipt_email", "setup_future_usage",
		"payment_method_types", "payment_method_options", "shipping", "mandate_data", "use_stripe_sdk", "return_url",
		"client_secret")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, now, err := s.openIntent(c, tx)
	if err != nil {
		return nil, err
	}
	var opts billing.ConfirmOptions
	opts.OffSession = offSession || failOnAction
	if ip.hasPaymentMethod {
		if opts.PaymentMethod, err = l.paymentMethodToPay(ip.paymentMethod, "payment_method", p.Customer, now); err != nil {
			return nil, err
		}
	}
	if ip.captureMethod != "" && p.Invoice == "" {
		p.CaptureManual = ip.captureMethod == "manual"
	}
	if p.Invoice == "" {
		o, err := l.intentOptions(p.ID)
		if err != nil {
			return nil, err
		}
		ip.apply(o)
		if err := l.putIntentOptions(p.ID, p.Created, o); err != nil {
			return nil, err
		}
	}
	return s.confirmIntent(l, p, opts, expandSet(ex), now)
}

func (s *Surface) capturePaymentIntent(c *call, tx *store.Tx) (any, error) {
	amount, hasAmount := c.p.int64("amount_to_capture")
	md, cleared := c.p.metadata("metadata")
	c.p.str("statement_descriptor")
	c.p.str("statement_descriptor_suffix")
	c.p.bool("final_capture")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	if hasAmount && amount <= 0 {
		return nil, invalid("amount_to_capture", "This value must be greater than or equal to 1.")
	}
	l, p, now, err := s.openIntent(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().CapturePayment(p, amount, now); err != nil {
		return nil, intentStateError(err, l, "")
	}
	if md != nil || cleared {
		if err := l.Engine().UpdatePayment(p, billing.PaymentChange{Metadata: metadataUpdate(p.Metadata, md, cleared)}); err != nil {
			return nil, err
		}
	}
	return renderPaymentIntentEx(p, l, expandSet(ex))
}

func (s *Surface) cancelPaymentIntent(c *call, tx *store.Tx) (any, error) {
	reason, _ := c.p.enum("cancellation_reason", "duplicate", "fraudulent", "requested_by_customer", "abandoned")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, now, err := s.openIntent(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().CancelPayment(p, reason, now); err != nil {
		return nil, intentStateError(err, l, "")
	}
	return renderPaymentIntentEx(p, l, expandSet(ex))
}

func (s *Surface) listPaymentIntents(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	c.p.str("customer_account")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(paymentIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.PaymentsCollection)
	if err != nil {
		return nil, err
	}
	match := func(p *billing.Payment) bool {
		return (customer == "" || p.Customer == customer) && created.match(p.Created)
	}
	return listTyped(coll, pg, "/v1/payment_intents", "payment_intent", match, func(p *billing.Payment) (any, error) {
		return renderPaymentIntentEx(p, l, expandSet(ex))
	})
}
