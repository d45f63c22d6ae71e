package stripe

import (
	"fmt"
	"net/http"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/store"
)

// This file holds discounts on the Stripe surface: the discounts[] and
// tax rate parameters that subscriptions (and, through the same readers,
// invoices and invoice items) take, the refusal of automatic tax, a
// customer's discount (the coupon and promotion_code parameters of API
// versions before 2025-03-31.basil, which Stripe's dahlia spec no longer
// lists but the Stripe CLI's own fixtures still send), the two routes that
// remove a discount, and the discount object.

// discountSpecs reads a discounts parameter (discounts[0][coupon]=X,
// discounts[1][promotion_code]=promo_Y, discounts[2][discount]=di_Z) into
// the engine's specs: nil when it was not sent, an empty list when it was
// sent empty ("discounts=", which clears). Each entry names its parameter
// (discounts[0]) for the engine's errors.
func (p *params) discountSpecs(name string) *[]billing.DiscountSpec {
	p.seen[name] = true
	n := p.form.lookup(name)
	if n == nil {
		return nil
	}
	if n.leaf {
		if n.value != "" {
			p.fail(invalid(name, "Invalid array"))
			return nil
		}
		return &[]billing.DiscountSpec{}
	}
	elems := p.hashes(name)
	if elems == nil {
		return nil
	}
	specs := make([]billing.DiscountSpec, 0, len(elems))
	for _, el := range elems {
		param, sub := el.param, el.p
		spec := billing.DiscountSpec{Param: param}
		spec.Coupon, _ = sub.str("coupon")
		spec.PromotionCode, _ = sub.str("promotion_code")
		spec.Discount, _ = sub.str("discount")
		if err := sub.check(); err != nil {
			p.fail(nestError(param, err))
			return nil
		}
		specs = append(specs, spec)
	}
	return &specs
}

// taxRateIDs reads a list of tax rate ids (default_tax_rates[0]=txr_1, or
// default_tax_rates[]=txr_1): nil when it was not sent, an empty list when
// it was sent empty (which clears). An empty id is refused, as Stripe
// refuses unsetting an element of a list.
func (p *params) taxRateIDs(name string) *[]string {
	p.seen[name] = true
	n := p.form.lookup(name)
	switch {
	case n == nil:
		return nil
	case n.leaf && n.value == "":
		return &[]string{}
	case !n.leaf:
		if elems, ok := n.list(); ok {
			for i, el := range elems {
				if el.leaf && el.value == "" {
					param := fmt.Sprintf("%s[%d]", name, i)
					p.fail(invalid(param, "You passed an empty string for '%s'. We assume empty values are an attempt to "+
						"unset a parameter; however '%s' cannot be unset. You should remove '%s' from your request or "+
						"supply a non-empty value.", param, param, param))
					return nil
				}
			}
		}
	}
	ids := p.strings(name)
	if ids == nil {
		return nil // refused
	}
	return &ids
}

// itemDiscounts reads the discounts of one subscription item, which
// billclock does not keep: an empty list is accepted, any discount is
// refused with a clear error rather than ignored.
func (p *params) itemDiscounts() {
	specs := p.discountSpecs("discounts")
	if specs != nil && len(*specs) > 0 {
		p.fail(invalid("discounts", "billclock does not support discounts on subscription items: put them on the "+
			"subscription instead."))
	}
}

// refuseAutomaticTax reads automatic_tax[enabled] (and liability) and
// refuses enabling it: Stripe Tax is not emulated.
func (p *params) refuseAutomaticTax() {
	at, ok := p.sub("automatic_tax")
	if !ok {
		return
	}
	enabled, sent := at.bool("automatic_tax[enabled]")
	at.seen["automatic_tax[liability]"] = true
	if !sent && at.err == nil {
		at.fail(errMissing("automatic_tax[enabled]"))
	}
	if enabled {
		at.fail(invalid("automatic_tax[enabled]", "billclock does not emulate Stripe Tax, so automatic_tax[enabled] "+
			"cannot be true. Use tax rates (tax_rates, default_tax_rates) to tax invoices instead."))
	}
	p.fail(at.check())
}

// customerDiscount is what a customer create or update says about the
// customer's discount, through the coupon and promotion_code parameters
// of API versions before 2025-03-31.basil.
type customerDiscount struct {
	// spec is the discount to redeem; nil when none was asked for.
	spec *billing.DiscountSpec
	// remove: coupon (or promotion_code) was sent empty, which removes
	// the customer's discount.
	remove bool
}

// readCustomerDiscount reads coupon and promotion_code.
func readCustomerDiscount(p *params) customerDiscount {
	var d customerDiscount
	coupon, hasCoupon := p.str("coupon")
	promo, hasPromo := p.str("promotion_code")
	switch {
	case hasCoupon && hasPromo:
		p.fail(invalid("coupon", "You may only specify one of these parameters: coupon, promotion_code."))
	case hasCoupon:
		d.spec = &billing.DiscountSpec{Coupon: coupon}
	case hasPromo:
		d.spec = &billing.DiscountSpec{PromotionCode: promo}
	case p.present("coupon") || p.present("promotion_code"):
		d.remove = true
	}
	return d
}

// apply redeems the discount asked for onto cust at now (announcing
// customer.discount.created or .updated) or removes cust's discount
// (announcing customer.discount.deleted and customer.updated). Removing
// from a customer with no discount does nothing.
func (d customerDiscount) apply(l *ledger, cust *billing.Customer, now int64) error {
	switch {
	case d.spec != nil:
		_, err := l.Engine().SetCustomerDiscount(cust, *d.spec, now)
		return err
	case d.remove && cust.Discount != nil:
		_, err := l.Engine().DeleteCustomerDiscount(cust, now)
		return err
	}
	return nil
}

// discountObject is components.schemas.discount.
type discountObject struct {
	ID               string         `json:"id"`
	Object           string         `json:"object"`
	CheckoutSession  *string        `json:"checkout_session"`
	Customer         any            `json:"customer"`
	CustomerAccount  *string        `json:"customer_account"`
	End              *int64         `json:"end"`
	Invoice          *string        `json:"invoice"`
	InvoiceItem      *string        `json:"invoice_item"`
	PromotionCode    any            `json:"promotion_code"`
	Source           discountSource `json:"source"`
	Start            int64          `json:"start"`
	Subscription     *string        `json:"subscription"`
	SubscriptionItem *string        `json:"subscription_item"`
}

// discountSource is discount_source: the coupon redeemed, by id.
type discountSource struct {
	Coupon any    `json:"coupon"`
	Type   string `json:"type"`
}

// deletedDiscountObject is components.schemas.deleted_discount: a
// discount without its end, marked deleted.
type deletedDiscountObject struct {
	ID               string         `json:"id"`
	Object           string         `json:"object"`
	CheckoutSession  *string        `json:"checkout_session"`
	Customer         any            `json:"customer"`
	CustomerAccount  *string        `json:"customer_account"`
	Deleted          bool           `json:"deleted"`
	Invoice          *string        `json:"invoice"`
	InvoiceItem      *string        `json:"invoice_item"`
	PromotionCode    any            `json:"promotion_code"`
	Source           discountSource `json:"source"`
	Start            int64          `json:"start"`
	Subscription     *string        `json:"subscription"`
	SubscriptionItem *string        `json:"subscription_item"`
}

// renderDiscount renders a discount; its coupon and promotion code are
// ids.
func renderDiscount(d *billing.Discount) *discountObject {
	return &discountObject{
		ID: d.ID, Object: "discount", Customer: nullString(d.Customer), End: nullTime(d.End),
		Invoice: nullString(d.Invoice), InvoiceItem: nullString(d.InvoiceItem), PromotionCode: nullString(d.PromotionCode),
		Source: discountSource{Coupon: d.Coupon.ID, Type: "coupon"}, Start: d.Start, Subscription: nullString(d.Subscription),
	}
}

// renderDeletedDiscount renders the answer to the removal of d.
func renderDeletedDiscount(d *billing.Discount) *deletedDiscountObject {
	o := renderDiscount(d)
	return &deletedDiscountObject{ID: o.ID, Object: o.Object, Customer: o.Customer, Deleted: true, Invoice: o.Invoice,
		InvoiceItem: o.InvoiceItem, PromotionCode: o.PromotionCode, Source: o.Source, Start: o.Start, Subscription: o.Subscription}
}

// renderDiscountList renders a list of discounts as their ids, or as
// discount objects when field (such as "discounts") is expanded.
func renderDiscountList(ds []billing.Discount, ex expandSet, field string) []any {
	out := make([]any, 0, len(ds))
	for i := range ds {
		if ex[field] {
			out = append(out, renderDiscount(&ds[i]))
		} else {
			out = append(out, ds[i].ID)
		}
	}
	return out
}

// noActiveDiscount is Stripe's 404 for removing the discount of a
// customer or subscription that has none.
func noActiveDiscount(err error) error {
	be, ok := err.(*billing.Error)
	if !ok || be.Code != billing.CodeNoDiscount {
		return err
	}
	e := invalid("", "%s", engineMessage(be))
	e.Status, e.Code = http.StatusNotFound, "resource_missing"
	return e
}

// deleteCustomerDiscount serves DELETE /v1/customers/{customer}/discount.
func (s *Surface) deleteCustomerDiscount(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cust, now, err := l.customerNow(c.vars["customer"], "customer", c.now.Unix())
	if err != nil {
		return nil, err
	}
	d, err := l.Engine().DeleteCustomerDiscount(cust, now)
	if err != nil {
		return nil, noActiveDiscount(err)
	}
	return renderDeletedDiscount(d), nil
}

// deleteSubscriptionDiscount serves DELETE /v1/subscriptions/{id}/discount:
// every discount of the subscription is removed (the endpoint dates from
// when a subscription had one), and the answer is the first of them.
func (s *Surface) deleteSubscriptionDiscount(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	sub, now, err := s.subscriptionNow(l, c, c.vars["id"], "id")
	if err != nil {
		return nil, err
	}
	_, removed, err := l.Engine().DeleteSubscriptionDiscounts(sub.ID, now)
	if err != nil {
		return nil, noActiveDiscount(err)
	}
	return renderDeletedDiscount(&removed[0]), nil
}

// moneyEventTypes maps the engine's coupon, promotion code, discount and
// tax rate events to Stripe's. A subscription's discounts are announced
// as the customer's, as Stripe does (the discount names its
// subscription).
var moneyEventTypes = map[billing.EventType]string{
	billing.EventCouponCreated:        "coupon.created",
	billing.EventCouponUpdated:        "coupon.updated",
	billing.EventCouponDeleted:        "coupon.deleted",
	billing.EventPromotionCodeCreated: "promotion_code.created",
	billing.EventPromotionCodeUpdated: "promotion_code.updated",
	billing.EventDiscountCreated:      "customer.discount.created",
	billing.EventDiscountUpdated:      "customer.discount.updated",
	billing.EventDiscountDeleted:      "customer.discount.deleted",
	billing.EventTaxRateCreated:       "tax_rate.created",
	billing.EventTaxRateUpdated:       "tax_rate.updated",
}

// subscriptionTerms reads a subscription create's or update's discounts,
// default_tax_rates and automatic_tax (refused when enabled).
func (p *params) subscriptionTerms() billing.Terms {
	t := billing.Terms{Discounts: p.discountSpecs("discounts"), DefaultTaxRates: p.taxRateIDs("default_tax_rates")}
	p.refuseAutomaticTax()
	return t
}

// refuseMinimumOnUpdate refuses, as Stripe does, a promotion code with a
// minimum amount among the discounts of a subscription update. (The typo
// is Stripe's.)
func refuseMinimumOnUpdate(l *ledger, t billing.Terms) error {
	if t.Discounts == nil {
		return nil
	}
	for _, spec := range *t.Discounts {
		if spec.PromotionCode == "" {
			continue
		}
		promo, err := l.PromotionCode(spec.PromotionCode)
		if isMissing(err) {
			continue // the engine names it
		}
		if err != nil {
			return err
		}
		if promo.Restrictions.MinimumAmount > 0 {
			return invalid(spec.Param+"[promotion_code]", "This promotion code cannot be redeemed on a subcription update "+
				"because it uses the `minimum_amount` restriction.")
		}
	}
	return nil
}
