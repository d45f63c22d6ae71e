package clockwork

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// The ledger keeps the objects a transaction decoded or stored (see
// decoded) and hands out copies, as a decode would: each copy shares no
// slice, map or pointer with the kept object, so that a caller changing
// its copy (as the engine does before it puts it back) cannot change what
// the ledger keeps. TestCopiesShareNothing checks every field, so that a
// field added to one of these types cannot be forgotten here.

// decoded keeps one collection's objects that a transaction has decoded
// or stored, so that reading one again costs a copy rather than a decode;
// it is kept in step with every put and delete. What is put is held back
// (see txObjects) and written once, as it last stood.
type decoded[T any] struct {
	coll, kind string
	copy       func(*T) *T
	m          map[string]*T
	// held are the objects put and not yet written, with the created
	// time they are listed by, and order the order they were first put
	// in, which is the order new ones are written in.
	held  map[string]int64
	order []string
}

// get returns a copy of object id, decoding it on its first read.
func (d *decoded[T]) get(l *Ledger, id string) (*T, error) {
	if v, ok := d.m[id]; ok {
		return d.copy(v), nil
	}
	// Not held (what is held is kept): the stored bytes are current.
	raw, err := l.storedRaw(d.coll, d.kind, id)
	if err != nil {
		return new(T), err
	}
	v := new(T)
	if err := l.decode(d.kind, id, raw, v); err != nil {
		return v, err
	}
	if err := d.trim(l); err != nil {
		return v, err
	}
	d.keep(id, v)
	return v, nil
}

// maxKept bounds the objects of one collection a transaction keeps: an
// advance goes through thousands of subscriptions, each with its customer,
// invoice and payment, and keeping every one until the end made the
// garbage collector go over all of them again and again.
const maxKept = 256

// trim, when d keeps maxKept objects, writes those held back and forgets
// them all: the next read of one decodes it again, as stored.
func (d *decoded[T]) trim(l *Ledger) error {
	if len(d.m) < maxKept {
		return nil
	}
	if d.holding() {
		c, err := l.collection(d.coll)
		if err != nil {
			return err
		}
		if err := d.write(c); err != nil {
			return err
		}
	}
	clear(d.m)
	return nil
}

// keep keeps a copy of v, the object id as stored.
func (d *decoded[T]) keep(id string, v *T) {
	if d.m == nil {
		d.m = map[string]*T{}
	}
	d.m[id] = d.copy(v)
}

// put keeps a copy of v, object id, and holds its write back until the
// next write (see txObjects).
func (d *decoded[T]) put(id string, created int64, v *T) {
	d.keep(id, v)
	if d.held == nil {
		d.held = map[string]int64{}
	}
	if _, ok := d.held[id]; !ok {
		d.held[id] = created
		d.order = append(d.order, id)
	}
}

// write writes the objects held back to c, in the order they were first
// put, each JSON-encoded as it stands.
func (d *decoded[T]) write(c *store.Collection) error {
	for _, id := range d.order {
		created, ok := d.held[id]
		if !ok {
			continue // forgotten since
		}
		raw, err := json.Marshal(d.m[id])
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", d.kind, id, err)
		}
		if err := c.Put(id, created, raw); err != nil {
			return err
		}
	}
	clear(d.held)
	d.order = d.order[:0]
	return nil
}

func (d *decoded[T]) holding() bool { return len(d.held) > 0 }

// forget drops object id, deleted: nothing of it is kept or held.
func (d *decoded[T]) forget(id string) {
	delete(d.m, id)
	delete(d.held, id)
}

func (d *decoded[T]) clear() {
	clear(d.m)
	clear(d.held)
	d.order = d.order[:0]
}

func copyCustomer(c *billing.Customer) *billing.Customer {
	out := *c
	out.Metadata = maps.Clone(c.Metadata)
	if c.Discount != nil {
		out.Discount = copyDiscount(c.Discount)
	}
	out.Address = clonePtr(c.Address)
	out.Shipping = clonePtr(c.Shipping)
	out.PreferredLocales = slices.Clone(c.PreferredLocales)
	return &out
}

// clonePtr copies the value p points to, which holds no slice, map or
// pointer; nil stays nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func copySubscription(s *billing.Subscription) *billing.Subscription {
	out := *s
	out.Metadata = maps.Clone(s.Metadata)
	out.Discounts = copyDiscounts(s.Discounts)
	out.DefaultTaxRates = slices.Clone(s.DefaultTaxRates)
	out.PauseCollection = clonePtr(s.PauseCollection)
	if s.Items == nil {
		return &out
	}
	out.Items = make([]billing.SubscriptionItem, len(s.Items))
	for i, it := range s.Items {
		it.Metadata = maps.Clone(it.Metadata)
		it.TaxRates = slices.Clone(it.TaxRates)
		if it.Units != nil {
			u := *it.Units
			u.Changes = slices.Clone(u.Changes)
			it.Units = &u
		}
		out.Items[i] = it
	}
	return &out
}

func copyInvoice(inv *billing.Invoice) *billing.Invoice {
	out := *inv
	out.Metadata = maps.Clone(inv.Metadata)
	out.Discounts = copyDiscounts(inv.Discounts)
	out.DefaultTaxRates = slices.Clone(inv.DefaultTaxRates)
	if inv.Lines == nil {
		return &out
	}
	out.Lines = make([]billing.InvoiceLine, len(inv.Lines))
	for i, l := range inv.Lines {
		l.Discounts = copyDiscounts(l.Discounts)
		l.ProrationDiscounts = slices.Clone(l.ProrationDiscounts)
		l.TaxRates = slices.Clone(l.TaxRates)
		l.DiscountAmounts = slices.Clone(l.DiscountAmounts)
		l.Taxes = slices.Clone(l.Taxes)
		if l.Units != nil {
			u := *l.Units
			l.Units = &u
		}
		if l.Billed.Interval != nil {
			iv := *l.Billed.Interval
			l.Billed.Interval = &iv
		}
		out.Lines[i] = l
	}
	return &out
}

func copyDiscount(d *billing.Discount) *billing.Discount {
	out := *d
	out.Coupon.AppliesToProducts = slices.Clone(d.Coupon.AppliesToProducts)
	out.Coupon.Metadata = maps.Clone(d.Coupon.Metadata)
	return &out
}

func copyDiscounts(ds []billing.Discount) []billing.Discount {
	if ds == nil {
		return nil
	}
	out := make([]billing.Discount, len(ds))
	for i := range ds {
		out[i] = *copyDiscount(&ds[i])
	}
	return out
}

func copyPaymentMethod(pm *billing.PaymentMethod) *billing.PaymentMethod {
	out := *pm
	out.Metadata = maps.Clone(pm.Metadata)
	out.BillingDetails.Address = maps.Clone(pm.BillingDetails.Address)
	return &out
}

func copyPayment(p *billing.Payment) *billing.Payment {
	out := *p
	out.Metadata = maps.Clone(p.Metadata)
	if p.LastError != nil {
		e := *p.LastError
		out.LastError = &e
	}
	return &out
}

func copyCharge(ch *billing.Charge) *billing.Charge {
	out := *ch
	out.Metadata = maps.Clone(ch.Metadata)
	return &out
}

func copyInvoicePayment(ip *billing.InvoicePayment) *billing.InvoicePayment {
	out := *ip
	return &out
}

func copyClock(c *billing.Clock) *billing.Clock {
	out := *c
	return &out
}
