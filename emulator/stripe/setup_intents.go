package stripe

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// This file serves SetupIntents (/v1/setup_intents) over the engine's
// setups: a card saved for later payments. Confirming one checks the card
// as attaching it does, and attaches it to the SetupIntent's customer.

// maxSetupDescription is the longest SetupIntent description (Stripe's
// spec).
const maxSetupDescription = 1000

// setupIntentExpansions are the fields of a SetupIntent expand[] may name.
var setupIntentExpansions = []string{"customer", "payment_method"}

// setupOptionsCollection holds each SetupIntent's Stripe-only settings
// (setupOptions), by SetupIntent id.
const setupOptionsCollection = "setup_intent_options"

// setupOptions are the SetupIntent settings only Stripe has, kept by the
// surface beside the engine's setup.
type setupOptions struct {
	// AutomaticPaymentMethods is automatic_payment_methods[enabled];
	// AllowRedirects its allow_redirects.
	AutomaticPaymentMethods bool     `json:"automatic_payment_methods,omitempty"`
	AllowRedirects          string   `json:"allow_redirects,omitempty"`
	PaymentMethodTypes      []string `json:"payment_method_types,omitempty"`
	// CheckoutSession is the Checkout Session in setup mode the
	// SetupIntent belongs to: completing the session confirms it, and
	// expiring it cancels it; the API does neither.
	CheckoutSession string `json:"checkout_session,omitempty"`
}

// refuseCheckoutSetup refuses to take action (confirm or cancel) through
// the API on a SetupIntent that belongs to a Checkout Session, as Stripe
// does.
func (l *ledger) refuseCheckoutSetup(si *billing.Setup, action string) error {
	o, err := l.setupOptions(si.ID)
	if err != nil || o.CheckoutSession == "" {
		return err
	}
	if action == "confirm" {
		return invalid("", "You cannot confirm this SetupIntent because it belongs to the Checkout Session %s: the session "+
			"confirms it when the customer completes it.", o.CheckoutSession)
	}
	return invalid("", "You cannot cancel this SetupIntent because it belongs to the Checkout Session %s: to cancel it, "+
		"expire the Checkout Session instead.", o.CheckoutSession)
}

// setupOptions returns SetupIntent id's Stripe-only settings (the zero
// settings if it has none).
func (l *ledger) setupOptions(id string) (*setupOptions, error) {
	coll, err := l.Collection(setupOptionsCollection)
	if err != nil {
		return nil, err
	}
	raw, err := coll.Get(id)
	if errors.Is(err, store.ErrNotFound) {
		return &setupOptions{}, nil
	}
	if err != nil {
		return nil, err
	}
	var o setupOptions
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, fmt.Errorf("decode options of %s: %w", id, err)
	}
	return &o, nil
}

// putSetupOptions stores SetupIntent id's Stripe-only settings.
func (l *ledger) putSetupOptions(id string, created int64, o *setupOptions) error {
	return l.Put(setupOptionsCollection, id, created, o)
}

// setupOptionsLookup finds a SetupIntent's Stripe-only settings; the
// ledger is one.
type setupOptionsLookup interface {
	setupOptions(id string) (*setupOptions, error)
}

// readMethodTypes reads payment_method_types: billclock has cards only.
func readMethodTypes(p *params) []string {
	types := p.strings("payment_method_types")
	for _, t := range types {
		if t != "card" {
			p.fail(invalid("payment_method_types", "billclock emulates card payments only; the payment method type %s is not supported.", t))
		}
	}
	return types
}

// readAutomaticPaymentMethods reads automatic_payment_methods[...]: nil
// when it was not sent.
func readAutomaticPaymentMethods(p *params) (enabled *bool, allowRedirects string) {
	sub, ok := p.sub("automatic_payment_methods")
	if !ok {
		return nil, ""
	}
	v, _ := sub.bool("automatic_payment_methods[enabled]")
	allowRedirects, _ = sub.enum("automatic_payment_methods[allow_redirects]", "always", "never")
	p.fail(sub.check())
	return &v, allowRedirects
}

// ignoreParams marks parameters as read that billclock accepts and has
// nothing to do with (payment method options, mandates, redirects, ...).
func ignoreParams(p *params, names ...string) {
	for _, n := range names {
		p.seen[n] = true
	}
}

// setupStateError words the engine's refusal of a SetupIntent action as
// Stripe does, with the SetupIntent in the error. field names the field
// an update tried to change.
func setupStateError(err error, l *ledger, field string) error {
	var stateErr *billing.SetupStateError
	if !errors.As(err, &stateErr) {
		return stripeError(err, opUse)
	}
	si := stateErr.Setup
	list := statusList(stateErr.Allowed)
	var e *Error
	switch {
	case stateErr.MissingPaymentMethod:
		e = invalid("", "You cannot confirm this SetupIntent because it's missing a payment method. You can either update the "+
			"SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.")
	case stateErr.Action == billing.ActionConfirm && si.Status == billing.SetupSucceeded:
		e = invalid("", "You cannot confirm this SetupIntent because it has already succeeded after being previously confirmed.")
	case stateErr.Action == billing.ActionConfirm:
		e = invalid("", "You cannot confirm this SetupIntent because it has a status of %s. Only a SetupIntent with one of the "+
			"following statuses may be confirmed: %s.", si.Status, list)
	case stateErr.Action == billing.ActionCancel:
		e = invalid("", "You cannot cancel this SetupIntent because it has a status of %s. Only a SetupIntent with one of the "+
			"following statuses may be canceled: %s.", si.Status, list)
	default:
		e = invalid(field, "This SetupIntent's %s could not be updated because it has a status of %s. You may only update the %s "+
			"of a SetupIntent with one of the following statuses: %s.", field, si.Status, field, list)
	}
	e.Code = "setup_intent_unexpected_state"
	rendered, rerr := renderSetupIntent(si, l, nil)
	if rerr != nil {
		return rerr
	}
	e.SetupIntent = rendered
	return e
}

// openSetup is onClock for the SetupIntent the path names, which lives
// on its customer's clock.
func (s *Surface) openSetup(c *call, tx *store.Tx) (*ledger, *billing.Setup, int64, error) {
	return onClock(s, c, tx, (*ledger).Setup, func(si *billing.Setup) string { return si.Clock })
}

// confirmSetup confirms si at now with pm (nil: its own) and answers: the
// SetupIntent, or Stripe's 402 for a declined card, whose outcome (the
// SetupIntent back in requires_payment_method with last_setup_error) is
// kept all the same.
func confirmSetup(l *ledger, si *billing.Setup, pm *billing.PaymentMethod, ex expandSet, now int64) (any, error) {
	decl, err := l.Engine().ConfirmSetup(si, pm, now)
	if err != nil {
		return nil, setupStateError(err, l, "")
	}
	if decl == nil {
		return renderSetupIntent(si, l, ex)
	}
	e := errCardDeclined(decl.Reason)
	rendered, err := renderSetupIntent(si, l, nil)
	if err != nil {
		return nil, err
	}
	e.SetupIntent = rendered
	if e.PaymentMethod, err = renderPaymentMethod(decl.PaymentMethod, l); err != nil {
		return nil, err
	}
	return failAfterCommit(e), nil
}

func (s *Surface) createSetupIntent(c *call, tx *store.Tx) (any, error) {
	confirm, _ := c.p.bool("confirm")
	customer, _ := c.p.str("customer")
	pmID, hasPM := c.p.str("payment_method")
	usage, _ := c.p.enum("usage", "off_session", "on_session")
	types := readMethodTypes(c.p)
	apm, allowRedirects := readAutomaticPaymentMethods(c.p)
	description, _ := c.p.text("description", maxSetupDescription)
	md, _ := c.p.metadata("metadata")
	ignoreParams(c.p, "payment_method_options", "mandate_data", "return_url", "use_stripe_sdk", "on_behalf_of",
		"flow_directions", "attach_to_self", "payment_method_configuration", "single_use", "excluded_payment_method_types",
		"customer_account")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	if apm != nil && len(types) > 0 {
		return nil, invalid("", "You may only specify one of these parameters: automatic_payment_methods, payment_method_types.")
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	in := billing.NewSetup{OnSession: usage == "on_session", Description: description, Metadata: applyMetadata(nil, md, false)}
	now := c.now.Unix()
	if customer != "" {
		if in.Customer, now, err = l.customerNow(customer, "customer", now); err != nil {
			return nil, err
		}
	}
	if hasPM {
		if in.PaymentMethod, err = l.paymentMethodToPay(pmID, "payment_method", customer, now); err != nil {
			return nil, err
		}
	}
	// Since 2023-08-16 a SetupIntent that names no payment method types
	// takes the account's automatic payment methods.
	opts := &setupOptions{AutomaticPaymentMethods: true, AllowRedirects: "always", PaymentMethodTypes: types}
	switch {
	case len(types) > 0:
		opts.AutomaticPaymentMethods, opts.AllowRedirects = false, ""
	case apm != nil && !*apm:
		opts.AutomaticPaymentMethods, opts.AllowRedirects = false, ""
	case allowRedirects != "":
		opts.AllowRedirects = allowRedirects
	}
	// The settings are stored first, so that setup_intent.created shows
	// them.
	in.ID = l.NewID("seti_")
	if err := l.putSetupOptions(in.ID, now, opts); err != nil {
		return nil, err
	}
	si, err := l.Engine().CreateSetup(in, now)
	if err != nil {
		return nil, stripeError(err, opUse)
	}
	if !confirm {
		return renderSetupIntent(si, l, expandSet(ex))
	}
	return confirmSetup(l, si, nil, expandSet(ex), now)
}

func (s *Surface) retrieveSetupIntent(c *call, tx *store.Tx) (any, error) {
	secret, _ := c.p.str("client_secret")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, si, err := openByID(s, c, tx, (*ledger).Setup)
	if err != nil {
		return nil, err
	}
	if secret != "" && secret != clientSecret(si.ID) {
		return nil, invalid("client_secret", "The client_secret provided does not match the client_secret associated with the SetupIntent.")
	}
	return renderSetupIntent(si, l, expandSet(ex))
}

func (s *Surface) updateSetupIntent(c *call, tx *store.Tx) (any, error) {
	customer, hasCustomer := c.p.str("customer")
	pmID, hasPM := c.p.str("payment_method")
	types := readMethodTypes(c.p)
	description := c.p.clearableText("description", maxSetupDescription)
	md, cleared := c.p.metadata("metadata")
	ignoreParams(c.p, "payment_method_options", "flow_directions", "attach_to_self", "payment_method_configuration",
		"excluded_payment_method_types", "customer_account")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, si, now, err := s.openSetup(c, tx)
	if err != nil {
		return nil, err
	}
	ch := billing.SetupChange{Description: description, Metadata: metadataUpdate(si.Metadata, md, cleared)}
	changed := ""
	if hasCustomer && customer != si.Customer {
		if si.Customer != "" {
			return nil, invalid("customer", "You cannot modify `customer` on a SetupIntent once it already has been set. "+
				"To use a different Customer, cancel this SetupIntent and create a new one.")
		}
		if ch.Customer, now, err = l.customerNow(customer, "customer", c.now.Unix()); err != nil {
			return nil, err
		}
		changed = "customer"
	}
	if hasPM {
		owner := si.Customer
		if ch.Customer != nil {
			owner = ch.Customer.ID
		}
		if ch.PaymentMethod, err = l.paymentMethodToPay(pmID, "payment_method", owner, now); err != nil {
			return nil, err
		}
		if changed == "" {
			changed = "payment_method"
		}
	}
	if err := l.Engine().UpdateSetup(si, ch); err != nil {
		return nil, setupStateError(err, l, changed)
	}
	if len(types) > 0 {
		o, err := l.setupOptions(si.ID)
		if err != nil {
			return nil, err
		}
		o.PaymentMethodTypes, o.AutomaticPaymentMethods, o.AllowRedirects = types, false, ""
		if err := l.putSetupOptions(si.ID, si.Created, o); err != nil {
			return nil, err
		}
	}
	return renderSetupIntent(si, l, expandSet(ex))
}

func (s *Surface) confirmSetupIntent(c *call, tx *store.Tx) (any, error) {
	pmID, hasPM := c.p.str("payment_method")
	ignoreParams(c.p, "payment_method_options", "mandate_data", "return_url", "use_stripe_sdk", "client_secret")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, si, now, err := s.openSetup(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.refuseCheckoutSetup(si, "confirm"); err != nil {
		return nil, err
	}
	var pm *billing.PaymentMethod
	if hasPM {
		if pm, err = l.paymentMethodToPay(pmID, "payment_method", si.Customer, now); err != nil {
			return nil, err
		}
	}
	return confirmSetup(l, si, pm, expandSet(ex), now)
}

func (s *Surface) cancelSetupIntent(c *call, tx *store.Tx) (any, error) {
	reason, _ := c.p.enum("cancellation_reason", "abandoned", "duplicate", "requested_by_customer")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, si, now, err := s.openSetup(c, tx)
	if err != nil {
		return nil, err
	}
	if err := l.refuseCheckoutSetup(si, "cancel"); err != nil {
		return nil, err
	}
	if err := l.Engine().CancelSetup(si, reason, now); err != nil {
		return nil, setupStateError(err, l, "")
	}
	return renderSetupIntent(si, l, expandSet(ex))
}

func (s *Surface) listSetupIntents(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	customer, _ := c.p.str("customer")
	pm, _ := c.p.str("payment_method")
	created := rangeParam(c.p, "created")
	ignoreParams(c.p, "attach_to_self", "customer_account")
	ex, err := c.p.expansions(setupIntentExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.SetupsCollection)
	if err != nil {
		return nil, err
	}
	match := func(si *billing.Setup) bool {
		return (customer == "" || si.Customer == customer) && (pm == "" || si.PaymentMethod == pm) && created.match(si.Created)
	}
	return listTyped(coll, pg, "/v1/setup_intents", "setup_intent", match, func(si *billing.Setup) (any, error) {
		return renderSetupIntent(si, l, expandSet(ex))
	})
}

// setupIntentObject is components.schemas.setup_intent.
type setupIntentObject struct {
	ID                                string                  `json:"id"`
	Object                            string                  `json:"object"`
	Application                       any                     `json:"application"`
	AutomaticPaymentMethods           *automaticPaymentMethod `json:"automatic_payment_methods"`
	CancellationReason                *string                 `json:"cancellation_reason"`
	ClientSecret                      string                  `json:"client_secret"`
	Created                           int64                   `json:"created"`
	Customer                          any                     `json:"customer"`
	CustomerAccount                   *string                 `json:"customer_account"`
	Description                       *string                 `json:"description"`
	ExcludedPaymentMethodTypes        []string                `json:"excluded_payment_method_types"`
	FlowDirections                    []string                `json:"flow_directions"`
	LastSetupError                    *apiErrorObject         `json:"last_setup_error"`
	LatestAttempt                     any                     `json:"latest_attempt"`
	Livemode                          bool                    `json:"livemode"`
	Mandate                           any                     `json:"mandate"`
	Metadata                          map[string]string       `json:"metadata"`
	NextAction                        *nextAction             `json:"next_action"`
	OnBehalfOf                        any                     `json:"on_behalf_of"`
	PaymentMethod                     any                     `json:"payment_method"`
	PaymentMethodConfigurationDetails any                     `json:"payment_method_configuration_details"`
	PaymentMethodOptions              setupMethodOptions      `json:"payment_method_options"`
	PaymentMethodTypes                []string                `json:"payment_method_types"`
	SingleUseMandate                  any                     `json:"single_use_mandate"`
	Status                            string                  `json:"status"`
	Usage                             string                  `json:"usage"`
}

// setupMethodOptions is setup_intent_payment_method_options (card).
type setupMethodOptions struct {
	Card setupCardOptions `json:"card"`
}

type setupCardOptions struct {
	MandateOptions      any     `json:"mandate_options"`
	Network             *string `json:"network"`
	RequestThreeDSecure string  `json:"request_three_d_secure"`
}

// renderSetupIntent renders a setup as a SetupIntent; customer and
// payment_method are expandable.
func renderSetupIntent(si *billing.Setup, lk renderLookup, ex expandSet) (any, error) {
	opts := &setupOptions{}
	if ol, ok := lk.(setupOptionsLookup); ok {
		var err error
		if opts, err = ol.setupOptions(si.ID); err != nil {
			return nil, err
		}
	}
	o := &setupIntentObject{
		ID: si.ID, Object: "setup_intent", CancellationReason: nullString(si.CancellationReason),
		ClientSecret: clientSecret(si.ID), Created: si.Created, Description: nullString(si.Description),
		Metadata: metadata(si.Metadata), PaymentMethodOptions: setupMethodOptions{Card: setupCardOptions{RequestThreeDSecure: "automatic"}},
		PaymentMethodTypes: []string{"card"}, Status: string(si.Status), Usage: "off_session",
	}
	if si.OnSession {
		o.Usage = "on_session"
	}
	if len(opts.PaymentMethodTypes) > 0 {
		o.PaymentMethodTypes = opts.PaymentMethodTypes
	}
	if opts.AutomaticPaymentMethods {
		o.AutomaticPaymentMethods = &automaticPaymentMethod{Enabled: true, AllowRedirects: opts.AllowRedirects}
	}
	switch {
	case si.Status == billing.SetupRequiresAction:
		o.NextAction = &nextAction{Type: "use_stripe_sdk", UseStripeSDK: map[string]any{"type": "three_d_secure_redirect"}}
	case si.LastError != nil:
		var err error
		if o.LastSetupError, err = renderPaymentError(si.LastError, lk); err != nil {
			return nil, err
		}
	}
	var err error
	if o.Customer, err = expandCustomer(ex, "customer", si.Customer, lk); err != nil {
		return nil, err
	}
	if o.PaymentMethod, err = expandPaymentMethod(ex, "payment_method", si.PaymentMethod, lk); err != nil {
		return nil, err
	}
	return o, nil
}
