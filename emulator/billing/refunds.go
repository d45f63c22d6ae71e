package billing

import (
	"fmt"
	"maps"
)

// This file holds refunds: money given back from a successful charge, all
// of what is left of it or a part. A refund changes the charge (what was
// refunded of it), never the payment or the invoice it paid: an invoice
// whose payment is refunded stays paid.

// RefundStatus is where a refund is. Card refunds succeed at once.
type RefundStatus string

// Refund statuses.
const (
	RefundSucceeded      RefundStatus = "succeeded"
	RefundPending        RefundStatus = "pending"
	RefundRequiresAction RefundStatus = "requires_action"
	RefundFailed         RefundStatus = "failed"
	RefundCanceled       RefundStatus = "canceled"
)

// Refund is money given back from a charge.
type Refund struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Charge  string `json:"charge"`
	// Payment is the charge's payment.
	Payment       string `json:"payment,omitempty"`
	PaymentMethod string `json:"payment_method,omitempty"`
	Customer      string `json:"customer,omitempty"`
	Clock         string `json:"clock,omitempty"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	// Reason is a neutral reason such as "duplicate", "fraudulent" or
	// "requested_by_customer", or "".
	Reason   string            `json:"reason,omitempty"`
	Status   RefundStatus      `json:"status"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RefundLedger is the persisted state of refunds. A Ledger that also
// implements it lets the engine make refunds; without it charges cannot be
// refunded. Refund returns a NotFound *Error for a missing refund.
type RefundLedger interface {
	Refund(id string) (*Refund, error)
	PutRefund(*Refund) error
}

// refundLedger is the ledger's RefundLedger, or an error if it keeps no
// refunds.
func (e *Engine) refundLedger() (RefundLedger, error) {
	if l, ok := e.L.(RefundLedger); ok {
		return l, nil
	}
	return nil, &Error{Kind: Invalid, Message: "this ledger keeps no refunds"}
}

// Event types of refunds.
const (
	// EventChargeRefunded: a charge was refunded, in full or in part (the
	// event's object is the charge).
	EventChargeRefunded EventType = "charge.refunded"
	EventRefundCreated  EventType = "refund.created"
	EventRefundUpdated  EventType = "refund.updated"
)

// RefundProblem says why a refund cannot be made or changed as asked.
type RefundProblem string

// Refund problems.
const (
	// RefundNoSuccessfulCharge: the charge (or the payment's latest
	// charge) did not succeed, or was never captured.
	RefundNoSuccessfulCharge RefundProblem = "no_successful_charge"
	// RefundAlreadyRefunded: nothing is left of the charge to refund.
	RefundAlreadyRefunded RefundProblem = "already_refunded"
	// RefundTooLarge: the amount asked is more than is left of the charge.
	RefundTooLarge RefundProblem = "too_large"
	// RefundNotCancelable: only a refund waiting for an action can be
	// canceled.
	RefundNotCancelable RefundProblem = "not_cancelable"
)

// RefundError reports a refund that cannot be made or changed as asked.
// Each surface words it for its provider.
type RefundError struct {
	Problem RefundProblem
	// Charge and Payment are the charge refunded and its payment.
	Charge, Payment string
	// Amount is the amount asked and Left what is left of the charge to
	// refund (RefundTooLarge).
	Amount, Left int64
	Currency     string
	// Refund and Status are the refund that cannot be canceled and its
	// status (RefundNotCancelable).
	Refund string
	Status RefundStatus
}

func (e *RefundError) Error() string {
	switch e.Problem {
	case RefundNoSuccessfulCharge:
		return fmt.Sprintf("payment %s has no successful charge to refund", e.Payment)
	case RefundAlreadyRefunded:
		return fmt.Sprintf("charge %s is already refunded", e.Charge)
	case RefundTooLarge:
		return fmt.Sprintf("refund of %d exceeds the %d left of charge %s", e.Amount, e.Left, e.Charge)
	}
	return fmt.Sprintf("refund %s is %s and cannot be canceled", e.Refund, e.Status)
}

// NewRefund is a request to refund a charge.
type NewRefund struct {
	Charge *Charge
	// Amount is what to refund; 0 refunds all that is left.
	Amount   int64
	Reason   string
	Metadata map[string]string
}

// RefundCharge refunds a charge at now (the charge's time): it records the
// refund, counts it in the charge's refunded amount, and announces both.
func (e *Engine) RefundCharge(in NewRefund, now int64) (*Refund, error) {
	rl, err := e.refundLedger()
	if err != nil {
		return nil, err
	}
	ch := in.Charge
	if ch.Status != ChargeSucceeded || !ch.Captured {
		return nil, &RefundError{Problem: RefundNoSuccessfulCharge, Charge: ch.ID, Payment: ch.Payment}
	}
	left := ch.Amount - ch.AmountRefunded
	amount := in.Amount
	switch {
	case left <= 0:
		return nil, &RefundError{Problem: RefundAlreadyRefunded, Charge: ch.ID, Payment: ch.Payment}
	case amount == 0:
		amount = left
	case amount > left:
		return nil, &RefundError{Problem: RefundTooLarge, Charge: ch.ID, Payment: ch.Payment, Amount: amount, Left: left,
			Currency: ch.Currency}
	}
	r := &Refund{ID: e.L.NewID("re_"), Created: now, Charge: ch.ID, Payment: ch.Payment, PaymentMethod: ch.PaymentMethod,
		Customer: ch.Customer, Clock: ch.Clock, Amount: amount, Currency: ch.Currency, Reason: in.Reason,
		Status: RefundSucceeded, Metadata: in.Metadata}
	ch.AmountRefunded += amount
	if err := e.L.PutCharge(ch); err != nil {
		return nil, err
	}
	if err := rl.PutRefund(r); err != nil {
		return nil, err
	}
	if err := e.emit(EventChargeRefunded, now, snapshotCharge(ch)); err != nil {
		return nil, err
	}
	return r, e.emit(EventRefundCreated, now, snapshotRefund(r))
}

// UpdateRefund merges metadata into a refund's (as MergeMetadata does) at
// now and announces the change, if anything changed.
func (e *Engine) UpdateRefund(r *Refund, metadata map[string]string, now int64) error {
	rl, err := e.refundLedger()
	if err != nil {
		return err
	}
	before := snapshotRefund(r)
	r.Metadata = MergeMetadata(r.Metadata, metadata)
	if sameStrings(before.Metadata, r.Metadata) {
		return nil
	}
	if err := rl.PutRefund(r); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventRefundUpdated, Time: now, Object: snapshotRefund(r), Before: before})
}

// CancelRefund cancels a refund waiting for an action at now. Card refunds
// never wait, so they cannot be canceled.
func (e *Engine) CancelRefund(r *Refund, now int64) error {
	if r.Status != RefundRequiresAction {
		return &RefundError{Problem: RefundNotCancelable, Refund: r.ID, Status: r.Status, Charge: r.Charge, Payment: r.Payment}
	}
	rl, err := e.refundLedger()
	if err != nil {
		return err
	}
	ch, err := e.L.Charge(r.Charge)
	if err != nil {
		return err
	}
	before := snapshotRefund(r)
	r.Status = RefundCanceled
	ch.AmountRefunded -= r.Amount
	if err := e.L.PutCharge(ch); err != nil {
		return err
	}
	if err := rl.PutRefund(r); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventRefundUpdated, Time: now, Object: snapshotRefund(r), Before: before})
}

// snapshotRefund copies r, maps included, for an event to keep.
func snapshotRefund(r *Refund) *Refund {
	c := *r
	c.Metadata = maps.Clone(r.Metadata)
	return &c
}
