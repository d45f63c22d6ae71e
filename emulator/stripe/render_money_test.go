package stripe

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/billclock/billclock/emulator/billing"
)

// moneyLookup is a renderLookup that also finds coupons and tax rates,
// at a fixed wall time, as the ledger does.
type moneyLookup struct {
	*rbLookup
	coupons map[string]*billing.Coupon
	rates   map[string]*billing.TaxRate
	wall    int64
}

func (m *moneyLookup) Coupon(id string) (*billing.Coupon, error) {
	if c, ok := m.coupons[id]; ok {
		return c, nil
	}
	return nil, billing.NotFoundError("coupon", id, "id")
}

func (m *moneyLookup) TaxRate(id string) (*billing.TaxRate, error) {
	if r, ok := m.rates[id]; ok {
		return r, nil
	}
	return nil, billing.NotFoundError("tax_rate", id, "id")
}

func (m *moneyLookup) Wall() int64 { return m.wall }

// TestRenderMoneyShapes: coupons, promotion codes, tax rates and discounts
// render in the shapes of Stripe's spec (these reach users in events,
// which the end-to-end conformance check does not look into), with the
// values Stripe shows.
func TestRenderMoneyShapes(t *testing.T) {
	spec, err := loadRenderSpec()
	require.NoError(t, err)
	repeating := &billing.Coupon{ID: "SPRING", Created: rbStart, Name: "Spring", PercentOff: 72500, Duration: billing.DurationRepeating,
		DurationInMonths: 3, MaxRedemptions: 5, TimesRedeemed: 5, AppliesToProducts: []string{"prod_seats"}}
	expired := &billing.Coupon{ID: "OLD", Created: rbStart, AmountOff: 500, Currency: "usd", Duration: billing.DurationOnce,
		RedeemBy: rbMid}
	lk := &moneyLookup{rbLookup: renderWorld(), coupons: map[string]*billing.Coupon{"SPRING": repeating, "OLD": expired},
		rates: map[string]*billing.TaxRate{"txr_vat": {ID: "txr_vat", Created: rbStart, DisplayName: "VAT", Percentage: 200000,
			Inclusive: true, Active: true, Country: "DE", TaxType: "vat"}}, wall: rbRenew}

	c := rbMap(t, renderCoupon(repeating, lk.wall, expandSet{"applies_to": true, "currency_options": true}))
	require.NoError(t, spec.ValidateSchema("coupon", c))
	assert.Equal(t, 7.25, c["percent_off"])
	assert.Nil(t, c["amount_off"])
	assert.Nil(t, c["currency"])
	assert.EqualValues(t, 3, c["duration_in_months"])
	assert.Equal(t, false, c["valid"], "redeemed its maximum number of times")
	assert.Equal(t, map[string]any{"products": []any{"prod_seats"}}, c["applies_to"])
	assert.Equal(t, map[string]any{}, c["currency_options"])
	o := rbMap(t, renderCoupon(expired, lk.wall, nil))
	require.NoError(t, spec.ValidateSchema("coupon", o))
	assert.EqualValues(t, 500, o["amount_off"])
	assert.Equal(t, "usd", o["currency"])
	assert.Nil(t, o["duration_in_months"])
	assert.Equal(t, false, o["valid"], "past its redeem_by at the wall time")
	assert.NotContains(t, o, "applies_to")
	_, shown := o["currency_options"]
	assert.False(t, shown)

	promo := &billing.PromotionCode{ID: "promo_1", Created: rbStart, Code: "SPRING-25", Coupon: "SPRING", Active: true,
		Customer: "cus_1", ExpiresAt: rbEnd, MaxRedemptions: 3, TimesRedeemed: 1,
		Restrictions: billing.Restrictions{FirstTimeTransaction: true, MinimumAmount: 5000, MinimumAmountCurrency: "usd"}}
	pv, err := renderPromotionCode(promo, lk, expandSet{"customer": true, "promotion.coupon": true})
	require.NoError(t, err)
	p := rbMap(t, pv)
	require.NoError(t, spec.ValidateSchema("promotion_code", p))
	assert.Equal(t, false, p["active"], "its coupon is no longer valid")
	assert.Equal(t, "customer", p["customer"].(map[string]any)["object"])
	assert.Equal(t, "SPRING", p["promotion"].(map[string]any)["coupon"].(map[string]any)["id"])
	assert.Equal(t, map[string]any{"first_time_transaction": true, "minimum_amount": 5000.0, "minimum_amount_currency": "usd"},
		p["restrictions"])
	plain := &billing.PromotionCode{ID: "promo_2", Created: rbStart, Code: "FREE", Coupon: "GONE", Active: true}
	pv, err = renderPromotionCode(plain, lk, nil)
	require.NoError(t, err)
	p = rbMap(t, pv)
	require.NoError(t, spec.ValidateSchema("promotion_code", p))
	assert.Equal(t, map[string]any{"type": "coupon", "coupon": "GONE"}, p["promotion"])
	assert.Nil(t, p["customer"])
	assert.Nil(t, p["max_redemptions"])

	r := rbMap(t, renderTaxRate(lk.rates["txr_vat"]))
	require.NoError(t, spec.ValidateSchema("tax_rate", r))
	assert.Equal(t, 20.0, r["percentage"])
	assert.Equal(t, "vat", r["tax_type"])
	assert.Nil(t, r["jurisdiction"])

	d := &billing.Discount{ID: "di_1", Coupon: *repeating, PromotionCode: "promo_1", Customer: "cus_1", Subscription: "sub_1",
		Start: rbStart, End: rbEnd}
	dm := rbMap(t, renderDiscount(d))
	require.NoError(t, spec.ValidateSchema("discount", dm))
	assert.Equal(t, map[string]any{"type": "coupon", "coupon": "SPRING"}, dm["source"])
	assert.Equal(t, "promo_1", dm["promotion_code"])
	assert.EqualValues(t, rbEnd, dm["end"])
	gone := rbMap(t, renderDeletedDiscount(d))
	require.NoError(t, spec.ValidateSchema("deleted_discount", gone))
	assert.Equal(t, true, gone["deleted"])
	assert.NotContains(t, gone, "end")

	// A customer with a discount, and an invoice whose lines were
	// discounted and taxed.
	cust := *lk.custs["cus_1"]
	cust.Discount = d
	cv, err := renderCustomer(&cust, lk, nil)
	require.NoError(t, err)
	cm := rbMap(t, cv)
	require.NoError(t, spec.ValidateSchema("customer", cm))
	assert.Equal(t, "di_1", cm["discount"].(map[string]any)["id"])

	inv := &billing.Invoice{ID: "in_taxed", Customer: "cus_1", Created: rbStart, Status: billing.InvoiceDraft,
		BillingReason: billing.ReasonManual, Currency: "usd", Discounts: []billing.Discount{*d}, DefaultTaxRates: []string{"txr_vat"},
		Lines: []billing.InvoiceLine{{ID: "il_1", Amount: 2400, Quantity: 1, Price: "price_seats", SubscriptionItem: "si_seats",
			Discountable: true, DiscountAmounts: []billing.DiscountAmount{{Discount: "di_1", Amount: 174}},
			Taxes: []billing.TaxAmount{{TaxRate: "txr_vat", Amount: 371, Inclusive: true, TaxableAmount: 1855}}}}}
	iv, err := renderInvoice(inv, lk, expandSet{"discounts": true})
	require.NoError(t, err)
	im := rbMap(t, iv)
	require.NoError(t, spec.ValidateSchema("invoice", im))
	assert.EqualValues(t, 2400, im["subtotal"])
	assert.EqualValues(t, 2029, im["subtotal_excluding_tax"])
	assert.EqualValues(t, 1855, im["total_excluding_tax"])
	assert.EqualValues(t, 2226, im["total"])
	assert.Equal(t, "di_1", im["discounts"].([]any)[0].(map[string]any)["id"], "expanded")
	assert.Equal(t, []any{map[string]any{"amount": 174.0, "discount": "di_1"}}, im["total_discount_amounts"])
	assert.Equal(t, []any{map[string]any{"amount": 371.0, "tax_behavior": "inclusive", "taxability_reason": "not_available",
		"taxable_amount": 1855.0, "type": "tax_rate_details", "tax_rate_details": map[string]any{"tax_rate": "txr_vat"}}},
		im["total_taxes"])
	assert.Equal(t, "txr_vat", im["default_tax_rates"].([]any)[0].(map[string]any)["id"])
	line := im["lines"].(map[string]any)["data"].([]any)[0].(map[string]any)
	assert.EqualValues(t, 2400, line["amount"], "a line's amount is before its discounts")
	assert.Equal(t, im["total_discount_amounts"], line["discount_amounts"])
	assert.Equal(t, im["total_taxes"], line["taxes"])
	assert.Equal(t, []any{}, line["discounts"], "the invoice's discount is not the line's own")
}
