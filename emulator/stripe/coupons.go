package stripe

import (
	"encoding/json"
	"math"
	"strings"

	"github.com/billclock/billclock/emulator/billing"
	"github.com/billclock/billclock/emulator/clockwork"
	"github.com/billclock/billclock/store"
)

// Coupons and promotion codes belong to no test clock: they are created
// in wall time, and judged at redemption in the redeeming customer's time
// (see the engine's discounts.go).

// maxCouponName is the longest coupon name Stripe's spec takes.
const maxCouponName = 40

// maxRedeemAhead is how far ahead of its creation a coupon's redeem_by may
// lie: Stripe's spec says at most 5 years.
const maxRedeemAhead = 5 * 365 * 86400

// couponExpansions are the fields of a coupon that expand[] may name.
var couponExpansions = []string{"applies_to", "currency_options"}

// percent reads a decimal percentage such as 25 or 7.25 (at most four
// decimals).
func (p *params) percent(name string) (billing.Percent, bool) {
	v, ok := p.leaf(name)
	if !ok {
		return 0, false
	}
	pc, err := billing.ParsePercent(v)
	if err != nil {
		p.fail(invalid(name, "Invalid decimal: %s", v))
		return 0, false
	}
	return pc, true
}

// unsupported refuses a parameter Stripe takes and billclock does not
// emulate, rather than calling it unknown.
func (p *params) unsupported(name, what string) {
	p.seen[name] = true
	if p.present(name) {
		p.fail(invalid(name, "billclock does not support %s.", what))
	}
}

// couponObject is components.schemas.coupon. applies_to and
// currency_options appear only when expanded, as at Stripe.
type couponObject struct {
	ID               string            `json:"id"`
	Object           string            `json:"object"`
	AmountOff        *int64            `json:"amount_off"`
	AppliesTo        *couponAppliesTo  `json:"applies_to,omitempty"`
	Created          int64             `json:"created"`
	Currency         *string           `json:"currency"`
	CurrencyOptions  *map[string]any   `json:"currency_options,omitempty"`
	Duration         string            `json:"duration"`
	DurationInMonths *int              `json:"duration_in_months"`
	Livemode         bool              `json:"livemode"`
	MaxRedemptions   *int64            `json:"max_redemptions"`
	Metadata         map[string]string `json:"metadata"`
	Name             *string           `json:"name"`
	PercentOff       *json.Number      `json:"percent_off"`
	RedeemBy         *int64            `json:"redeem_by"`
	TimesRedeemed    int64             `json:"times_redeemed"`
	Valid            bool              `json:"valid"`
}

// couponAppliesTo is coupon_applies_to.
type couponAppliesTo struct {
	Products []string `json:"products"`
}

// percentNumber renders a percentage as a JSON number: 25, 7.25.
func percentNumber(p billing.Percent) json.Number { return json.Number(p.String()) }

// wallOf is the wall time of the lookup's transaction, which judges
// whether a coupon can still be redeemed; 0 (no redeem_by passed) where
// the lookup has no time.
func wallOf(lk any) int64 {
	if w, ok := lk.(interface{ Wall() int64 }); ok {
		return w.Wall()
	}
	return 0
}

// renderCoupon renders a coupon; valid is judged at wall time now.
func renderCoupon(c *billing.Coupon, now int64, ex expandSet) *couponObject {
	o := &couponObject{
		ID: c.ID, Object: "coupon", Created: c.Created, Duration: string(c.Duration), Metadata: metadata(c.Metadata),
		Name: nullString(c.Name), RedeemBy: nullTime(c.RedeemBy), TimesRedeemed: c.TimesRedeemed,
		Valid: c.Valid(now),
	}
	if c.AmountOff != 0 {
		amount := c.AmountOff
		o.AmountOff, o.Currency = &amount, nullString(c.Currency)
	}
	if c.PercentOff != 0 {
		n := percentNumber(c.PercentOff)
		o.PercentOff = &n
	}
	if c.Duration == billing.DurationRepeating {
		months := c.DurationInMonths
		o.DurationInMonths = &months
	}
	if c.MaxRedemptions != 0 {
		max := c.MaxRedemptions
		o.MaxRedemptions = &max
	}
	if ex["applies_to"] {
		o.AppliesTo = &couponAppliesTo{Products: append([]string{}, c.AppliesToProducts...)}
	}
	if ex["currency_options"] {
		// billclock's coupons have one currency: no other options.
		o.CurrencyOptions = &map[string]any{}
	}
	return o
}

func (s *Surface) createCoupon(c *call, tx *store.Tx) (any, error) {
	now := c.now.Unix()
	cp := &billing.Coupon{}
	cp.ID, _ = c.p.text("id", 5000)
	cp.Name, _ = c.p.text("name", maxCouponName)
	cp.PercentOff, _ = c.p.percent("percent_off")
	if v, ok := c.p.int64("amount_off"); ok {
		if v == 0 {
			c.p.fail(errTooSmall("amount_off", 1))
		}
		cp.AmountOff = v
	}
	cp.Currency, _ = readCurrency(c.p, "currency")
	c.p.unsupported("currency_options", "coupons in several currencies (currency_options)")
	if d, ok := c.p.enum("duration", "forever", "once", "repeating"); ok {
		cp.Duration = billing.CouponDuration(d)
	}
	if months, ok := c.p.intIn("duration_in_months", math.MinInt32, math.MaxInt32); ok {
		cp.DurationInMonths = int(months)
	}
	cp.MaxRedemptions, _ = c.p.intIn("max_redemptions", 1, math.MaxInt64)
	if by, ok := c.p.timestamp("redeem_by"); ok {
		if by > now+maxRedeemAhead {
			c.p.fail(invalid("redeem_by", "redeem_by cannot be set to more than 5 years in the future."))
		}
		cp.RedeemBy = by
	}
	if at, ok := c.p.sub("applies_to"); ok {
		cp.AppliesToProducts = at.strings("applies_to[products]")
		c.p.fail(at.check())
	}
	meta, _ := c.p.metadata("metadata")
	cp.Metadata = applyMetadata(nil, meta, false)
	ex, err := c.p.expansions(couponExpansions...)
	if err != nil {
		return nil, err
	}
	if cp.AmountOff == 0 {
		cp.Currency = "" // a percentage off has no currency
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	if err := l.Engine().CreateCoupon(cp, now); err != nil {
		return nil, err
	}
	return renderCoupon(cp, now, expandSet(ex)), nil
}

// liveCoupon loads the coupon id named by the path: a deleted coupon is
// not found.
func liveCoupon(l *ledger, id string) (*billing.Coupon, error) {
	cp, err := l.Coupon(id)
	if err == nil && cp.Deleted {
		err = billing.NotFoundError(clockwork.KindCoupon, id, "id")
	}
	return cp, err
}

func (s *Surface) retrieveCoupon(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(couponExpansions...)
	if err != nil {
		return nil, err
	}
	_, cp, err := openByID(s, c, tx, liveCoupon)
	if err != nil {
		return nil, err
	}
	return renderCoupon(cp, c.now.Unix(), expandSet(ex)), nil
}

func (s *Surface) updateCoupon(c *call, tx *store.Tx) (any, error) {
	var ch billing.CouponChange
	ch.Name = c.p.clearableText("name", maxCouponName)
	meta, cleared := c.p.metadata("metadata")
	c.p.unsupported("currency_options", "coupons in several currencies (currency_options)")
	ex, err := c.p.expansions(couponExpansions...)
	if err != nil {
		return nil, err
	}
	l, cp, err := openByID(s, c, tx, liveCoupon)
	if err != nil {
		return nil, err
	}
	ch.Metadata = metadataUpdate(cp.Metadata, meta, cleared)
	// Stripe announces coupon.updated only when something changed.
	if (ch.Name == nil || *ch.Name == cp.Name) && sameStrings(billing.MergeMetadata(cp.Metadata, ch.Metadata), cp.Metadata) {
		return renderCoupon(cp, c.now.Unix(), expandSet(ex)), nil
	}
	if cp, err = l.Engine().UpdateCoupon(cp.ID, ch, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderCoupon(cp, c.now.Unix(), expandSet(ex)), nil
}

// sameStrings reports whether two string maps hold the same pairs (nil
// and empty alike).
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

func (s *Surface) deleteCoupon(c *call, tx *store.Tx) (any, error) {
	if err := c.p.check(); err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	cp, err := l.Engine().DeleteCoupon(c.vars["id"], c.now.Unix())
	if err != nil {
		return nil, err
	}
	return renderDeleted(cp.ID, "coupon"), nil
}

func (s *Surface) listCoupons(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(couponExpansions...)
	if err != nil {
		return nil, err
	}
	_, coll, err := s.openCollection(c, tx, clockwork.CouponsCollection)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	match := func(cp *billing.Coupon) bool { return !cp.Deleted && created.match(cp.Created) }
	return listTyped(coll, pg, "/v1/coupons", "coupon", match, func(cp *billing.Coupon) (any, error) {
		return renderCoupon(cp, now, expandSet(ex)), nil
	})
}

// ---------------------------------------------------------------------------
// Promotion codes.

// promotionCodeExpansions are the fields of a promotion code that
// expand[] may name.
var promotionCodeExpansions = []string{"customer", "promotion.coupon"}

// promotionCodeObject is components.schemas.promotion_code.
type promotionCodeObject struct {
	ID              string            `json:"id"`
	Object          string            `json:"object"`
	Active          bool              `json:"active"`
	Code            string            `json:"code"`
	Created         int64             `json:"created"`
	Customer        any               `json:"customer"`
	CustomerAccount *string           `json:"customer_account"`
	ExpiresAt       *int64            `json:"expires_at"`
	Livemode        bool              `json:"livemode"`
	MaxRedemptions  *int64            `json:"max_redemptions"`
	Metadata        map[string]string `json:"metadata"`
	Promotion       promotionObject   `json:"promotion"`
	Restrictions    restrictionsObj   `json:"restrictions"`
	TimesRedeemed   int64             `json:"times_redeemed"`
}

// promotionObject is promotion_codes_resource_promotion.
type promotionObject struct {
	Coupon any    `json:"coupon"`
	Type   string `json:"type"`
}

// restrictionsObj is promotion_codes_resource_restrictions.
type restrictionsObj struct {
	FirstTimeTransaction  bool    `json:"first_time_transaction"`
	MinimumAmount         *int64  `json:"minimum_amount"`
	MinimumAmountCurrency *string `json:"minimum_amount_currency"`
}

// promotionActive is whether p is active as Stripe shows it: active, and
// its coupon still valid at wall time now.
func promotionActive(p *billing.PromotionCode, lk any, now int64) (bool, error) {
	if !p.Active {
		return false, nil
	}
	cl, ok := lk.(interface {
		Coupon(id string) (*billing.Coupon, error)
	})
	if !ok {
		return true, nil
	}
	cp, err := cl.Coupon(p.Coupon)
	if isMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return cp.Valid(now), nil
}

// renderPromotionCode renders a promotion code; customer and
// promotion.coupon are expandable.
func renderPromotionCode(p *billing.PromotionCode, lk renderLookup, ex expandSet) (*promotionCodeObject, error) {
	now := wallOf(lk)
	active, err := promotionActive(p, lk, now)
	if err != nil {
		return nil, err
	}
	o := &promotionCodeObject{
		ID: p.ID, Object: "promotion_code", Active: active, Code: p.Code, Created: p.Created,
		ExpiresAt: nullTime(p.ExpiresAt), Metadata: metadata(p.Metadata), TimesRedeemed: p.TimesRedeemed,
		Promotion:    promotionObject{Coupon: p.Coupon, Type: "coupon"},
		Restrictions: restrictionsObj{FirstTimeTransaction: p.Restrictions.FirstTimeTransaction},
	}
	if p.MaxRedemptions != 0 {
		max := p.MaxRedemptions
		o.MaxRedemptions = &max
	}
	if r := p.Restrictions; r.MinimumAmount != 0 {
		min := r.MinimumAmount
		o.Restrictions.MinimumAmount, o.Restrictions.MinimumAmountCurrency = &min, nullString(r.MinimumAmountCurrency)
	}
	if ex["promotion.coupon"] {
		if cl, ok := lk.(interface {
			Coupon(id string) (*billing.Coupon, error)
		}); ok {
			cp, err := cl.Coupon(p.Coupon)
			if err != nil && !isMissing(err) {
				return nil, err
			}
			if err == nil {
				o.Promotion.Coupon = renderCoupon(cp, now, nil)
			}
		}
	}
	if o.Customer, err = expandCustomer(ex, "customer", p.Customer, lk); err != nil {
		return nil, err
	}
	return o, nil
}

func (s *Surface) createPromotionCode(c *call, tx *store.Tx) (any, error) {
	now := c.now.Unix()
	p := &billing.PromotionCode{Active: true}
	if promo, ok := c.p.sub("promotion"); ok {
		typ, hasType := promo.enum("promotion[type]", "coupon")
		if !hasType && promo.err == nil {
			promo.fail(errMissing("promotion[type]"))
		}
		p.Coupon, _ = promo.text("promotion[coupon]", 5000)
		if typ == "coupon" && p.Coupon == "" && promo.err == nil {
			promo.fail(errMissing("promotion[coupon]"))
		}
		c.p.fail(promo.check())
	}
	// The top-level coupon of API versions before 2025-09-30.clover, which
	// the Stripe CLI's fixtures still send.
	if legacy, ok := c.p.str("coupon"); ok {
		if c.p.present("promotion") {
			c.p.fail(invalid("coupon", "You may only specify one of these parameters: coupon, promotion."))
		}
		p.Coupon = legacy
	} else if !c.p.present("promotion") {
		c.p.fail(errMissing("promotion"))
	}
	p.Code, _ = c.p.text("code", 500)
	if active, ok := c.p.bool("active"); ok {
		p.Active = active
	}
	p.Customer, _ = c.p.str("customer")
	c.p.unsupported("customer_account", "customer accounts (customer_account)")
	p.ExpiresAt, _ = c.p.timestamp("expires_at")
	p.MaxRedemptions, _ = c.p.intIn("max_redemptions", 1, math.MaxInt64)
	if r, ok := c.p.sub("restrictions"); ok {
		p.Restrictions.FirstTimeTransaction, _ = r.bool("restrictions[first_time_transaction]")
		if min, ok := r.int64("restrictions[minimum_amount]"); ok {
			p.Restrictions.MinimumAmount = min
		}
		p.Restrictions.MinimumAmountCurrency, _ = readCurrency(r, "restrictions[minimum_amount_currency]")
		r.unsupported("restrictions[currency_options]", "minimum amounts in several currencies (restrictions[currency_options])")
		c.p.fail(r.check())
	}
	meta, _ := c.p.metadata("metadata")
	p.Metadata = applyMetadata(nil, meta, false)
	ex, err := c.p.expansions(promotionCodeExpansions...)
	if err != nil {
		return nil, err
	}
	l, err := s.ledger(tx, c.account, c)
	if err != nil {
		return nil, err
	}
	// Stripe's spec: a promotion code may not outlast, nor be redeemed
	// more often than, its coupon.
	if cp, err := liveCoupon(l, p.Coupon); err == nil {
		if cp.RedeemBy != 0 && p.ExpiresAt > cp.RedeemBy {
			return nil, invalid("expires_at", "The promotion code's expires_at (%d) cannot be after its coupon's redeem_by (%d).",
				p.ExpiresAt, cp.RedeemBy)
		}
		if cp.MaxRedemptions != 0 && p.MaxRedemptions > cp.MaxRedemptions {
			return nil, invalid("max_redemptions", "The promotion code's max_redemptions (%d) cannot be greater than its "+
				"coupon's max_redemptions (%d).", p.MaxRedemptions, cp.MaxRedemptions)
		}
	}
	if err := l.Engine().CreatePromotionCode(p, now); err != nil {
		return nil, withPromotionParam(err, c.p)
	}
	return renderPromotionCode(p, l, expandSet(ex))
}

// withPromotionParam names the coupon of a promotion code create by the
// parameter it came in: promotion[coupon], or the legacy coupon.
func withPromotionParam(err error, p *params) error {
	be, ok := err.(*billing.Error)
	if !ok || be.Param != "coupon" || p.present("coupon") {
		return err
	}
	return withParam(err, "promotion[coupon]")
}

func (s *Surface) retrievePromotionCode(c *call, tx *store.Tx) (any, error) {
	ex, err := c.p.expansions(promotionCodeExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, err := openByID(s, c, tx, (*ledger).PromotionCode)
	if err != nil {
		return nil, err
	}
	return renderPromotionCode(p, l, expandSet(ex))
}

func (s *Surface) updatePromotionCode(c *call, tx *store.Tx) (any, error) {
	var ch billing.PromotionCodeChange
	if active, ok := c.p.bool("active"); ok {
		ch.Active = &active
	}
	meta, cleared := c.p.metadata("metadata")
	if r, ok := c.p.sub("restrictions"); ok {
		r.unsupported("restrictions[currency_options]", "minimum amounts in several currencies (restrictions[currency_options])")
		c.p.fail(r.check())
	}
	ex, err := c.p.expansions(promotionCodeExpansions...)
	if err != nil {
		return nil, err
	}
	l, p, err := openByID(s, c, tx, (*ledger).PromotionCode)
	if err != nil {
		return nil, err
	}
	ch.Metadata = metadataUpdate(p.Metadata, meta, cleared)
	if (ch.Active == nil || *ch.Active == p.Active) && sameStrings(billing.MergeMetadata(p.Metadata, ch.Metadata), p.Metadata) {
		return renderPromotionCode(p, l, expandSet(ex))
	}
	if ch.Active != nil && *ch.Active && !p.Active {
		// Stripe: "A promotion code can only be reactivated when the coupon
		// is still valid".
		if cp, err := l.Coupon(p.Coupon); err != nil && !isMissing(err) {
			return nil, err
		} else if err != nil || !cp.Valid(c.now.Unix()) {
			return nil, invalid("active", "This promotion code cannot be reactivated because its coupon (%s) is no longer valid.",
				p.Coupon)
		}
	}
	if p, err = l.Engine().UpdatePromotionCode(p.ID, ch, c.now.Unix()); err != nil {
		return nil, err
	}
	return renderPromotionCode(p, l, expandSet(ex))
}

func (s *Surface) listPromotionCodes(c *call, tx *store.Tx) (any, error) {
	pg := pageParams(c.p)
	active, hasActive := c.p.bool("active")
	code, _ := c.p.str("code")
	coupon, _ := c.p.str("coupon")
	customer, _ := c.p.str("customer")
	customerAccount, _ := c.p.str("customer_account")
	created := rangeParam(c.p, "created")
	ex, err := c.p.expansions(promotionCodeExpansions...)
	if err != nil {
		return nil, err
	}
	l, coll, err := s.openCollection(c, tx, clockwork.PromotionCodesCollection)
	if err != nil {
		return nil, err
	}
	now := c.now.Unix()
	var ferr error
	match := func(p *billing.PromotionCode) bool {
		if code != "" && !strings.EqualFold(p.Code, code) || coupon != "" && p.Coupon != coupon ||
			customer != "" && p.Customer != customer || customerAccount != "" || !created.match(p.Created) {
			return false
		}
		if !hasActive {
			return true
		}
		shown, err := promotionActive(p, l, now)
		if err != nil {
			ferr = err
		}
		return shown == active
	}
	out, err := listTyped(coll, pg, "/v1/promotion_codes", "promotion code", match, func(p *billing.PromotionCode) (any, error) {
		return renderPromotionCode(p, l, expandSet(ex))
	})
	if ferr != nil {
		return nil, ferr
	}
	return out, err
}
