package billing

import (
	"fmt"
	"maps"
)

// This file holds setups: a customer's payment method saved for later
// payments without a payment now (Stripe: a SetupIntent). A setup is
// created, optionally changed, confirmed (the card is checked as storing
// it checks it, and attached to the setup's customer), or canceled.

// SetupStatus is where a setup is in its life.
type SetupStatus string

// Setup statuses.
const (
	SetupRequiresPaymentMethod SetupStatus = "requires_payment_method"
	SetupRequiresConfirmation  SetupStatus = "requires_confirmation"
	SetupRequiresAction        SetupStatus = "requires_action"
	SetupSucceeded             SetupStatus = "succeeded"
	SetupCanceled              SetupStatus = "canceled"
)

// Setup saves a payment method for later payments, for a customer or for
// no one yet.
type Setup struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	// Customer, if set, is who the payment method is saved for; the setup
	// then lives in the customer's time (its clock).
	Customer string `json:"customer,omitempty"`
	Clock    string `json:"clock,omitempty"`
	// PaymentMethod is the one to save (or saved).
	PaymentMethod string      `json:"payment_method,omitempty"`
	Status        SetupStatus `json:"status"`
	// LastError is why the last confirmation failed; PaymentMethod is then
	// empty and LastError names the payment method that failed.
	LastError *PaymentError `json:"last_error,omitempty"`
	// OnSession: the payment method is for payments the customer is
	// present for; otherwise for payments made without them.
	OnSession          bool              `json:"on_session,omitempty"`
	CanceledAt         int64             `json:"canceled_at,omitempty"`
	CancellationReason string            `json:"cancellation_reason,omitempty"`
	Description        string            `json:"description,omitempty"`
	Metadata           map[string]string `json:"metadata,omitempty"`
}

// SetupLedger is the persisted state of setups. A Ledger that also
// implements it lets the engine make setups; without it they cannot be
// made. Setup returns a NotFound *Error for a missing setup.
type SetupLedger interface {
	Setup(id string) (*Setup, error)
	PutSetup(*Setup) error
}

// putSetup stores s in the ledger's SetupLedger, or fails if it keeps no
// setups.
func (e *Engine) putSetup(s *Setup) error {
	l, ok := e.L.(SetupLedger)
	if !ok {
		return &Error{Kind: Invalid, Message: "this ledger keeps no setups"}
	}
	return l.PutSetup(s)
}

// Event types of setups.
const (
	EventSetupCreated        EventType = "setup.created"
	EventSetupSucceeded      EventType = "setup.succeeded"
	EventSetupFailed         EventType = "setup.failed"
	EventSetupRequiresAction EventType = "setup.requires_action"
	EventSetupCanceled       EventType = "setup.canceled"
)

// setupAllowed lists the statuses from which each action may be taken on a
// setup: anything until it succeeded or was canceled.
var setupAllowed = []SetupStatus{SetupRequiresPaymentMethod, SetupRequiresConfirmation, SetupRequiresAction}

// SetupStateError reports an action a setup's status does not allow. Each
// surface words it for its provider.
type SetupStateError struct {
	Action PaymentAction
	// Setup is a snapshot of the setup as it was.
	Setup *Setup
	// Allowed are the statuses the action may be taken from.
	Allowed []SetupStatus
	// MissingPaymentMethod: confirming needs a payment method, and the
	// setup has none.
	MissingPaymentMethod bool
}

func (e *SetupStateError) Error() string {
	if e.MissingPaymentMethod {
		return fmt.Sprintf("cannot %s setup %s: no payment method", e.Action, e.Setup.ID)
	}
	return fmt.Sprintf("cannot %s setup %s: status %s", e.Action, e.Setup.ID, e.Setup.Status)
}

// checkSetupAction returns a *SetupStateError unless s may take action a.
func checkSetupAction(s *Setup, a PaymentAction) error {
	for _, st := range setupAllowed {
		if s.Status == st {
			return nil
		}
	}
	return &SetupStateError{Action: a, Setup: snapshotSetup(s), Allowed: setupAllowed}
}

// NewSetup is a request for a setup.
type NewSetup struct {
	// ID, if set, is the new setup's id; otherwise one is made.
	ID string
	// Customer, if set, is who the payment method is saved for.
	Customer *Customer
	// PaymentMethod, if set, is the one to save.
	PaymentMethod *PaymentMethod
	OnSession     bool
	Description   string
	Metadata      map[string]string
}

// CreateSetup makes a setup at now and announces it. It waits for a
// payment method, or for confirmation if it has one.
func (e *Engine) CreateSetup(in NewSetup, now int64) (*Setup, error) {
	if in.ID == "" {
		in.ID = e.L.NewID("seti_")
	}
	s := &Setup{ID: in.ID, Created: now, Status: SetupRequiresPaymentMethod, OnSession: in.OnSession,
		Description: in.Description, Metadata: in.Metadata}
	if in.Customer != nil {
		s.Customer, s.Clock = in.Customer.ID, in.Customer.Clock
	}
	if in.PaymentMethod != nil {
		if err := CheckUsable(in.PaymentMethod, s.Customer, "payment_method"); err != nil {
			return nil, err
		}
		s.PaymentMethod, s.Status = in.PaymentMethod.ID, SetupRequiresConfirmation
	}
	if err := e.putSetup(s); err != nil {
		return nil, err
	}
	return s, e.emit(EventSetupCreated, now, snapshotSetup(s))
}

// SetupChange is an update of a setup: nil fields stay as they are.
type SetupChange struct {
	// Customer may be set only on a setup that has none.
	Customer      *Customer
	PaymentMethod *PaymentMethod
	Description   *string
	// Metadata is merged as in MergeMetadata.
	Metadata map[string]string
}

// UpdateSetup changes a setup. Its description and metadata may change in
// any status; its customer and payment method only until it succeeds or is
// canceled. A new payment method makes it wait for confirmation.
func (e *Engine) UpdateSetup(s *Setup, ch SetupChange) error {
	if ch.Customer != nil || ch.PaymentMethod != nil {
		if err := checkSetupAction(s, ActionUpdate); err != nil {
			return err
		}
	}
	if ch.Customer != nil && ch.Customer.ID != s.Customer {
		if s.Customer != "" {
			// Surfaces refuse this in their own words before asking.
			return &Error{Kind: Invalid, Param: "customer", Resource: "setup", ID: s.ID,
				Message: "the customer of setup " + s.ID + " cannot change once it is set"}
		}
		s.Customer, s.Clock = ch.Customer.ID, ch.Customer.Clock
	}
	if ch.PaymentMethod != nil {
		if err := CheckUsable(ch.PaymentMethod, s.Customer, "payment_method"); err != nil {
			return err
		}
		s.PaymentMethod, s.Status, s.LastError = ch.PaymentMethod.ID, SetupRequiresConfirmation, nil
	}
	if ch.Description != nil {
		s.Description = *ch.Description
	}
	s.Metadata = MergeMetadata(s.Metadata, ch.Metadata)
	return e.putSetup(s)
}

// ConfirmSetup confirms a setup at now (the setup's time) with pm, or with
// its own payment method when pm is nil. The card is checked as attaching
// it checks it: a card declined when stored fails the setup, which waits
// for another payment method, and the decline is returned (what it left is
// saved all the same, for the caller to keep). A card that needs the
// customer to authenticate leaves the setup in requires_action, waiting for
// an authentication that never comes by itself. Otherwise the setup
// succeeds and the payment method is attached to the setup's customer, if
// it has one.
func (e *Engine) ConfirmSetup(s *Setup, pm *PaymentMethod, now int64) (*Declined, error) {
	if err := checkSetupAction(s, ActionConfirm); err != nil {
		return nil, err
	}
	if pm == nil && s.PaymentMethod != "" {
		var err error
		if pm, err = e.L.PaymentMethod(s.PaymentMethod); err != nil {
			return nil, err
		}
	}
	if pm == nil {
		return nil, &SetupStateError{Action: ActionConfirm, Setup: snapshotSetup(s), MissingPaymentMethod: true}
	}
	if err := CheckUsable(pm, s.Customer, "payment_method"); err != nil {
		return nil, err
	}
	s.PaymentMethod, s.LastError = pm.ID, nil
	switch {
	case pm.Behavior.DeclineOnAttach != "":
		reason := pm.Behavior.DeclineOnAttach
		s.Status, s.PaymentMethod = SetupRequiresPaymentMethod, ""
		s.LastError = &PaymentError{Reason: reason, PaymentMethod: pm.ID}
		if err := e.putSetup(s); err != nil {
			return nil, err
		}
		if err := e.emit(EventSetupFailed, now, snapshotSetup(s)); err != nil {
			return nil, err
		}
		return &Declined{Reason: reason, PaymentMethod: snapshotPaymentMethod(pm)}, nil
	case pm.Behavior.RequiresAuthentication:
		s.Status = SetupRequiresAction
		if err := e.putSetup(s); err != nil {
			return nil, err
		}
		return nil, e.emit(EventSetupRequiresAction, now, snapshotSetup(s))
	}
	if s.Customer != "" && pm.Customer == "" {
		cust, err := e.L.Customer(s.Customer)
		if err != nil {
			return nil, err
		}
		if err := e.AttachPaymentMethod(pm, cust, now); err != nil {
			return nil, err
		}
	}
	s.Status = SetupSucceeded
	if err := e.putSetup(s); err != nil {
		return nil, err
	}
	return nil, e.emit(EventSetupSucceeded, now, snapshotSetup(s))
}

// CancelSetup cancels a setup at now, giving reason (a neutral reason such
// as "requested_by_customer", or "").
func (e *Engine) CancelSetup(s *Setup, reason string, now int64) error {
	if err := checkSetupAction(s, ActionCancel); err != nil {
		return err
	}
	s.Status, s.CanceledAt, s.CancellationReason = SetupCanceled, now, reason
	if err := e.putSetup(s); err != nil {
		return err
	}
	return e.emit(EventSetupCanceled, now, snapshotSetup(s))
}

// snapshotSetup copies s, maps included, for an event or an error to keep.
func snapshotSetup(s *Setup) *Setup {
	c := *s
	c.Metadata = maps.Clone(s.Metadata)
	if s.LastError != nil {
		le := *s.LastError
		c.LastError = &le
	}
	return &c
}
