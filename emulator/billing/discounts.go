package billing

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// This file holds coupons (a percentage or an amount off, once, for some
// months or forever), promotion codes (customer-facing codes for a coupon,
// with restrictions of their own) and discounts: a coupon redeemed onto a
// customer, a subscription, an invoice or an invoice item, from a start to
// an end. Redeeming checks the coupon's and the code's rules and counts
// the redemption. How discounts reduce an invoice is in totals.go.
//
// Times: coupons and promotion codes belong to no clock; their validity is
// judged at the time of the redemption, which for a customer on a clock is
// the clock's time.

// CouponDuration is how long a redeemed coupon keeps discounting.
type CouponDuration string

// Coupon durations.
const (
	// DurationOnce discounts the first invoice the discount takes
	// something off; the discount then ends.
	DurationOnce CouponDuration = "once"
	// DurationRepeating discounts every invoice made in the
	// DurationInMonths calendar months (of the customer's time) after the
	// redemption.
	DurationRepeating CouponDuration = "repeating"
	// DurationForever discounts every invoice.
	DurationForever CouponDuration = "forever"
)

// MaxCouponMonths is the longest repeating coupon billclock takes: a
// hundred years (Stripe documents no limit).
const MaxCouponMonths = 1200

// Coupon is a discount that can be redeemed: PercentOff, or AmountOff in
// Currency, off what it applies to.
type Coupon struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Name    string `json:"name,omitempty"`
	// Exactly one of PercentOff and AmountOff is set.
	PercentOff       Percent        `json:"percent_off,omitempty"`
	AmountOff        int64          `json:"amount_off,omitempty"`
	Currency         string         `json:"currency,omitempty"`
	Duration         CouponDuration `json:"duration"`
	DurationInMonths int            `json:"duration_in_months,omitempty"`
	// MaxRedemptions (0: no limit) bounds TimesRedeemed, over every
	// customer; RedeemBy (0: none) is the last time it can be redeemed.
	MaxRedemptions int64 `json:"max_redemptions,omitempty"`
	RedeemBy       int64 `json:"redeem_by,omitempty"`
	TimesRedeemed  int64 `json:"times_redeemed"`
	// AppliesToProducts, if set, limits the invoice lines the coupon
	// discounts to those of these products. It does not limit what the
	// coupon can be redeemed onto.
	AppliesToProducts []string          `json:"applies_to_products,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	// Deleted coupons cannot be redeemed or looked up; discounts made from
	// them go on.
	Deleted bool `json:"deleted,omitempty"`
}

// Valid reports whether c can still be redeemed at t.
func (c *Coupon) Valid(t int64) bool {
	return !c.Deleted && (c.RedeemBy == 0 || t <= c.RedeemBy) &&
		(c.MaxRedemptions == 0 || c.TimesRedeemed < c.MaxRedemptions)
}

// AppliesTo reports whether c discounts a line of product (empty: a line
// of no product).
func (c *Coupon) AppliesTo(product string) bool {
	return len(c.AppliesToProducts) == 0 || product != "" && slices.Contains(c.AppliesToProducts, product)
}

// PromotionCode is a code customers redeem for a coupon.
type PromotionCode struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	// Code is unique, ignoring case, among the active promotion codes a
	// customer can use.
	Code   string `json:"code"`
	Coupon string `json:"coupon"`
	Active bool   `json:"active"`
	// Customer, if set, is the only customer who can redeem it.
	Customer string `json:"customer,omitempty"`
	// MaxRedemptions (0: no limit) bounds TimesRedeemed; from ExpiresAt
	// (0: never) on it can no longer be redeemed.
	MaxRedemptions int64             `json:"max_redemptions,omitempty"`
	ExpiresAt      int64             `json:"expires_at,omitempty"`
	TimesRedeemed  int64             `json:"times_redeemed"`
	Restrictions   Restrictions      `json:"restrictions"`
	Metadata       map[string]string `json:"metadata,omitempty"`
}

// Restrictions limit who can redeem a promotion code, and for what.
type Restrictions struct {
	// FirstTimeTransaction: only a customer with no finalized invoice and
	// no successful payment yet.
	FirstTimeTransaction bool `json:"first_time_transaction,omitempty"`
	// MinimumAmount (0: none), in MinimumAmountCurrency: the least the
	// purchase must come to, before discounts.
	MinimumAmount         int64  `json:"minimum_amount,omitempty"`
	MinimumAmountCurrency string `json:"minimum_amount_currency,omitempty"`
}

// Discount is a coupon redeemed onto a customer, a subscription, an
// invoice or an invoice item (the one of those set, or the customer
// alone). It discounts from Start and, for a repeating coupon, until End.
type Discount struct {
	ID string `json:"id"`
	// Coupon is the coupon as it was when redeemed.
	Coupon        Coupon `json:"coupon"`
	PromotionCode string `json:"promotion_code,omitempty"`
	Customer      string `json:"customer"`
	Subscription  string `json:"subscription,omitempty"`
	Invoice       string `json:"invoice,omitempty"`
	InvoiceItem   string `json:"invoice_item,omitempty"`
	Start         int64  `json:"start"`
	// End (0: none) is when a repeating coupon's discount ends.
	End int64 `json:"end,omitempty"`
}

// ActiveAt reports whether d discounts invoices made at t.
func (d *Discount) ActiveAt(t int64) bool {
	return t >= d.Start && (d.End == 0 || t < d.End)
}

// DiscountAmount is what one discount took off an invoice line (or, in
// InvoiceTotals, off all of them).
type DiscountAmount struct {
	Discount string `json:"discount"`
	Amount   int64  `json:"amount"`
}

// Coupon, promotion code and discount events. The discount events concern
// the discounts of customers and subscriptions.
const (
	EventCouponCreated        EventType = "coupon.created"
	EventCouponUpdated        EventType = "coupon.updated"
	EventCouponDeleted        EventType = "coupon.deleted"
	EventPromotionCodeCreated EventType = "promotion_code.created"
	EventPromotionCodeUpdated EventType = "promotion_code.updated"
	EventDiscountCreated      EventType = "discount.created"
	// EventDiscountUpdated: a customer's discount was replaced by another
	// (the event's Before is the old one).
	EventDiscountUpdated EventType = "discount.updated"
	// EventDiscountDeleted: a discount was removed, used up (once) or
	// ended (repeating).
	EventDiscountDeleted EventType = "discount.deleted"
)

// Task kinds of discounts.
const (
	// TaskSubscriptionDiscountEnd ends the discounts of a subscription
	// (Subject) whose End is Expect.
	TaskSubscriptionDiscountEnd TaskKind = "subscription_discount_end"
	// TaskCustomerDiscountEnd ends a customer's (Subject) discount whose
	// End is Expect.
	TaskCustomerDiscountEnd TaskKind = "customer_discount_end"
)

// Coupon, promotion code and discount error codes. Resource and ID name
// the coupon, promotion code or discount concerned, where there is one.
const (
	// CodeCouponOff: neither or both of a percentage and an amount off.
	CodeCouponOff Code = "coupon_off"
	// CodeCouponPercentOff: a percentage off outside (Min, Max], in Percent
	// units (0 to Hundred).
	CodeCouponPercentOff Code = "coupon_percent_off"
	// CodeCouponAmountOff: an amount off outside [Min, Max] (1 to
	// MaxAmount).
	CodeCouponAmountOff Code = "coupon_amount_off"
	// CodeCouponCurrencyRequired: an amount off without a currency.
	CodeCouponCurrencyRequired Code = "coupon_currency_required"
	// CodeCouponDuration: Value is not a duration.
	CodeCouponDuration Code = "coupon_duration"
	// CodeCouponDurationInMonths: a repeating coupon needs a number of
	// months in [Min, Max]; any other (duration Value) takes none.
	CodeCouponDurationInMonths Code = "coupon_duration_in_months"
	// CodeCouponRedeemByPast: a last redemption time not after Min, now.
	CodeCouponRedeemByPast Code = "coupon_redeem_by_past"
	// CodeCouponExists: a coupon with the ID exists already.
	CodeCouponExists Code = "coupon_exists"
	// CodeRedemptionLimit: a maximum number of redemptions below Min, 1.
	CodeRedemptionLimit Code = "redemption_limit"

	// CodeCouponExpired: the coupon ID's last redemption time, Max, has
	// passed.
	CodeCouponExpired Code = "coupon_expired"
	// CodeCouponExhausted: the coupon ID was redeemed its maximum number
	// of times, Max.
	CodeCouponExhausted Code = "coupon_exhausted"
	// CodeCouponCurrencyMismatch: the coupon ID takes an amount off in
	// currency Value from something in currency Want.
	CodeCouponCurrencyMismatch Code = "coupon_currency_mismatch"
	// CodeCouponNotApplicable: the coupon ID applies to none of the
	// products (Value, comma-separated) of what it would discount.
	CodeCouponNotApplicable Code = "coupon_not_applicable"

	// CodePromotionCodeFormat: Value is not a code: 1 to 500 letters,
	// digits and dashes.
	CodePromotionCodeFormat Code = "promotion_code_format"
	// CodePromotionCodeExists: an active promotion code, ID, has the code
	// Value already.
	CodePromotionCodeExists Code = "promotion_code_exists"
	// CodePromotionCodeExpiresPast: an expiry not after Min, now.
	CodePromotionCodeExpiresPast Code = "promotion_code_expires_past"
	// CodePromotionCodeMinimumCurrencyRequired: a minimum amount without
	// its currency.
	CodePromotionCodeMinimumCurrencyRequired Code = "promotion_code_minimum_currency_required"
	// CodePromotionCodeInactive: the promotion code ID is not active.
	CodePromotionCodeInactive Code = "promotion_code_inactive"
	// CodePromotionCodeExpired: the promotion code ID expired at Max.
	CodePromotionCodeExpired Code = "promotion_code_expired"
	// CodePromotionCodeExhausted: the promotion code ID was redeemed its
	// maximum number of times, Max.
	CodePromotionCodeExhausted Code = "promotion_code_exhausted"
	// CodePromotionCodeCustomer: the promotion code ID is for customer
	// Want only, not Value.
	CodePromotionCodeCustomer Code = "promotion_code_customer"
	// CodePromotionCodeFirstTime: the promotion code ID is for first-time
	// customers, and customer Value has had a transaction.
	CodePromotionCodeFirstTime Code = "promotion_code_first_time"
	// CodePromotionCodeMinimumAmount: the promotion code ID needs a
	// purchase of at least Min in currency Want; it was Max.
	CodePromotionCodeMinimumAmount Code = "promotion_code_minimum_amount"
	// CodePromotionCodeMinimumCurrency: the promotion code ID's minimum
	// amount is in currency Want, the purchase in Value.
	CodePromotionCodeMinimumCurrency Code = "promotion_code_minimum_currency"

	// CodeDiscountSpec: a discount must name exactly one of a coupon, a
	// promotion code and an existing discount.
	CodeDiscountSpec Code = "discount_spec"
	// CodeNoDiscount: the customer or subscription ID has no discount to
	// remove.
	CodeNoDiscount Code = "no_discount"
)

// CouponTaxLedger is the persisted state of coupons, promotion codes and
// tax rates. A Ledger that also implements it lets the engine use them;
// without it they cannot be created, and invoices are neither discounted
// nor taxed. Getters return a NotFound *Error for a missing object.
type CouponTaxLedger interface {
	Coupon(id string) (*Coupon, error)
	PutCoupon(*Coupon) error
	PromotionCode(id string) (*PromotionCode, error)
	PutPromotionCode(*PromotionCode) error
	// PromotionCodesByCode returns every promotion code whose code is
	// code, ignoring case.
	PromotionCodesByCode(code string) ([]*PromotionCode, error)
	TaxRate(id string) (*TaxRate, error)
	PutTaxRate(*TaxRate) error
	// CustomerHasTransactions reports whether the customer has had a
	// finalized invoice or a successful payment.
	CustomerHasTransactions(customer string) (bool, error)
}

// couponTax is the ledger's CouponTaxLedger, or an error if it keeps no
// coupons and tax rates.
func (e *Engine) couponTax() (CouponTaxLedger, error) {
	if l, ok := e.L.(CouponTaxLedger); ok {
		return l, nil
	}
	return nil, &Error{Kind: Invalid, Message: "this ledger keeps no coupons, promotion codes or tax rates"}
}

func refusal(code Code, param, resource, id string) *Error {
	return &Error{Kind: Invalid, Code: code, Param: param, Resource: resource, ID: id}
}

// withParam sets param on a NotFound error.
func withParam(err error, param string) error {
	if be, ok := err.(*Error); ok && be.Kind == NotFound {
		be.Param = param
	}
	return err
}

// coupon returns the coupon id, given in param; a deleted coupon is not
// found.
func (e *Engine) coupon(l CouponTaxLedger, id, param string) (*Coupon, error) {
	c, err := l.Coupon(id)
	if err != nil {
		return nil, withParam(err, param)
	}
	if c.Deleted {
		return nil, NotFoundError("coupon", id, param)
	}
	return c, nil
}

// CreateCoupon stores c as a new coupon created at now and announces it.
// Its ID is made here unless c has one; an empty Duration is once.
func (e *Engine) CreateCoupon(c *Coupon, now int64) error {
	l, err := e.couponTax()
	if err != nil {
		return err
	}
	if c.Duration == "" {
		c.Duration = DurationOnce
	}
	if err := e.checkCoupon(l, c, now); err != nil {
		return err
	}
	if c.ID == "" {
		c.ID = e.L.NewID("coupon_")
	} else if old, err := l.Coupon(c.ID); err == nil && !old.Deleted {
		return refusal(CodeCouponExists, "id", "coupon", c.ID)
	} else if err != nil && ignoreNotFound(err) != nil {
		return err
	}
	c.Created, c.TimesRedeemed, c.Deleted = now, 0, false
	c.AppliesToProducts = slices.Clone(c.AppliesToProducts)
	if err := l.PutCoupon(c); err != nil {
		return err
	}
	return e.emit(EventCouponCreated, now, snapshotCoupon(c))
}

func (e *Engine) checkCoupon(l CouponTaxLedger, c *Coupon, now int64) error {
	switch {
	case (c.PercentOff == 0) == (c.AmountOff == 0):
		param := "percent_off"
		if c.AmountOff != 0 {
			param = "amount_off"
		}
		return refusal(CodeCouponOff, param, "", "")
	case c.PercentOff != 0 && (c.PercentOff < 0 || c.PercentOff > Hundred):
		return &Error{Kind: Invalid, Code: CodeCouponPercentOff, Param: "percent_off", Min: 0, Max: int64(Hundred)}
	case c.AmountOff != 0 && (c.AmountOff < 0 || c.AmountOff > MaxAmount):
		return &Error{Kind: Invalid, Code: CodeCouponAmountOff, Param: "amount_off", Min: 1, Max: MaxAmount}
	case c.AmountOff != 0 && c.Currency == "":
		return refusal(CodeCouponCurrencyRequired, "currency", "", "")
	case c.MaxRedemptions < 0:
		return &Error{Kind: Invalid, Code: CodeRedemptionLimit, Param: "max_redemptions", Min: 1}
	case c.RedeemBy != 0 && c.RedeemBy <= now:
		return &Error{Kind: Invalid, Code: CodeCouponRedeemByPast, Param: "redeem_by", Min: now}
	}
	switch c.Duration {
	case DurationRepeating:
		if c.DurationInMonths < 1 || c.DurationInMonths > MaxCouponMonths {
			return &Error{Kind: Invalid, Code: CodeCouponDurationInMonths, Param: "duration_in_months",
				Value: string(c.Duration), Min: 1, Max: MaxCouponMonths}
		}
	case DurationOnce, DurationForever:
		if c.DurationInMonths != 0 {
			return &Error{Kind: Invalid, Code: CodeCouponDurationInMonths, Param: "duration_in_months", Value: string(c.Duration)}
		}
	default:
		return &Error{Kind: Invalid, Code: CodeCouponDuration, Param: "duration", Value: string(c.Duration)}
	}
	for i, p := range c.AppliesToProducts {
		if _, err := e.L.Product(p); err != nil {
			return withParam(err, fmt.Sprintf("applies_to[products][%d]", i))
		}
	}
	return nil
}

// CouponChange is an update of a coupon: only its name and metadata
// change. A nil Name stays as it is.
type CouponChange struct {
	Name     *string
	Metadata map[string]string
}

// UpdateCoupon changes the coupon id at now and announces it.
func (e *Engine) UpdateCoupon(id string, ch CouponChange, now int64) (*Coupon, error) {
	l, err := e.couponTax()
	if err != nil {
		return nil, err
	}
	c, err := e.coupon(l, id, "id")
	if err != nil {
		return nil, err
	}
	before := snapshotCoupon(c)
	if ch.Name != nil {
		c.Name = *ch.Name
	}
	c.Metadata = MergeMetadata(c.Metadata, ch.Metadata)
	if err := l.PutCoupon(c); err != nil {
		return nil, err
	}
	return c, e.L.Emit(Event{Type: EventCouponUpdated, Time: now, Object: snapshotCoupon(c), Before: before})
}

// DeleteCoupon deletes the coupon id at now and announces it. Discounts
// already made from it go on; it can no longer be redeemed.
func (e *Engine) DeleteCoupon(id string, now int64) (*Coupon, error) {
	l, err := e.couponTax()
	if err != nil {
		return nil, err
	}
	c, err := e.coupon(l, id, "id")
	if err != nil {
		return nil, err
	}
	c.Deleted = true
	if err := l.PutCoupon(c); err != nil {
		return nil, err
	}
	return c, e.emit(EventCouponDeleted, now, snapshotCoupon(c))
}

// CreatePromotionCode stores p as a new promotion code created at now and
// announces it. Its ID is made here; so is its code if it has none.
func (e *Engine) CreatePromotionCode(p *PromotionCode, now int64) error {
	l, err := e.couponTax()
	if err != nil {
		return err
	}
	if _, err := e.coupon(l, p.Coupon, "coupon"); err != nil {
		return err
	}
	if p.Code == "" {
		p.Code = strings.ToUpper(strings.TrimPrefix(e.L.NewID("promo_"), "promo_"))
	}
	r := p.Restrictions
	switch {
	case !validCode(p.Code):
		return &Error{Kind: Invalid, Code: CodePromotionCodeFormat, Param: "code", Value: p.Code}
	case p.MaxRedemptions < 0:
		return &Error{Kind: Invalid, Code: CodeRedemptionLimit, Param: "max_redemptions", Min: 1}
	case p.ExpiresAt != 0 && p.ExpiresAt <= now:
		return &Error{Kind: Invalid, Code: CodePromotionCodeExpiresPast, Param: "expires_at", Min: now}
	case r.MinimumAmount < 0 || r.MinimumAmount > MaxAmount:
		return &Error{Kind: Invalid, Code: CodeCouponAmountOff, Param: "restrictions[minimum_amount]", Min: 1, Max: MaxAmount}
	case r.MinimumAmount > 0 && r.MinimumAmountCurrency == "":
		return refusal(CodePromotionCodeMinimumCurrencyRequired, "restrictions[minimum_amount_currency]", "", "")
	}
	if p.Customer != "" {
		if _, err := e.L.Customer(p.Customer); err != nil {
			return withParam(err, "customer")
		}
	}
	p.ID, p.Created, p.TimesRedeemed = e.L.NewID("promo_"), now, 0
	if p.Active {
		if err := e.checkCodeFree(l, p); err != nil {
			return err
		}
	}
	if err := l.PutPromotionCode(p); err != nil {
		return err
	}
	return e.emit(EventPromotionCodeCreated, now, snapshotPromotionCode(p))
}

func validCode(code string) bool {
	if len(code) == 0 || len(code) > 500 {
		return false
	}
	for _, r := range code {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// checkCodeFree refuses an active promotion code p whose code another
// active one, usable by the same customers, has already.
func (e *Engine) checkCodeFree(l CouponTaxLedger, p *PromotionCode) error {
	same, err := l.PromotionCodesByCode(p.Code)
	if err != nil {
		return err
	}
	for _, o := range same {
		if o.ID != p.ID && o.Active && (o.Customer == "" || p.Customer == "" || o.Customer == p.Customer) {
			return &Error{Kind: Invalid, Code: CodePromotionCodeExists, Param: "code", Value: p.Code,
				Resource: "promotion_code", ID: o.ID}
		}
	}
	return nil
}

// PromotionCodeChange is an update of a promotion code: nil fields stay
// as they are.
type PromotionCodeChange struct {
	Active   *bool
	Metadata map[string]string
}

// UpdatePromotionCode changes the promotion code id at now and announces
// it. Activating it again checks that its code is still free.
func (e *Engine) UpdatePromotionCode(id string, ch PromotionCodeChange, now int64) (*PromotionCode, error) {
	l, err := e.couponTax()
	if err != nil {
		return nil, err
	}
	p, err := l.PromotionCode(id)
	if err != nil {
		return nil, withParam(err, "id")
	}
	before := snapshotPromotionCode(p)
	if ch.Active != nil {
		if *ch.Active && !p.Active {
			p.Active = true
			if err := e.checkCodeFree(l, p); err != nil {
				return nil, err
			}
		}
		p.Active = *ch.Active
	}
	p.Metadata = MergeMetadata(p.Metadata, ch.Metadata)
	if err := l.PutPromotionCode(p); err != nil {
		return nil, err
	}
	return p, e.L.Emit(Event{Type: EventPromotionCodeUpdated, Time: now, Object: snapshotPromotionCode(p), Before: before})
}

// DiscountSpec asks for one discount: a coupon or a promotion code to
// redeem, or an existing discount to reuse. Exactly one is set.
type DiscountSpec struct {
	Coupon, PromotionCode, Discount string
	// Param is the request parameter the spec came from, for errors:
	// "discounts[0]" gives "discounts[0][coupon]"; empty gives "coupon".
	Param string
}

// param names field of the spec in errors.
func (s DiscountSpec) param(field string) string {
	if s.Param == "" {
		return field
	}
	return s.Param + "[" + field + "]"
}

// DiscountTarget is what discounts are redeemed for.
type DiscountTarget struct {
	// Customer redeems them.
	Customer *Customer
	// Subscription, Invoice or InvoiceItem, if one is set, is what they
	// discount; otherwise the customer's invoices.
	Subscription, Invoice, InvoiceItem string
	// Currency is that of what they discount ("": not known yet, and then
	// not checked).
	Currency string
	// Amount is the purchase, before discounts, that a promotion code's
	// minimum amount is compared with; HasAmount says there is one (a
	// customer's discount has none, and is not checked).
	Amount    int64
	HasAmount bool
	// Products, if set, are those of what they discount: a coupon that
	// applies to none of them is refused.
	Products []string
	// Reusable are the existing discounts (of the target and of what it
	// belongs to) that a spec may name.
	Reusable []Discount
}

// RedeemDiscounts redeems specs, in order, for target at now: each coupon
// and promotion code is checked and its redemption counted, and each
// becomes a new discount starting at now; a reused discount is returned as
// it is. Nothing is announced: the caller sets the discounts where they
// belong.
func (e *Engine) RedeemDiscounts(specs []DiscountSpec, target DiscountTarget, now int64) ([]Discount, error) {
	if target.Customer == nil {
		return nil, &Error{Kind: Invalid, Message: "discounts are redeemed by a customer, and none was given"}
	}
	var out []Discount
	for _, spec := range specs {
		d, err := e.redeem(spec, target, now)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// checkDiscountSpec checks, without redeeming anything, what can be
// known of spec before it is redeemed: that it names one thing, and the
// coupon or promotion code it names (a discount to reuse is found only
// when it is redeemed).
func (e *Engine) checkDiscountSpec(spec DiscountSpec) error {
	if err := spec.check(); err != nil || spec.Discount != "" {
		return err
	}
	l, err := e.couponTax()
	if err != nil {
		return err
	}
	_, _, _, err = e.specCoupon(l, spec)
	return err
}

// check refuses a spec that names more or less than one thing.
func (s DiscountSpec) check() error {
	set := 0
	for _, v := range []string{s.Coupon, s.PromotionCode, s.Discount} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return refusal(CodeDiscountSpec, s.Param, "", "")
	}
	return nil
}

// specCoupon finds the coupon spec names, directly or by its promotion
// code (promo; nil for a coupon), and the parameter that names it.
func (e *Engine) specCoupon(l CouponTaxLedger, spec DiscountSpec) (c *Coupon, promo *PromotionCode, param string, err error) {
	couponID, param := spec.Coupon, spec.param("coupon")
	if spec.PromotionCode != "" {
		param = spec.param("promotion_code")
		if promo, err = l.PromotionCode(spec.PromotionCode); err != nil {
			return nil, nil, param, withParam(err, param)
		}
		couponID = promo.Coupon
	}
	c, err = e.coupon(l, couponID, param)
	return c, promo, param, err
}

func (e *Engine) redeem(spec DiscountSpec, target DiscountTarget, now int64) (Discount, error) {
	if err := spec.check(); err != nil {
		return Discount{}, err
	}
	if spec.Discount != "" {
		for _, d := range target.Reusable {
			if d.ID == spec.Discount {
				return d, nil
			}
		}
		return Discount{}, NotFoundError("discount", spec.Discount, spec.param("discount"))
	}
	l, err := e.couponTax()
	if err != nil {
		return Discount{}, err
	}
	c, promo, param, err := e.specCoupon(l, spec)
	if err != nil {
		return Discount{}, err
	}
	if promo != nil {
		if err := e.checkPromotion(l, promo, target, param, now); err != nil {
			return Discount{}, err
		}
	}
	if err := checkRedemption(c, target, param, now); err != nil {
		return Discount{}, err
	}
	c.TimesRedeemed++
	if err := l.PutCoupon(c); err != nil {
		return Discount{}, err
	}
	d := Discount{ID: e.L.NewID("di_"), Coupon: *snapshotCoupon(c), Customer: target.Customer.ID,
		Subscription: target.Subscription, Invoice: target.Invoice, InvoiceItem: target.InvoiceItem, Start: now}
	if promo != nil {
		promo.TimesRedeemed++
		if err := l.PutPromotionCode(promo); err != nil {
			return Discount{}, err
		}
		d.PromotionCode = promo.ID
	}
	if c.Duration == DurationRepeating {
		d.End = Interval{Unit: Month, Count: c.DurationInMonths}.Nth(now, 1)
	}
	return d, nil
}

// checkRedemption refuses to redeem c for target at now if it is no
// longer valid or cannot discount the target.
func checkRedemption(c *Coupon, target DiscountTarget, param string, now int64) error {
	switch {
	case c.RedeemBy != 0 && now > c.RedeemBy:
		e := refusal(CodeCouponExpired, param, "coupon", c.ID)
		e.Max = c.RedeemBy
		return e
	case c.MaxRedemptions != 0 && c.TimesRedeemed >= c.MaxRedemptions:
		e := refusal(CodeCouponExhausted, param, "coupon", c.ID)
		e.Max = c.MaxRedemptions
		return e
	case c.AmountOff != 0 && target.Currency != "" && c.Currency != target.Currency:
		e := refusal(CodeCouponCurrencyMismatch, param, "coupon", c.ID)
		e.Value, e.Want = c.Currency, target.Currency
		return e
	}
	if target.Products != nil && len(c.AppliesToProducts) > 0 &&
		!slices.ContainsFunc(target.Products, func(p string) bool { return slices.Contains(c.AppliesToProducts, p) }) {
		e := refusal(CodeCouponNotApplicable, param, "coupon", c.ID)
		e.Value = strings.Join(target.Products, ",")
		return e
	}
	return nil
}

// checkPromotion refuses to redeem p for target at now if it is not
// active, has expired or run out, or its restrictions exclude the target.
func (e *Engine) checkPromotion(l CouponTaxLedger, p *PromotionCode, target DiscountTarget, param string, now int64) error {
	fail := func(code Code) *Error { return refusal(code, param, "promotion_code", p.ID) }
	r := p.Restrictions
	switch {
	case !p.Active:
		return fail(CodePromotionCodeInactive)
	case p.ExpiresAt != 0 && now >= p.ExpiresAt:
		err := fail(CodePromotionCodeExpired)
		err.Max = p.ExpiresAt
		return err
	case p.MaxRedemptions != 0 && p.TimesRedeemed >= p.MaxRedemptions:
		err := fail(CodePromotionCodeExhausted)
		err.Max = p.MaxRedemptions
		return err
	case p.Customer != "" && p.Customer != target.Customer.ID:
		err := fail(CodePromotionCodeCustomer)
		err.Value, err.Want = target.Customer.ID, p.Customer
		return err
	case r.MinimumAmount > 0 && target.HasAmount && target.Currency != "" && r.MinimumAmountCurrency != target.Currency:
		err := fail(CodePromotionCodeMinimumCurrency)
		err.Value, err.Want = target.Currency, r.MinimumAmountCurrency
		return err
	case r.MinimumAmount > 0 && target.HasAmount && target.Amount < r.MinimumAmount:
		err := fail(CodePromotionCodeMinimumAmount)
		err.Min, err.Max, err.Want = r.MinimumAmount, target.Amount, r.MinimumAmountCurrency
		return err
	}
	if r.FirstTimeTransaction {
		had, err := l.CustomerHasTransactions(target.Customer.ID)
		if err != nil {
			return err
		}
		if had {
			err := fail(CodePromotionCodeFirstTime)
			err.Value = target.Customer.ID
			return err
		}
	}
	return nil
}

// SetCustomerDiscount redeems spec as cust's discount at now (the
// customer's time), replacing the one it had, saves cust and announces the
// discount (created, or updated when it replaces another). The caller
// announces the change of the customer itself.
func (e *Engine) SetCustomerDiscount(cust *Customer, spec DiscountSpec, now int64) (*Discount, error) {
	target := DiscountTarget{Customer: cust}
	if cust.Discount != nil {
		target.Reusable = []Discount{*cust.Discount}
	}
	d, err := e.redeem(spec, target, now)
	if err != nil {
		return nil, err
	}
	old := cust.Discount
	if old != nil && old.ID == d.ID {
		return old, nil
	}
	cust.Discount = &d
	if err := e.L.PutCustomer(cust); err != nil {
		return nil, err
	}
	if err := e.scheduleDiscountEnd(d, TaskCustomerDiscountEnd, cust.ID, cust.Clock); err != nil {
		return nil, err
	}
	ev := Event{Type: EventDiscountCreated, Time: now, Object: snapshotDiscount(d)}
	if old != nil {
		ev.Type, ev.Before = EventDiscountUpdated, snapshotDiscount(*old)
	}
	return cust.Discount, e.L.Emit(ev)
}

// DeleteCustomerDiscount removes cust's discount at now, saves cust and
// announces the discount's deletion and the customer's change.
func (e *Engine) DeleteCustomerDiscount(cust *Customer, now int64) (*Discount, error) {
	if cust.Discount == nil {
		return nil, refusal(CodeNoDiscount, "", "customer", cust.ID)
	}
	before := snapshotCustomer(cust)
	d := *cust.Discount
	cust.Discount = nil
	if err := e.L.PutCustomer(cust); err != nil {
		return nil, err
	}
	if err := e.emit(EventDiscountDeleted, now, snapshotDiscount(d)); err != nil {
		return nil, err
	}
	return &d, e.L.Emit(Event{Type: EventCustomerUpdated, Time: now, Object: snapshotCustomer(cust), Before: before})
}

// DeleteSubscriptionDiscounts removes every discount of the subscription
// id at now and announces their deletion and the subscription's change.
// It returns the subscription and the discounts removed.
func (e *Engine) DeleteSubscriptionDiscounts(id string, now int64) (*Subscription, []Discount, error) {
	sub, err := e.L.Subscription(id)
	if err != nil {
		return nil, nil, err
	}
	if len(sub.Discounts) == 0 {
		return nil, nil, refusal(CodeNoDiscount, "", "subscription", sub.ID)
	}
	before := snapshotSub(sub)
	removed := sub.Discounts
	sub.Discounts = nil
	if err := e.L.PutSubscription(sub); err != nil {
		return nil, nil, err
	}
	for _, d := range removed {
		if err := e.emit(EventDiscountDeleted, now, snapshotDiscount(d)); err != nil {
			return nil, nil, err
		}
	}
	return sub, removed, e.emitUpdated(before, sub, now)
}

// Terms are the discounts and default tax rates of a subscription create
// or update. nil leaves them as they are (none, for a new subscription);
// an empty list removes them.
type Terms struct {
	Discounts       *[]DiscountSpec
	DefaultTaxRates *[]string
}

// subscriptionTerms applies a create (before nil) or update of sub to its
// items' tax rates (from items, matched as the create or update matched
// them), its default tax rates and its discounts, at now. Discounts
// removed and redeemed are announced here; the subscription's change is
// saved and announced by the caller.
func (e *Engine) subscriptionTerms(sub, before *Subscription, cust *Customer, items []ItemSpec, terms Terms, now int64) error {
	if err := e.itemTaxRates(sub, before, items); err != nil {
		return err
	}
	if terms.DefaultTaxRates != nil {
		rates, err := e.checkTaxRates(*terms.DefaultTaxRates, sub.DefaultTaxRates, "default_tax_rates")
		if err != nil {
			return err
		}
		sub.DefaultTaxRates = rates
	}
	if terms.Discounts == nil {
		return nil
	}
	amount, err := e.periodAmount(sub)
	if err != nil {
		return err
	}
	target := DiscountTarget{Customer: cust, Subscription: sub.ID, Currency: sub.Currency, Amount: amount, HasAmount: true,
		Reusable: slices.Clone(sub.Discounts)}
	if cust.Discount != nil {
		target.Reusable = append(target.Reusable, *cust.Discount)
	}
	next, err := e.RedeemDiscounts(*terms.Discounts, target, now)
	if err != nil {
		return err
	}
	old := sub.Discounts
	sub.Discounts = next
	for _, d := range old {
		if !slices.ContainsFunc(next, func(n Discount) bool { return n.ID == d.ID }) {
			if err := e.emit(EventDiscountDeleted, now, snapshotDiscount(d)); err != nil {
				return err
			}
		}
	}
	for _, d := range next {
		if slices.ContainsFunc(old, func(o Discount) bool { return o.ID == d.ID }) || d.Subscription != sub.ID {
			continue
		}
		if err := e.scheduleDiscountEnd(d, TaskSubscriptionDiscountEnd, sub.ID, sub.Clock); err != nil {
			return err
		}
		if err := e.emit(EventDiscountCreated, now, snapshotDiscount(d)); err != nil {
			return err
		}
	}
	return nil
}

// itemTaxRates sets the tax rates items ask for on sub's items: in a
// create (before nil) items[i] made sub.Items[i]; in an update an item
// spec with an ID names its item, and those without made, in order, the
// items that before did not have.
func (e *Engine) itemTaxRates(sub, before *Subscription, items []ItemSpec) error {
	var added []*SubscriptionItem
	for i := range sub.Items {
		if before == nil || before.Item(sub.Items[i].ID) == nil {
			added = append(added, &sub.Items[i])
		}
	}
	for i, spec := range items {
		param := spec.Param
		if param == "" {
			param = fmt.Sprintf("items[%d]", i)
		}
		var it *SubscriptionItem
		switch {
		case spec.Deleted:
			continue
		case spec.ID != "":
			it = sub.Item(spec.ID)
		case len(added) > 0:
			it, added = added[0], added[1:]
		}
		if it == nil || spec.TaxRates == nil {
			continue
		}
		rates, err := e.checkTaxRates(*spec.TaxRates, it.TaxRates, param+"[tax_rates]")
		if err != nil {
			return err
		}
		it.TaxRates = rates
	}
	return nil
}

// periodAmount is what a period of sub's items comes to, before
// discounts.
func (e *Engine) periodAmount(sub *Subscription) (int64, error) {
	var total int64
	for _, it := range sub.Items {
		p, err := e.L.Price(it.Price)
		if err != nil {
			return 0, err
		}
		a, err := mulAmount(p.UnitAmount, it.Quantity)
		if err != nil {
			return 0, err
		}
		if total, err = addAmount(total, a); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// scheduleDiscountEnd asks for a repeating discount d of owner (a
// subscription or customer, as kind says) to end at its End.
func (e *Engine) scheduleDiscountEnd(d Discount, kind TaskKind, owner, clock string) error {
	if d.End == 0 {
		return nil
	}
	return e.L.Schedule(Task{Clock: clock, At: d.End, Kind: kind, Subject: owner, Expect: d.End})
}

// endDiscounts ends, at t.At, the discounts of t's subject that end then,
// and announces it.
func (e *Engine) endDiscounts(t *Task) error {
	ends := func(d Discount) bool { return d.End == t.Expect && d.End <= t.At }
	if t.Kind == TaskCustomerDiscountEnd {
		cust, err := e.L.Customer(t.Subject)
		if err != nil || cust.Discount == nil || !ends(*cust.Discount) {
			return ignoreNotFound(err)
		}
		_, err = e.DeleteCustomerDiscount(cust, t.At)
		return err
	}
	sub, err := e.L.Subscription(t.Subject)
	if err != nil || sub.Ended() || !slices.ContainsFunc(sub.Discounts, ends) {
		return ignoreNotFound(err)
	}
	before := snapshotSub(sub)
	var kept []Discount
	for _, d := range sub.Discounts {
		if !ends(d) {
			kept = append(kept, d)
			continue
		}
		if err := e.emit(EventDiscountDeleted, t.At, snapshotDiscount(d)); err != nil {
			return err
		}
	}
	sub.Discounts = kept
	if err := e.L.PutSubscription(sub); err != nil {
		return err
	}
	return e.emitUpdated(before, sub, t.At)
}

// ownerDiscounts are the discounts that apply to an invoice made at t for
// sub (nil: none) and cust: sub's discounts active at t or, if it has
// none, cust's discount if active.
func ownerDiscounts(sub *Subscription, cust *Customer, t int64) []Discount {
	var out []Discount
	if sub != nil {
		for _, d := range sub.Discounts {
			if d.ActiveAt(t) {
				out = append(out, d)
			}
		}
	}
	if len(out) == 0 && cust != nil && cust.Discount != nil && cust.Discount.ActiveAt(t) {
		out = append(out, *cust.Discount)
	}
	return out
}

// useUpOnce ends the once discounts among used (discount ID → amount
// taken off an invoice) that took something off: they are removed from sub
// (saved by the caller) or cust (saved here) and announced as deleted.
func (e *Engine) useUpOnce(inv *Invoice, used map[string]int64, sub *Subscription, cust *Customer, at int64) error {
	for _, d := range inv.Discounts {
		if d.Coupon.Duration != DurationOnce || used[d.ID] == 0 {
			continue
		}
		switch {
		case sub != nil && slices.ContainsFunc(sub.Discounts, func(o Discount) bool { return o.ID == d.ID }):
			sub.Discounts = slices.DeleteFunc(slices.Clone(sub.Discounts), func(o Discount) bool { return o.ID == d.ID })
		case cust != nil && cust.Discount != nil && cust.Discount.ID == d.ID:
			if _, err := e.DeleteCustomerDiscount(cust, at); err != nil {
				return err
			}
			continue
		default:
			continue
		}
		if err := e.emit(EventDiscountDeleted, at, snapshotDiscount(d)); err != nil {
			return err
		}
	}
	return nil
}

func snapshotCoupon(c *Coupon) *Coupon {
	s := *c
	s.AppliesToProducts = slices.Clone(c.AppliesToProducts)
	s.Metadata = maps.Clone(c.Metadata)
	return &s
}

func snapshotPromotionCode(p *PromotionCode) *PromotionCode {
	s := *p
	s.Metadata = maps.Clone(p.Metadata)
	return &s
}

func snapshotDiscount(d Discount) *Discount {
	d.Coupon = *snapshotCoupon(&d.Coupon)
	return &d
}
