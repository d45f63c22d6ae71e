package billing

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func requireCode(t *testing.T, err error, code Code, param string) *Error {
	t.Helper()
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, Invalid, be.Kind)
	assert.Equal(t, code, be.Code)
	assert.Equal(t, param, be.Param)
	return be
}

func newMoney(t *testing.T) *moneyScenario {
	m := &moneyScenario{scenario: newScenario(t, utc("2025-01-01T00:00:00Z"))}
	m.product("prod_pro", "Pro")
	m.product("prod_other", "Other")
	m.price("price_pro", "prod_pro", 2000, Month, 1)
	m.price("price_other", "prod_other", 1000, Month, 1)
	return m
}

func TestCreateCouponChecks(t *testing.T) {
	m := newMoney(t)
	cases := []struct {
		name  string
		c     Coupon
		code  Code
		param string
	}{
		{"neither off", Coupon{}, CodeCouponOff, "percent_off"},
		{"both off", Coupon{PercentOff: PercentUnit, AmountOff: 5, Currency: "usd"}, CodeCouponOff, "amount_off"},
		{"over 100%", Coupon{PercentOff: Hundred + 1}, CodeCouponPercentOff, "percent_off"},
		{"negative amount", Coupon{AmountOff: -5, Currency: "usd"}, CodeCouponAmountOff, "amount_off"},
		{"amount too large", Coupon{AmountOff: MaxAmount + 1, Currency: "usd"}, CodeCouponAmountOff, "amount_off"},
		{"amount without currency", Coupon{AmountOff: 5}, CodeCouponCurrencyRequired, "currency"},
		{"unknown duration", Coupon{PercentOff: PercentUnit, Duration: "weekly"}, CodeCouponDuration, "duration"},
		{"repeating without months", Coupon{PercentOff: PercentUnit, Duration: DurationRepeating}, CodeCouponDurationInMonths, "duration_in_months"},
		{"months too many", Coupon{PercentOff: PercentUnit, Duration: DurationRepeating, DurationInMonths: MaxCouponMonths + 1}, CodeCouponDurationInMonths, "duration_in_months"},
		{"months on forever", Coupon{PercentOff: PercentUnit, Duration: DurationForever, DurationInMonths: 3}, CodeCouponDurationInMonths, "duration_in_months"},
		{"redeem by now", Coupon{PercentOff: PercentUnit, RedeemBy: m.now}, CodeCouponRedeemByPast, "redeem_by"},
		{"negative max redemptions", Coupon{PercentOff: PercentUnit, MaxRedemptions: -1}, CodeRedemptionLimit, "max_redemptions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireCode(t, m.e.CreateCoupon(&tc.c, m.now), tc.code, tc.param)
		})
	}
	err := m.e.CreateCoupon(&Coupon{PercentOff: PercentUnit, AppliesToProducts: []string{"prod_pro", "prod_nope"}}, m.now)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "applies_to[products][1]", be.Param)

	c := Coupon{PercentOff: 25 * PercentUnit}
	require.NoError(t, m.e.CreateCoupon(&c, m.now))
	assert.Equal(t, DurationOnce, c.Duration, "once by default")
	assert.NotEmpty(t, c.ID)
	requireCode(t, m.e.CreateCoupon(&Coupon{ID: c.ID, PercentOff: PercentUnit}, m.now), CodeCouponExists, "id")
}

// A deleted coupon cannot be redeemed, but the discounts made from it go
// on; its ID can be used again.
func TestDeletedCoupon(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "GONE", PercentOff: 50 * PercentUnit, Duration: DurationForever})
	sub, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "GONE"})}, ItemSpec{Price: "price_pro"})
	require.NoError(t, err)
	deleted, err := m.e.DeleteCoupon("GONE", m.now)
	require.NoError(t, err)
	assert.True(t, deleted.Deleted)
	_, err = m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{Coupon: "GONE"}, m.now)
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "coupon", be.Param)
	_, err = m.e.UpdateCoupon("GONE", CouponChange{}, m.now)
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)

	m.advance(utc("2025-02-01T02:00:00Z"))
	invs := m.l.invoices()
	require.Len(t, invs, 2)
	assert.EqualValues(t, 1000, invs[1].Total(), "the renewal is still half off")
	assert.Equal(t, sub.Discounts[0].ID, invs[1].Discounts[0].ID)
	require.NoError(t, m.e.CreateCoupon(&Coupon{ID: "GONE", AmountOff: 100, Currency: "usd"}, m.now))
}

func TestUpdateCouponAndPromotionCode(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "C", PercentOff: PercentUnit, Metadata: map[string]string{"a": "1"}})
	name := "Spring"
	c, err := m.e.UpdateCoupon("C", CouponChange{Name: &name, Metadata: map[string]string{"a": "", "b": "2"}}, m.now)
	require.NoError(t, err)
	assert.Equal(t, "Spring", c.Name)
	assert.Equal(t, map[string]string{"b": "2"}, c.Metadata)
	ev := m.l.events[len(m.l.events)-1]
	assert.Equal(t, EventCouponUpdated, ev.Type)
	assert.Equal(t, "", ev.Before.(*Coupon).Name)

	first := m.promo(PromotionCode{Code: "SPRING", Coupon: "C", Active: true})
	off := false
	_, err = m.e.UpdatePromotionCode(first, PromotionCodeChange{Active: &off}, m.now)
	require.NoError(t, err)
	second := m.promo(PromotionCode{Code: "spring", Coupon: "C", Active: true}) // the first is inactive
	on := true
	_, err = m.e.UpdatePromotionCode(first, PromotionCodeChange{Active: &on}, m.now)
	requireCode(t, err, CodePromotionCodeExists, "code")
	got, err := m.l.PromotionCode(first)
	require.NoError(t, err)
	assert.False(t, got.Active, "a refused reactivation changes nothing")
	// A code for one customer does not clash with another customer's.
	m.customer("cus_0002")
	_, err = m.e.UpdatePromotionCode(second, PromotionCodeChange{Active: &off}, m.now)
	require.NoError(t, err)
	m.promo(PromotionCode{Code: "VIP", Coupon: "C", Active: true, Customer: "cus_0001"})
	m.promo(PromotionCode{Code: "VIP", Coupon: "C", Active: true, Customer: "cus_0002"})
	requireCode(t, m.e.CreatePromotionCode(&PromotionCode{Code: "VIP", Coupon: "C", Active: true}, m.now), CodePromotionCodeExists, "code")

	for _, p := range []struct {
		p     PromotionCode
		code  Code
		param string
	}{
		{PromotionCode{Code: "X", Coupon: "C", ExpiresAt: m.now}, CodePromotionCodeExpiresPast, "expires_at"},
		{PromotionCode{Code: "X", Coupon: "C", MaxRedemptions: -1}, CodeRedemptionLimit, "max_redemptions"},
		{PromotionCode{Code: "X", Coupon: "C", Restrictions: Restrictions{MinimumAmount: 100}}, CodePromotionCodeMinimumCurrencyRequired, "restrictions[minimum_amount_currency]"},
		{PromotionCode{Code: "ÄÖ", Coupon: "C"}, CodePromotionCodeFormat, "code"},
	} {
		requireCode(t, m.e.CreatePromotionCode(&p.p, m.now), p.code, p.param)
	}
	generated := PromotionCode{Coupon: "C", Active: true}
	require.NoError(t, m.e.CreatePromotionCode(&generated, m.now))
	assert.True(t, validCode(generated.Code), generated.Code)
}

func TestDiscountSpecs(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "TEN", PercentOff: 10 * PercentUnit, Duration: DurationForever})
	_, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{})}, ItemSpec{Price: "price_pro"})
	requireCode(t, err, CodeDiscountSpec, "discounts[0]")
	_, err = m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "TEN", PromotionCode: "promo_x"})}, ItemSpec{Price: "price_pro"})
	requireCode(t, err, CodeDiscountSpec, "discounts[0]")
	_, err = m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Discount: "di_nope"})}, ItemSpec{Price: "price_pro"})
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "discounts[0][discount]", be.Param)

	// The customer's discount can be reused on a subscription: it is
	// the same discount, not a second redemption.
	d, err := m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{Coupon: "TEN"}, m.now)
	require.NoError(t, err)
	sub, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Discount: d.ID})}, ItemSpec{Price: "price_pro"})
	require.NoError(t, err)
	require.Len(t, sub.Discounts, 1)
	assert.Equal(t, d.ID, sub.Discounts[0].ID)
	c, err := m.l.Coupon("TEN")
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.TimesRedeemed)
	same, err := m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{Discount: d.ID}, m.now)
	require.NoError(t, err)
	assert.Equal(t, d.ID, same.ID)
}

// A subscription's own discounts take precedence over its customer's;
// without them the customer's apply.
func TestSubscriptionDiscountBeatsCustomers(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "CUST", PercentOff: 10 * PercentUnit, Duration: DurationForever})
	m.coupon(Coupon{ID: "SUB", PercentOff: 50 * PercentUnit, Duration: DurationForever})
	_, err := m.e.SetCustomerDiscount(m.cust("cus_0001"), DiscountSpec{Coupon: "CUST"}, m.now)
	require.NoError(t, err)
	own, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "SUB"})}, ItemSpec{Price: "price_pro"})
	require.NoError(t, err)
	_, err = m.subscribe("cus_0001", Terms{}, ItemSpec{Price: "price_other"})
	require.NoError(t, err)
	invs := m.l.invoices()
	assert.EqualValues(t, 1000, invs[0].Total(), "50% of 2000")
	assert.EqualValues(t, 900, invs[1].Total(), "10% of 1000")

	// Without its discounts the subscription falls back to the customer's.
	_, removed, err := m.e.DeleteSubscriptionDiscounts(own.ID, m.now)
	require.NoError(t, err)
	require.Len(t, removed, 1)
	_, _, err = m.e.DeleteSubscriptionDiscounts(own.ID, m.now)
	requireCode(t, err, CodeNoDiscount, "")
	m.advance(utc("2025-02-01T02:00:00Z"))
	invs = m.l.invoices()
	require.Len(t, invs, 4)
	assert.EqualValues(t, 1800, invs[2].Total())

	_, err = m.e.DeleteCustomerDiscount(m.cust("cus_0001"), m.now)
	require.NoError(t, err)
	_, err = m.e.DeleteCustomerDiscount(m.cust("cus_0001"), m.now)
	requireCode(t, err, CodeNoDiscount, "")
	m.advance(utc("2025-03-01T02:00:00Z"))
	invs = m.l.invoices()
	assert.EqualValues(t, 2000, invs[4].Total())
}

// A once coupon on a subscription that starts with a trial is not used up
// by the trial's empty invoice: it discounts the first paid one.
func TestOnceCouponSkipsTrialInvoice(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "ONCE", AmountOff: 700, Currency: "usd", Duration: DurationOnce})
	sub, err := m.e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price_pro"}},
		TrialEnd: m.now + 7*86400, Terms: Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "ONCE"})}}, m.now)
	require.NoError(t, err)
	assert.Len(t, sub.Discounts, 1, "kept through the trial")
	m.advance(utc("2025-02-08T02:00:00Z"))
	invs := m.l.invoices()
	require.Len(t, invs, 3)
	assert.EqualValues(t, 0, invs[0].Total())
	assert.EqualValues(t, 1300, invs[1].Total())
	assert.EqualValues(t, 2000, invs[2].Total())
	got, err := m.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Empty(t, got.Discounts)
}

// A coupon for some products discounts only their lines; redeemed onto
// something of other products (an invoice item) it is refused.
func TestAppliesToProducts(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "PROONLY", PercentOff: 50 * PercentUnit, Duration: DurationForever, AppliesToProducts: []string{"prod_pro"}})
	_, err := m.subscribe("cus_0001", Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "PROONLY"})},
		ItemSpec{Price: "price_pro"}, ItemSpec{Price: "price_other"})
	require.NoError(t, err)
	inv := m.l.invoices()[0]
	assert.EqualValues(t, 2000, inv.Total(), "half of the 2000 Pro line, none of the 1000 Other line")
	_, err = m.e.RedeemDiscounts([]DiscountSpec{{Coupon: "PROONLY", Param: "discounts[0]"}},
		DiscountTarget{Customer: m.cust("cus_0001"), InvoiceItem: "ii_x", Products: []string{"prod_other"}}, m.now)
	be := requireCode(t, err, CodeCouponNotApplicable, "discounts[0][coupon]")
	assert.Equal(t, "prod_other", be.Value)
}

func TestSubscriptionTaxRates(t *testing.T) {
	m := newMoney(t)
	m.taxRate(TaxRate{ID: "txr_a", DisplayName: "A", Percentage: 10 * PercentUnit})
	m.taxRate(TaxRate{ID: "txr_b", DisplayName: "B", Percentage: 5 * PercentUnit})
	require.NoError(t, m.e.CreateTaxRate(&TaxRate{ID: "txr_old", DisplayName: "Old", Percentage: PercentUnit}, m.now))
	_, err := m.subscribe("cus_0001", Terms{}, ItemSpec{Price: "price_pro", TaxRates: rates("txr_nope")})
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
	assert.Equal(t, "items[0][tax_rates][0]", be.Param)
	_, err = m.subscribe("cus_0001", Terms{DefaultTaxRates: rates("txr_a", "txr_a")}, ItemSpec{Price: "price_pro"})
	requireCode(t, err, CodeTaxRateDuplicate, "default_tax_rates[1]")
	_, err = m.subscribe("cus_0001", Terms{DefaultTaxRates: rates("txr_old")}, ItemSpec{Price: "price_pro"})
	requireCode(t, err, CodeTaxRateInactive, "default_tax_rates[0]")

	sub, err := m.subscribe("cus_0001", Terms{DefaultTaxRates: rates("txr_a")},
		ItemSpec{Price: "price_pro"}, ItemSpec{Price: "price_other", TaxRates: rates("txr_b")})
	require.NoError(t, err)
	assert.EqualValues(t, 2000+200+1000+50, m.l.invoices()[0].Total())
	// The update gives the first item its own rate and adds an item,
	// taxed by default; the change's prorations are taxed as their items.
	_, err = m.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateAlways, Items: []ItemSpec{
		{ID: sub.Items[0].ID, TaxRates: rates("txr_b"), Param: "items[0]"},
		{Price: "price_other", Param: "items[1]"},
		{ID: sub.Items[1].ID, Quantity: qty(2), Param: "items[2]"},
	}}, m.now)
	require.NoError(t, err)
	got, err := m.l.Subscription(sub.ID)
	require.NoError(t, err)
	assert.Equal(t, []string{"txr_b"}, got.Items[0].TaxRates)
	assert.Equal(t, []string{"txr_b"}, got.Items[1].TaxRates)
	assert.Empty(t, got.Items[2].TaxRates)
	// Prorated at once (the whole period is left): +1000 for the new item
	// at 10% by default, −1000 and +2000 for the second at its own 5%.
	invs := m.l.invoices()
	require.Len(t, invs, 2)
	assert.EqualValues(t, 1100+(-1050)+2100, invs[1].Total())
	// Removing an item prorates it at the rates it had.
	_, err = m.e.UpdateSubscription(sub.ID, SubscriptionChange{ProrationBehavior: ProrateAlways,
		Items: []ItemSpec{{ID: sub.Items[1].ID, Deleted: true, Param: "items[0]"}}}, m.now)
	require.NoError(t, err)
	invs = m.l.invoices()
	require.Len(t, invs, 3)
	assert.Equal(t, []string{"txr_b"}, invs[2].Lines[0].TaxRates)
	assert.EqualValues(t, -2100, invs[2].Total())
}

// An engine over a ledger that keeps no coupons or tax rates refuses them
// and bills as before.
func TestLedgerWithoutCoupons(t *testing.T) {
	s := newScenario(t, utc("2025-01-01T00:00:00Z"))
	e := &Engine{L: plainLedger{s.l}}
	s.product("prod", "P")
	s.price("price", "prod", 1000, Month, 1)
	err := e.CreateCoupon(&Coupon{PercentOff: PercentUnit}, s.now)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no coupons")
	_, err = e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price"}},
		Terms: Terms{Discounts: discountSpecs(DiscountSpec{Coupon: "X"})}}, s.now)
	require.Error(t, err)
	_, err = e.CreateSubscription(NewSubscription{Customer: "cus_0001", Items: []ItemSpec{{Price: "price"}}}, s.now)
	require.NoError(t, err)
	assert.EqualValues(t, 1000, s.l.invoices()[0].Total())
}

// plainLedger hides memLedger's coupons and tax rates.
type plainLedger struct{ Ledger }

// Bad calls are refused, never a panic or an overwrite.
func TestRedeemAndTaxRateGuards(t *testing.T) {
	m := newMoney(t)
	m.coupon(Coupon{ID: "C", PercentOff: PercentUnit})
	_, err := m.e.RedeemDiscounts([]DiscountSpec{{Coupon: "C"}}, DiscountTarget{}, m.now)
	require.Error(t, err)
	m.taxRate(TaxRate{ID: "txr_a", DisplayName: "A", Percentage: 10 * PercentUnit})
	err = m.e.CreateTaxRate(&TaxRate{ID: "txr_a", DisplayName: "B", Percentage: PercentUnit}, m.now)
	be := requireCode(t, err, CodeTaxRateExists, "id")
	assert.Equal(t, "txr_a", be.ID)
	r, err := m.l.TaxRate("txr_a")
	require.NoError(t, err)
	assert.Equal(t, 10*PercentUnit, r.Percentage, "the first rate is left as it was")
	requireCode(t, m.e.CreateTaxRate(&TaxRate{DisplayName: "C", Percentage: Hundred + 1}, m.now), CodeTaxRatePercentage, "percentage")
}
