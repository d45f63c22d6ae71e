package billing

import (
	"encoding/json"
	"slices"
)

// scratch is a Ledger over another (its base) that keeps every change in
// memory and never writes to the base: the engine can run any of its work
// on it, to see what the work would do, and the base is left as it was.
// Reads see the scratch's changes over the base's state. Events are kept
// (events) rather than recorded, tasks are dropped, and no task is ever
// due: work that would follow is the caller's to run.
//
// Objects are kept encoded, as a store keeps them, so that no caller
// shares memory with the scratch.
type scratch struct {
	base Ledger
	// objs holds what was put, by kind and id; gone what was deleted.
	objs map[scratchKey][]byte
	gone map[scratchKey]bool
	// items are the invoice items put, in the order first put;
	// payments the invoice payments.
	items, payments []string
	events          []Event
}

type scratchKey struct{ kind, id string }

// Kinds of the objects a scratch keeps.
const (
	scratchCustomer       = "customer"
	scratchSubscription   = "subscription"
	scratchInvoice        = "invoice"
	scratchInvoiceItem    = "invoice_item"
	scratchPaymentMethod  = "payment_method"
	scratchPayment        = "payment"
	scratchCharge         = "charge"
	scratchInvoicePayment = "invoice_payment"
	scratchCoupon         = "coupon"
	scratchPromotionCode  = "promotion_code"
	scratchTaxRate        = "tax_rate"
	scratchSchedule       = "subscription_schedule"
)

func newScratch(base Ledger) *scratch {
	return &scratch{base: base, objs: map[scratchKey][]byte{}, gone: map[scratchKey]bool{}}
}

var (
	_ Ledger          = (*scratch)(nil)
	_ CouponTaxLedger = (*scratch)(nil)
	_ ScheduleLedger  = (*scratch)(nil)
)

func (s *scratch) put(kind, id string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	k := scratchKey{kind, id}
	s.objs[k] = raw
	delete(s.gone, k)
	return nil
}

// get decodes the scratch's version of kind id into v: found is false
// when the scratch has none (the base's stands), err is NotFound when it
// was deleted.
func (s *scratch) get(kind, id string, v any) (found bool, err error) {
	k := scratchKey{kind, id}
	if s.gone[k] {
		return true, NotFoundError(kind, id, "id")
	}
	raw, ok := s.objs[k]
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// read returns the scratch's version of kind id, or the base's.
func read[T any](s *scratch, kind, id string, base func(string) (*T, error)) (*T, error) {
	var v T
	if found, err := s.get(kind, id, &v); found {
		return &v, err
	}
	return base(id)
}

// NewID asks the base for a fresh id.
func (s *scratch) NewID(prefix string) string { return s.base.NewID(prefix) }

// Customer returns a customer.
func (s *scratch) Customer(id string) (*Customer, error) {
	return read(s, scratchCustomer, id, s.base.Customer)
}

// PutCustomer keeps a customer.
func (s *scratch) PutCustomer(c *Customer) error { return s.put(scratchCustomer, c.ID, c) }

// DeleteCustomer forgets a customer.
func (s *scratch) DeleteCustomer(id string) error {
	s.gone[scratchKey{scratchCustomer, id}] = true
	return nil
}

// CustomersOnClock calls fn for the base's customers on clock, as the
// scratch has them; customers made in the scratch are not filed by clock.
func (s *scratch) CustomersOnClock(clock string, fn func(*Customer) error) error {
	return s.base.CustomersOnClock(clock, func(c *Customer) error {
		c, err := s.Customer(c.ID)
		if err != nil {
			return ignoreNotFound(err)
		}
		return fn(c)
	})
}

// Product returns a product of the base.
func (s *scratch) Product(id string) (*Product, error) { return s.base.Product(id) }

// Price returns a price of the base.
func (s *scratch) Price(id string) (*Price, error) { return s.base.Price(id) }

// Subscription returns a subscription.
func (s *scratch) Subscription(id string) (*Subscription, error) {
	return read(s, scratchSubscription, id, s.base.Subscription)
}

// PutSubscription keeps a subscription.
func (s *scratch) PutSubscription(sub *Subscription) error {
	return s.put(scratchSubscription, sub.ID, sub)
}

// SubscriptionsOnClock calls fn for the base's subscriptions on clock, as
// the scratch has them.
func (s *scratch) SubscriptionsOnClock(clock string, fn func(*Subscription) error) error {
	return s.base.SubscriptionsOnClock(clock, func(sub *Subscription) error {
		sub, err := s.Subscription(sub.ID)
		if err != nil {
			return ignoreNotFound(err)
		}
		return fn(sub)
	})
}

// Invoice returns an invoice.
func (s *scratch) Invoice(id string) (*Invoice, error) {
	return read(s, scratchInvoice, id, s.base.Invoice)
}

// PutInvoice keeps an invoice.
func (s *scratch) PutInvoice(inv *Invoice) error { return s.put(scratchInvoice, inv.ID, inv) }

// DeleteInvoice forgets an invoice.
func (s *scratch) DeleteInvoice(id string) error {
	s.gone[scratchKey{scratchInvoice, id}] = true
	return nil
}

// InvoiceItem returns an invoice item.
func (s *scratch) InvoiceItem(id string) (*InvoiceItem, error) {
	return read(s, scratchInvoiceItem, id, s.base.InvoiceItem)
}

// PutInvoiceItem keeps an invoice item.
func (s *scratch) PutInvoiceItem(ii *InvoiceItem) error {
	if _, ok := s.objs[scratchKey{scratchInvoiceItem, ii.ID}]; !ok {
		s.items = append(s.items, ii.ID)
	}
	return s.put(scratchInvoiceItem, ii.ID, ii)
}

// DeleteInvoiceItem forgets an invoice item.
func (s *scratch) DeleteInvoiceItem(ii *InvoiceItem) error {
	s.gone[scratchKey{scratchInvoiceItem, ii.ID}] = true
	return nil
}

// PendingInvoiceItems returns the customer's pending items as the scratch
// has them: the base's still pending, then those that became pending in
// the scratch, in the order they were first put.
func (s *scratch) PendingInvoiceItems(customer string) ([]*InvoiceItem, error) {
	base, err := s.base.PendingInvoiceItems(customer)
	if err != nil {
		return nil, err
	}
	var out []*InvoiceItem
	seen := map[string]bool{}
	for _, ii := range base {
		seen[ii.ID] = true
		ii, err := s.InvoiceItem(ii.ID)
		if err != nil {
			if ignoreNotFound(err) == nil {
				continue
			}
			return nil, err
		}
		if ii.Invoice == "" {
			out = append(out, ii)
		}
	}
	for _, id := range s.items {
		if seen[id] {
			continue
		}
		var ii InvoiceItem
		if _, err := s.get(scratchInvoiceItem, id, &ii); err != nil {
			if ignoreNotFound(err) == nil {
				continue // deleted
			}
			return nil, err
		}
		if ii.Customer == customer && ii.Invoice == "" {
			out = append(out, &ii)
		}
	}
	return out, nil
}

// Schedule drops t: what follows in a scratch is the caller's to run.
func (s *scratch) Schedule(Task) error { return nil }

// NextTask finds nothing due: the base's tasks stay where they are.
func (s *scratch) NextTask(string, int64) (*Task, error) { return nil, nil }

// PaymentMethod returns a payment method.
func (s *scratch) PaymentMethod(id string) (*PaymentMethod, error) {
	return read(s, scratchPaymentMethod, id, s.base.PaymentMethod)
}

// PutPaymentMethod keeps a payment method.
func (s *scratch) PutPaymentMethod(pm *PaymentMethod) error {
	return s.put(scratchPaymentMethod, pm.ID, pm)
}

// Payment returns a payment.
func (s *scratch) Payment(id string) (*Payment, error) {
	return read(s, scratchPayment, id, s.base.Payment)
}

// PutPayment keeps a payment.
func (s *scratch) PutPayment(p *Payment) error { return s.put(scratchPayment, p.ID, p) }

// Charge returns a charge.
func (s *scratch) Charge(id string) (*Charge, error) {
	return read(s, scratchCharge, id, s.base.Charge)
}

// PutCharge keeps a charge.
func (s *scratch) PutCharge(ch *Charge) error { return s.put(scratchCharge, ch.ID, ch) }

// InvoicePayments returns an invoice's payments as the scratch has them.
func (s *scratch) InvoicePayments(invoice string) ([]*InvoicePayment, error) {
	base, err := s.base.InvoicePayments(invoice)
	if err != nil {
		return nil, err
	}
	var out []*InvoicePayment
	for _, ip := range base {
		var mine InvoicePayment
		if found, err := s.get(scratchInvoicePayment, ip.ID, &mine); found {
			if err != nil {
				return nil, err
			}
			ip = &mine
		}
		out = append(out, ip)
	}
	for _, id := range s.payments {
		if slices.ContainsFunc(out, func(ip *InvoicePayment) bool { return ip.ID == id }) {
			continue
		}
		var ip InvoicePayment
		if _, err := s.get(scratchInvoicePayment, id, &ip); err != nil {
			return nil, err
		}
		if ip.Invoice == invoice {
			out = append(out, &ip)
		}
	}
	return out, nil
}

// PutInvoicePayment keeps an invoice payment.
func (s *scratch) PutInvoicePayment(ip *InvoicePayment) error {
	if _, ok := s.objs[scratchKey{scratchInvoicePayment, ip.ID}]; !ok {
		s.payments = append(s.payments, ip.ID)
	}
	return s.put(scratchInvoicePayment, ip.ID, ip)
}

// PutBalanceTransaction drops bt: nothing in the engine reads them back.
func (s *scratch) PutBalanceTransaction(*BalanceTransaction) error { return nil }

// Policy is the base's.
func (s *scratch) Policy() (DunningPolicy, error) { return s.base.Policy() }

// Emit keeps ev.
func (s *scratch) Emit(ev Event) error {
	s.events = append(s.events, ev)
	return nil
}

// couponBase is the base's CouponTaxLedger, or the engine's error for a
// ledger that keeps none.
func (s *scratch) couponBase() (CouponTaxLedger, error) {
	return (&Engine{L: s.base}).couponTax()
}

// Coupon returns a coupon.
func (s *scratch) Coupon(id string) (*Coupon, error) {
	b, err := s.couponBase()
	if err != nil {
		return nil, err
	}
	return read(s, scratchCoupon, id, b.Coupon)
}

// PutCoupon keeps a coupon.
func (s *scratch) PutCoupon(c *Coupon) error { return s.put(scratchCoupon, c.ID, c) }

// PromotionCode returns a promotion code.
func (s *scratch) PromotionCode(id string) (*PromotionCode, error) {
	b, err := s.couponBase()
	if err != nil {
		return nil, err
	}
	return read(s, scratchPromotionCode, id, b.PromotionCode)
}

// PutPromotionCode keeps a promotion code.
func (s *scratch) PutPromotionCode(p *PromotionCode) error {
	return s.put(scratchPromotionCode, p.ID, p)
}

// PromotionCodesByCode returns the base's promotion codes of code, as the
// scratch has them (the scratch makes none).
func (s *scratch) PromotionCodesByCode(code string) ([]*PromotionCode, error) {
	b, err := s.couponBase()
	if err != nil {
		return nil, err
	}
	codes, err := b.PromotionCodesByCode(code)
	if err != nil {
		return nil, err
	}
	for i, p := range codes {
		if codes[i], err = s.PromotionCode(p.ID); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// TaxRate returns a tax rate.
func (s *scratch) TaxRate(id string) (*TaxRate, error) {
	b, err := s.couponBase()
	if err != nil {
		return nil, err
	}
	return read(s, scratchTaxRate, id, b.TaxRate)
}

// PutTaxRate keeps a tax rate.
func (s *scratch) PutTaxRate(r *TaxRate) error { return s.put(scratchTaxRate, r.ID, r) }

// CustomerHasTransactions asks the base: work in a scratch finalizes and
// pays nothing that a preview goes on to redeem a code for.
func (s *scratch) CustomerHasTransactions(customer string) (bool, error) {
	b, err := s.couponBase()
	if err != nil {
		return false, err
	}
	return b.CustomerHasTransactions(customer)
}

// SubscriptionSchedule returns a schedule.
func (s *scratch) SubscriptionSchedule(id string) (*SubscriptionSchedule, error) {
	b, err := (&Engine{L: s.base}).schedules()
	if err != nil {
		return nil, err
	}
	return read(s, scratchSchedule, id, b.SubscriptionSchedule)
}

// PutSubscriptionSchedule keeps a schedule.
func (s *scratch) PutSubscriptionSchedule(sched *SubscriptionSchedule) error {
	return s.put(scratchSchedule, sched.ID, sched)
}

// SchedulesOnClock calls fn for the base's schedules on clock, as the
// scratch has them.
func (s *scratch) SchedulesOnClock(clock string, fn func(*SubscriptionSchedule) error) error {
	b, err := (&Engine{L: s.base}).schedules()
	if err != nil {
		return err
	}
	return b.SchedulesOnClock(clock, func(sched *SubscriptionSchedule) error {
		sched, err := s.SubscriptionSchedule(sched.ID)
		if err != nil {
			return ignoreNotFound(err)
		}
		return fn(sched)
	})
}
