package billing

import "fmt"

// This file holds direct payments: a payment made for its own sake rather
// than for an invoice (Stripe: a PaymentIntent created through the API).
// It is created, optionally changed, confirmed (one attempt through
// attempt), and, when captured by hand, captured or canceled.

// PaymentAction is what was asked of a payment.
type PaymentAction string

// Payment actions.
const (
	ActionUpdate  PaymentAction = "update"
	ActionConfirm PaymentAction = "confirm"
	ActionCapture PaymentAction = "capture"
	ActionCancel  PaymentAction = "cancel"
)

// actionAllowed lists the statuses from which each action may be taken.
var actionAllowed = map[PaymentAction][]PaymentStatus{
	ActionUpdate:  {PaymentRequiresPaymentMethod, PaymentRequiresConfirmation, PaymentRequiresAction},
	ActionConfirm: {PaymentRequiresConfirmation, PaymentRequiresPaymentMethod, PaymentRequiresAction},
	ActionCapture: {PaymentRequiresCapture},
	ActionCancel:  {PaymentRequiresPaymentMethod, PaymentRequiresCapture, PaymentRequiresConfirmation, PaymentRequiresAction, PaymentProcessing},
}

// PaymentStateError reports an action a payment's status (or nature) does
// not allow. Each surface words it for its provider.
type PaymentStateError struct {
	Action PaymentAction
	// Payment is a snapshot of the payment as it was.
	Payment *Payment
	// Allowed are the statuses the action may be taken from.
	Allowed []PaymentStatus
	// MissingPaymentMethod: confirming needs a payment method, and the
	// payment has none.
	MissingPaymentMethod bool
	// Invoice: the payment belongs to this invoice, which manages it.
	Invoice string
}

func (e *PaymentStateError) Error() string {
	switch {
	case e.MissingPaymentMethod:
		return fmt.Sprintf("cannot %s payment %s: no payment method", e.Action, e.Payment.ID)
	case e.Invoice != "":
		return fmt.Sprintf("cannot %s payment %s: it belongs to invoice %s", e.Action, e.Payment.ID, e.Invoice)
	}
	return fmt.Sprintf("cannot %s payment %s: status %s", e.Action, e.Payment.ID, e.Payment.Status)
}

// CaptureTooLargeError reports a capture of more than can be captured.
type CaptureTooLargeError struct {
	Amount, Capturable int64
}

func (e *CaptureTooLargeError) Error() string {
	return fmt.Sprintf("capture of %d exceeds the capturable %d", e.Amount, e.Capturable)
}

// checkAction returns a *PaymentStateError unless p may take action a.
func checkAction(p *Payment, a PaymentAction) error {
	if p.Invoice != "" {
		return &PaymentStateError{Action: a, Payment: snapshotPayment(p), Invoice: p.Invoice}
	}
	for _, s := range actionAllowed[a] {
		if p.Status == s {
			return nil
		}
	}
	return &PaymentStateError{Action: a, Payment: snapshotPayment(p), Allowed: actionAllowed[a]}
}

// NewPayment is a request for a direct payment.
type NewPayment struct {
	// ID, if set, is the new payment's id (a surface that keeps settings
	// of its own beside the payment names it first); otherwise one is made.
	ID string
	// Customer pays, if set; the payment then lives in the customer's
	// time (its clock).
	Customer *Customer
	Amount   int64
	Currency string
	// PaymentMethod, if set, is the one the payment will be attempted
	// with.
	PaymentMethod *PaymentMethod
	// CaptureManual makes a successful attempt wait for a capture.
	CaptureManual bool
	Description   string
	Metadata      map[string]string
}

// CreatePayment makes a direct payment at now and announces it. It waits
// for a payment method, or for confirmation if it has one.
func (e *Engine) CreatePayment(in NewPayment, now int64) (*Payment, error) {
	if in.ID == "" {
		in.ID = e.L.NewID("pi_")
	}
	p := &Payment{ID: in.ID, Created: now, Amount: in.Amount, Currency: in.Currency,
		Status: PaymentRequiresPaymentMethod, CaptureManual: in.CaptureManual, Description: in.Description,
		Metadata: in.Metadata}
	if in.Customer != nil {
		p.Customer, p.Clock = in.Customer.ID, in.Customer.Clock
	}
	if in.PaymentMethod != nil {
		if err := CheckUsable(in.PaymentMethod, p.Customer, "payment_method"); err != nil {
			return nil, err
		}
		p.PaymentMethod, p.Status = in.PaymentMethod.ID, PaymentRequiresConfirmation
	}
	if err := e.L.PutPayment(p); err != nil {
		return nil, err
	}
	return p, e.emit(EventPaymentCreated, now, snapshotPayment(p))
}

// PaymentChange is an update of a direct payment: nil fields stay as they
// are.
type PaymentChange struct {
	Amount   *int64
	Currency *string
	// Customer may be set only on a payment that has none.
	Customer      *Customer
	PaymentMethod *PaymentMethod
	CaptureManual *bool
	Description   *string
	// Metadata is merged as in MergeMetadata.
	Metadata map[string]string
}

// UpdatePayment changes a direct payment. Its description and metadata may
// change in any status; anything about the money only before the payment
// is made (requires_payment_method, requires_confirmation,
// requires_action). A new payment method makes it wait for confirmation.
func (e *Engine) UpdatePayment(p *Payment, ch PaymentChange) error {
	money := ch.Amount != nil || ch.Currency != nil || ch.Customer != nil || ch.PaymentMethod != nil || ch.CaptureManual != nil
	if p.Invoice != "" || money {
		if err := checkAction(p, ActionUpdate); err != nil {
			return err
		}
	}
	if ch.Customer != nil && ch.Customer.ID != p.Customer {
		if p.Customer != "" {
			e := invalid(CodePaymentCustomerSet, "customer")
			e.Resource, e.ID = "payment", p.ID
			return e
		}
		p.Customer, p.Clock = ch.Customer.ID, ch.Customer.Clock
	}
	if ch.PaymentMethod != nil {
		if err := CheckUsable(ch.PaymentMethod, p.Customer, "payment_method"); err != nil {
			return err
		}
		p.PaymentMethod, p.Status, p.LastError = ch.PaymentMethod.ID, PaymentRequiresConfirmation, nil
	}
	if ch.Amount != nil {
		p.Amount = *ch.Amount
	}
	if ch.Currency != nil {
		p.Currency = *ch.Currency
	}
	if ch.CaptureManual != nil {
		p.CaptureManual = *ch.CaptureManual
	}
	if ch.Description != nil {
		p.Description = *ch.Description
	}
	p.Metadata = MergeMetadata(p.Metadata, ch.Metadata)
	return e.L.PutPayment(p)
}

// ConfirmOptions say how a direct payment is confirmed.
type ConfirmOptions struct {
	// PaymentMethod, if set, replaces the payment's.
	PaymentMethod *PaymentMethod
	// OffSession: the customer is not there to authenticate.
	OffSession bool
}

// ConfirmPayment makes one attempt at a direct payment at now (the
// payment's time). It returns the decline, if the payment was not made;
// what the attempt left (a failed charge, the payment's last error) is
// saved all the same, for the caller to keep.
//
// A card that needs authentication leaves an on-session payment in
// requires_action, waiting for an authentication that never comes by
// itself. Off session there is no one to authenticate, so the card is
// declined like any other, with a failed charge.
func (e *Engine) ConfirmPayment(p *Payment, opts ConfirmOptions, now int64) (*Declined, error) {
	if err := checkAction(p, ActionConfirm); err != nil {
		return nil, err
	}
	pm := opts.PaymentMethod
	if pm == nil && p.PaymentMethod != "" {
		var err error
		if pm, err = e.L.PaymentMethod(p.PaymentMethod); err != nil {
			return nil, err
		}
	}
	if pm == nil {
		return nil, &PaymentStateError{Action: ActionConfirm, Payment: snapshotPayment(p), MissingPaymentMethod: true}
	}
	if err := CheckUsable(pm, p.Customer, "payment_method"); err != nil {
		return nil, err
	}
	p.OffSession = opts.OffSession
	charged := pm
	if opts.OffSession && pm.Behavior.RequiresAuthentication {
		c := *pm
		c.Behavior = CardBehavior{DeclineCharges: DeclineAuthenticationRequired}
		charged = &c
	}
	decl, err := e.attempt(p, charged, now)
	if err != nil || decl == nil {
		return nil, err
	}
	decl.PaymentMethod = snapshotPaymentMethod(pm)
	return decl, nil
}

// CapturePayment captures amount (0: all that is capturable) of a payment
// waiting for capture at now: its charge is captured and the payment
// succeeds with that amount received.
func (e *Engine) CapturePayment(p *Payment, amount, now int64) error {
	if err := checkAction(p, ActionCapture); err != nil {
		return err
	}
	if amount == 0 {
		amount = p.AmountCapturable
	}
	if amount > p.AmountCapturable {
		return &CaptureTooLargeError{Amount: amount, Capturable: p.AmountCapturable}
	}
	ch, err := e.L.Charge(p.LatestCharge)
	if err != nil {
		return err
	}
	ch.Captured, ch.AmountCaptured = true, amount
	// What is not captured is released back to the card.
	ch.AmountRefunded = ch.Amount - amount
	p.Status, p.AmountReceived, p.AmountCapturable = PaymentSucceeded, amount, 0
	if err := e.L.PutCharge(ch); err != nil {
		return err
	}
	if err := e.L.PutPayment(p); err != nil {
		return err
	}
	if err := e.emit(EventChargeCaptured, now, snapshotCharge(ch)); err != nil {
		return err
	}
	return e.emit(EventPaymentSucceeded, now, snapshotPayment(p))
}

// CancelPayment cancels a direct payment at now, giving reason (a neutral
// reason such as "requested_by_customer", or ""). An uncaptured charge is
// released in full.
func (e *Engine) CancelPayment(p *Payment, reason string, now int64) error {
	if err := checkAction(p, ActionCancel); err != nil {
		return err
	}
	if p.Status == PaymentRequiresCapture && p.LatestCharge != "" {
		ch, err := e.L.Charge(p.LatestCharge)
		if err != nil {
			return err
		}
		ch.AmountRefunded = ch.Amount
		if err := e.L.PutCharge(ch); err != nil {
			return err
		}
	}
	p.Status, p.CanceledAt, p.CancellationReason, p.AmountCapturable = PaymentCanceled, now, reason, 0
	if err := e.L.PutPayment(p); err != nil {
		return err
	}
	return e.emit(EventPaymentCanceled, now, snapshotPayment(p))
}
