package billing

import (
	"fmt"
	"maps"
)

// This file holds the life of stored payment methods: creating one,
// attaching it to a customer (where a card that is declined when stored is
// refused), updating its details, detaching it (after which it can never be
// used again), and the checks a payment method passes before it pays for
// something or becomes a customer's default.

// PaymentMethodProblem says why a payment method cannot be used as asked.
type PaymentMethodProblem string

// Payment method problems.
const (
	// PaymentMethodDetached: it was detached from its customer and can
	// never be used or attached again.
	PaymentMethodDetached PaymentMethodProblem = "detached"
	// PaymentMethodOtherCustomer: it is attached to another customer.
	PaymentMethodOtherCustomer PaymentMethodProblem = "other_customer"
	// PaymentMethodNotAttached: it is not attached to the customer named
	// (or, where no customer is named, to any customer).
	PaymentMethodNotAttached PaymentMethodProblem = "not_attached"
)

// PaymentMethodError reports a payment method that cannot be used as
// asked. Each surface words it for its provider.
type PaymentMethodError struct {
	Problem       PaymentMethodProblem
	PaymentMethod string
	// Customer is the customer it was to be attached to or used for, if
	// any.
	Customer string
	// Param is the request parameter that named the payment method.
	Param string
}

func (e *PaymentMethodError) Error() string {
	return fmt.Sprintf("payment method %s: %s", e.PaymentMethod, e.Problem)
}

// CheckUsable reports whether pm may pay for customer ("" for a payment of
// no customer): it must not be detached, nor attached to someone else.
func CheckUsable(pm *PaymentMethod, customer, param string) error {
	switch {
	case pm.DetachedAt != 0:
		return &PaymentMethodError{Problem: PaymentMethodDetached, PaymentMethod: pm.ID, Customer: customer, Param: param}
	case pm.Customer != "" && pm.Customer != customer:
		return &PaymentMethodError{Problem: PaymentMethodOtherCustomer, PaymentMethod: pm.ID, Customer: customer, Param: param}
	}
	return nil
}

// CheckDefault reports whether pm may be a default payment method (or
// source) of customer: it must be attached to that customer.
func CheckDefault(pm *PaymentMethod, customer, param string) error {
	if pm.DetachedAt != 0 || pm.Customer != customer {
		return &PaymentMethodError{Problem: PaymentMethodNotAttached, PaymentMethod: pm.ID, Customer: customer, Param: param}
	}
	return nil
}

// CreatePaymentMethod stores pm as a new payment method created at now,
// attached to no one. Its ID is given here: "pm_..." or, for a legacy card,
// "card_...".
func (e *Engine) CreatePaymentMethod(pm *PaymentMethod, now int64) error {
	prefix := "pm_"
	if pm.Legacy {
		prefix = "card_"
	}
	pm.ID, pm.Created, pm.Customer, pm.Clock, pm.DetachedAt = e.L.NewID(prefix), now, "", "", 0
	if pm.Type == "" {
		pm.Type = "card"
	}
	return e.L.PutPaymentMethod(pm)
}

// AttachPaymentMethod attaches pm to cust at now (the customer's time) and
// announces it. Attaching it again to the same customer changes nothing. A
// card that is declined when stored is not attached: the decline is
// returned as a *Declined error, and the caller must not keep what the
// request changed.
func (e *Engine) AttachPaymentMethod(pm *PaymentMethod, cust *Customer, now int64) error {
	switch {
	case pm.DetachedAt != 0:
		return &PaymentMethodError{Problem: PaymentMethodDetached, PaymentMethod: pm.ID, Customer: cust.ID, Param: "payment_method"}
	case pm.Customer == cust.ID:
		return nil
	case pm.Customer != "":
		return &PaymentMethodError{Problem: PaymentMethodOtherCustomer, PaymentMethod: pm.ID, Customer: cust.ID, Param: "payment_method"}
	case pm.Behavior.DeclineOnAttach != "":
		return &Declined{Reason: pm.Behavior.DeclineOnAttach, PaymentMethod: snapshotPaymentMethod(pm)}
	}
	pm.Customer, pm.Clock = cust.ID, cust.Clock
	if err := e.L.PutPaymentMethod(pm); err != nil {
		return err
	}
	return e.emit(EventPaymentMethodAttached, now, snapshotPaymentMethod(pm))
}

// DetachPaymentMethod detaches pm from its customer at now (the
// customer's time). It can never be used again. If it was the customer's
// default payment method or default source, the customer is left without
// one (and the change is announced).
func (e *Engine) DetachPaymentMethod(pm *PaymentMethod, now int64) error {
	if pm.Customer == "" {
		return &PaymentMethodError{Problem: PaymentMethodNotAttached, PaymentMethod: pm.ID, Param: "payment_method"}
	}
	custID := pm.Customer
	pm.Customer, pm.DetachedAt = "", now
	if err := e.L.PutPaymentMethod(pm); err != nil {
		return err
	}
	if err := e.emit(EventPaymentMethodDetached, now, snapshotPaymentMethod(pm)); err != nil {
		return err
	}
	cust, err := e.L.Customer(custID)
	if err != nil {
		return ignoreNotFound(err)
	}
	if cust.DefaultPaymentMethod != pm.ID && cust.DefaultSource != pm.ID {
		return nil
	}
	before := snapshotCustomer(cust)
	if cust.DefaultPaymentMethod == pm.ID {
		cust.DefaultPaymentMethod = ""
	}
	if cust.DefaultSource == pm.ID {
		cust.DefaultSource = ""
	}
	if err := e.L.PutCustomer(cust); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventCustomerUpdated, Time: now, Object: snapshotCustomer(cust), Before: before})
}

// BillingDetailsChange is an update of a payment method's billing
// details: nil fields stay as they are, "" clears one; Address keys are
// merged the same way.
type BillingDetailsChange struct {
	Name, Email, Phone *string
	Address            map[string]string
}

// Apply makes the change ch to bd.
func (bd *BillingDetails) Apply(ch BillingDetailsChange) {
	for _, f := range []struct {
		dst *string
		v   *string
	}{{&bd.Name, ch.Name}, {&bd.Email, ch.Email}, {&bd.Phone, ch.Phone}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if len(ch.Address) > 0 {
		bd.Address = MergeMetadata(bd.Address, ch.Address)
		if len(bd.Address) == 0 {
			bd.Address = nil
		}
	}
}

// PaymentMethodChange is an update of a payment method's own details.
type PaymentMethodChange struct {
	BillingDetails    BillingDetailsChange
	ExpMonth, ExpYear *int
	// Metadata is merged as in MergeMetadata.
	Metadata map[string]string
}

// UpdatePaymentMethod changes pm's details at now and announces the
// change, if anything changed. Only a payment method attached to a
// customer may be updated.
func (e *Engine) UpdatePaymentMethod(pm *PaymentMethod, ch PaymentMethodChange, now int64) error {
	if pm.Customer == "" {
		return &PaymentMethodError{Problem: PaymentMethodNotAttached, PaymentMethod: pm.ID, Param: "payment_method"}
	}
	before := snapshotPaymentMethod(pm)
	pm.BillingDetails.Apply(ch.BillingDetails)
	if ch.ExpMonth != nil {
		pm.Card.ExpMonth = *ch.ExpMonth
	}
	if ch.ExpYear != nil {
		pm.Card.ExpYear = *ch.ExpYear
	}
	pm.Metadata = MergeMetadata(pm.Metadata, ch.Metadata)
	if samePaymentMethod(before, pm) {
		return nil
	}
	if err := e.L.PutPaymentMethod(pm); err != nil {
		return err
	}
	return e.L.Emit(Event{Type: EventPaymentMethodUpdated, Time: now, Object: snapshotPaymentMethod(pm), Before: before})
}

func samePaymentMethod(a, b *PaymentMethod) bool {
	return a.BillingDetails.Name == b.BillingDetails.Name && a.BillingDetails.Email == b.BillingDetails.Email &&
		a.BillingDetails.Phone == b.BillingDetails.Phone && sameStrings(a.BillingDetails.Address, b.BillingDetails.Address) &&
		a.Card == b.Card && sameStrings(a.Metadata, b.Metadata)
}

func sameStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// snapshotPaymentMethod copies pm, maps included, for an event or an
// error to keep.
func snapshotPaymentMethod(pm *PaymentMethod) *PaymentMethod {
	c := *pm
	c.Metadata = maps.Clone(pm.Metadata)
	c.BillingDetails.Address = maps.Clone(pm.BillingDetails.Address)
	return &c
}
