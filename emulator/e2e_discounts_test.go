package emulator_test

// End-to-end tests of coupons, promotion codes, discounts and tax rates,
// driven with stripe-go as a user would: the amounts an invoice shows with
// its discounts and taxes, over renewals on a test clock, and the events
// and errors along the way.

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// coupon creates a coupon.
func (b *billingEnv) coupon(p *stripe.CouponCreateParams) *stripe.Coupon {
	b.t.Helper()
	c, err := b.sc.V1Coupons.Create(b.t.Context(), p)
	require.NoError(b.t, err)
	return c
}

// taxRate creates a tax rate of percentage, inclusive or not.
func (b *billingEnv) taxRate(name string, percentage float64, inclusive bool) *stripe.TaxRate {
	b.t.Helper()
	r, err := b.sc.V1TaxRates.Create(b.t.Context(), &stripe.TaxRateCreateParams{DisplayName: stripe.String(name),
		Percentage: stripe.Float64(percentage), Inclusive: stripe.Bool(inclusive)})
	require.NoError(b.t, err)
	return r
}

// discounted is what a user reads off an invoice's money: subtotal,
// discounts, taxes and totals, and each line's amount and what came off it
// or was added to it.
type discounted struct {
	Subtotal, SubtotalExcludingTax, TotalExcludingTax, Total, AmountDue int64
	Discounts                                                           []string
	DiscountAmounts                                                     map[string]int64
	Taxes                                                               []taxLine
	Lines                                                               []moneyLine
}

type taxLine struct {
	Rate              string
	Amount, Taxable   int64
	Inclusive         bool
	TaxabilityReason  string
	TaxRateDetailType string
}

type moneyLine struct {
	Amount       int64
	Discountable bool
	Off          map[string]int64
	Taxes        []taxLine
}

func moneyOf(inv *stripe.Invoice) discounted {
	d := discounted{Subtotal: inv.Subtotal, SubtotalExcludingTax: inv.SubtotalExcludingTax,
		TotalExcludingTax: inv.TotalExcludingTax, Total: inv.Total, AmountDue: inv.AmountDue}
	for _, di := range inv.Discounts {
		d.Discounts = append(d.Discounts, di.ID)
	}
	for _, da := range inv.TotalDiscountAmounts {
		if d.DiscountAmounts == nil {
			d.DiscountAmounts = map[string]int64{}
		}
		d.DiscountAmounts[da.Discount.ID] = da.Amount
	}
	for _, tx := range inv.TotalTaxes {
		d.Taxes = append(d.Taxes, taxLine{Rate: tx.TaxRateDetails.TaxRate.ID, Amount: tx.Amount, Taxable: tx.TaxableAmount,
			Inclusive: tx.TaxBehavior == "inclusive", TaxabilityReason: string(tx.TaxabilityReason), TaxRateDetailType: string(tx.Type)})
	}
	for _, l := range inv.Lines.Data {
		ml := moneyLine{Amount: l.Amount, Discountable: l.Discountable}
		for _, da := range l.DiscountAmounts {
			if ml.Off == nil {
				ml.Off = map[string]int64{}
			}
			ml.Off[da.Discount.ID] = da.Amount
		}
		for _, tx := range l.Taxes {
			ml.Taxes = append(ml.Taxes, taxLine{Rate: tx.TaxRateDetails.TaxRate.ID, Amount: tx.Amount, Taxable: tx.TaxableAmount,
				Inclusive: tx.TaxBehavior == "inclusive", TaxabilityReason: string(tx.TaxabilityReason), TaxRateDetailType: string(tx.Type)})
		}
		d.Lines = append(d.Lines, ml)
	}
	return d
}

// TestCouponsCRUD: coupons are created with each kind of discount and
// duration, read back as Stripe shows them, renamed, listed newest first
// and deleted, each change announced; bad coupons get Stripe's errors.
func TestCouponsCRUD(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	prod := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth).Product.ID

	pct := b.coupon(&stripe.CouponCreateParams{ID: stripe.String("SPRING25"), Name: stripe.String("Spring"),
		PercentOff: stripe.Float64(25), Duration: stripe.String("repeating"), DurationInMonths: stripe.Int64(3),
		MaxRedemptions: stripe.Int64(100), Metadata: map[string]string{"campaign": "spring"}})
	assert.Equal(t, "SPRING25", pct.ID)
	assert.Equal(t, "coupon", pct.Object)
	assert.InDelta(t, 25, pct.PercentOff, 0)
	assert.Zero(t, pct.AmountOff)
	assert.Equal(t, stripe.Currency(""), pct.Currency)
	assert.Equal(t, stripe.CouponDurationRepeating, pct.Duration)
	assert.EqualValues(t, 3, pct.DurationInMonths)
	assert.EqualValues(t, 100, pct.MaxRedemptions)
	assert.Equal(t, "Spring", pct.Name)
	assert.True(t, pct.Valid)
	assert.Zero(t, pct.TimesRedeemed)
	assert.Nil(t, pct.AppliesTo, "applies_to shows only when expanded")
	raw := rawJSON(t, pct.LastResponse)
	assert.Equal(t, 25.0, raw["percent_off"])
	assert.Nil(t, raw["amount_off"])
	assert.Nil(t, raw["redeem_by"])

	redeemBy := time.Now().Add(30 * 24 * time.Hour).Unix()
	amount := b.coupon(&stripe.CouponCreateParams{AmountOff: stripe.Int64(500), Currency: stripe.String("USD"),
		Duration: stripe.String("forever"), RedeemBy: stripe.Int64(redeemBy),
		AppliesTo: &stripe.CouponCreateAppliesToParams{Products: stripe.StringSlice([]string{prod})}})
	assert.Len(t, amount.ID, 8, "a generated coupon id: eight characters, no prefix")
	assert.EqualValues(t, 500, amount.AmountOff)
	assert.Equal(t, stripe.CurrencyUSD, amount.Currency)
	assert.Equal(t, redeemBy, amount.RedeemBy)
	assert.Zero(t, amount.DurationInMonths)
	once := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(7.25)})
	assert.Equal(t, stripe.CouponDurationOnce, once.Duration, "once by default")
	assert.InDelta(t, 7.25, once.PercentOff, 0)

	got, err := b.sc.V1Coupons.Retrieve(ctx, amount.ID, &stripe.CouponRetrieveParams{Expand: stripe.StringSlice([]string{"applies_to"})})
	require.NoError(t, err)
	require.NotNil(t, got.AppliesTo)
	assert.Equal(t, []string{prod}, got.AppliesTo.Products)

	renamed, err := b.sc.V1Coupons.Update(ctx, pct.ID, &stripe.CouponUpdateParams{Name: stripe.String("Spring sale"),
		Metadata: map[string]string{"campaign": "", "wave": "2"}})
	require.NoError(t, err)
	assert.Equal(t, "Spring sale", renamed.Name)
	assert.Equal(t, map[string]string{"wave": "2"}, renamed.Metadata)
	// An update that changes nothing announces nothing.
	_, err = b.sc.V1Coupons.Update(ctx, pct.ID, &stripe.CouponUpdateParams{Name: stripe.String("Spring sale")})
	require.NoError(t, err)

	deleted, err := b.sc.V1Coupons.Delete(ctx, once.ID, nil)
	require.NoError(t, err)
	assert.True(t, deleted.Deleted)
	_, err = b.sc.V1Coupons.Retrieve(ctx, once.ID, nil)
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No such coupon: '"+once.ID+"'", se.Msg)
	assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)

	var listed []string
	for c, err := range b.sc.V1Coupons.List(ctx, &stripe.CouponListParams{}).All(ctx) {
		require.NoError(t, err)
		listed = append(listed, c.ID)
	}
	assert.Equal(t, []string{amount.ID, pct.ID}, listed, "newest first, without the deleted one")

	var types []string
	for _, ev := range b.events(&stripe.EventListParams{Type: stripe.String("coupon.*")}) {
		types = append(types, string(ev.Type)+" "+ev.Data.Object["id"].(string))
	}
	assert.Equal(t, []string{"coupon.created SPRING25", "coupon.created " + amount.ID, "coupon.created " + once.ID,
		"coupon.updated SPRING25", "coupon.deleted " + once.ID}, types)
	upd := b.events(&stripe.EventListParams{Type: stripe.String("coupon.updated")})
	require.Len(t, upd, 1)
	assert.Equal(t, map[string]any{"name": "Spring", "metadata": map[string]any{"campaign": "spring"}}, upd[0].Data.PreviousAttributes)
	del := b.events(&stripe.EventListParams{Type: stripe.String("coupon.deleted")})
	require.Len(t, del, 1)
	assert.Equal(t, false, del[0].Data.Object["valid"], "a deleted coupon is no longer valid")

	// The id of a deleted coupon can be used again.
	again := b.coupon(&stripe.CouponCreateParams{ID: stripe.String(once.ID), AmountOff: stripe.Int64(100), Currency: stripe.String("usd")})
	assert.EqualValues(t, 100, again.AmountOff)

	for _, tc := range []struct {
		name           string
		p              *stripe.CouponCreateParams
		param, message string
		code           string
	}{
		{"neither off", &stripe.CouponCreateParams{Duration: stripe.String("once")}, "percent_off",
			"You must pass either percent_off or amount_off.", ""},
		{"both off", &stripe.CouponCreateParams{PercentOff: stripe.Float64(10), AmountOff: stripe.Int64(100), Currency: stripe.String("usd")},
			"amount_off", "You may only specify one of these parameters: amount_off, percent_off.", ""},
		{"over 100%", &stripe.CouponCreateParams{PercentOff: stripe.Float64(100.5)}, "percent_off",
			"Invalid percent_off: must be greater than 0 and less than or equal to 100.", ""},
		{"amount without currency", &stripe.CouponCreateParams{AmountOff: stripe.Int64(100)}, "currency",
			"You must pass currency when passing amount_off", ""},
		{"repeating without months", &stripe.CouponCreateParams{PercentOff: stripe.Float64(10), Duration: stripe.String("repeating")},
			"duration_in_months", "duration_in_months must be an integer from 1 to 1200 when duration is repeating.", ""},
		{"months on once", &stripe.CouponCreateParams{PercentOff: stripe.Float64(10), DurationInMonths: stripe.Int64(2)},
			"duration_in_months", "duration_in_months can only be passed when duration is repeating (not once).", ""},
		{"redeem_by in the past", &stripe.CouponCreateParams{PercentOff: stripe.Float64(10), RedeemBy: stripe.Int64(frozen0)},
			"redeem_by", "redeem_by must be in the future.", ""},
		{"existing id", &stripe.CouponCreateParams{ID: stripe.String("SPRING25"), PercentOff: stripe.Float64(10)},
			"id", "Coupon already exists.", "resource_already_exists"},
		{"unknown product", &stripe.CouponCreateParams{PercentOff: stripe.Float64(10),
			AppliesTo: &stripe.CouponCreateAppliesToParams{Products: stripe.StringSlice([]string{"prod_nope"})}},
			"applies_to[products][0]", "No such product: 'prod_nope'", "resource_missing"},
	} {
		_, err := b.sc.V1Coupons.Create(ctx, tc.p)
		status := http.StatusBadRequest
		if tc.code == "resource_missing" {
			status = http.StatusNotFound
		}
		se := stripeError(t, err, status)
		assert.Equal(t, tc.param, se.Param, tc.name)
		assert.Equal(t, tc.message, se.Msg, tc.name)
		assert.Equal(t, stripe.ErrorCode(tc.code), se.Code, tc.name)
	}
	// Nothing of the refused coupons was kept.
	n := 0
	for _, err := range b.sc.V1Coupons.List(ctx, &stripe.CouponListParams{}).All(ctx) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 3, n)
}

// TestRepeatingCouponOverThreeRenewals: a 25% coupon repeating for three
// months discounts the first invoice and the two renewals inside those
// months of clock time, then ends at the third renewal, which is billed in
// full.
func TestRepeatingCouponOverThreeRenewals(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	c := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("repeating"),
		DurationInMonths: stripe.Int64(3)})
	sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.Discounts = []*stripe.SubscriptionCreateDiscountParams{{Coupon: stripe.String(c.ID)}}
		p.AddExpand("discounts")
	})
	require.Len(t, sub.Discounts, 1)
	di := sub.Discounts[0]
	assert.Equal(t, c.ID, di.Source.Coupon.ID)
	assert.Equal(t, frozen0, di.Start)
	renewal := func(months int) int64 { return time.Unix(frozen0, 0).UTC().AddDate(0, months, 0).Unix() }
	assert.Equal(t, renewal(3), di.End, "three calendar months of the clock's time")
	assert.Equal(t, sub.ID, di.Subscription)
	assert.Equal(t, cust.ID, di.Customer.ID)

	discountedInvoice := discounted{Subtotal: 2000, SubtotalExcludingTax: 2000, TotalExcludingTax: 1500, Total: 1500, AmountDue: 1500,
		Discounts: []string{di.ID}, DiscountAmounts: map[string]int64{di.ID: 500},
		Lines: []moneyLine{{Amount: 2000, Discountable: true, Off: map[string]int64{di.ID: 500}}}}
	first := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, discountedInvoice, moneyOf(first))
	assert.Equal(t, stripe.InvoiceStatusPaid, first.Status)
	assert.EqualValues(t, 1500, first.AmountPaid)
	coupon, err := b.sc.V1Coupons.Retrieve(t.Context(), c.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, coupon.TimesRedeemed)

	for months := 1; months <= 3; months++ {
		b.advance(clock.ID, renewal(months)+2*hour)
		inv := b.latestInvoice(sub.ID)
		assert.Equal(t, renewal(months), inv.PeriodEnd, "renewal %d", months)
		assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status, "renewal %d", months)
		if months < 3 {
			assert.Equal(t, discountedInvoice, moneyOf(inv), "renewal %d is discounted", months)
			continue
		}
		assert.Equal(t, discounted{Subtotal: 2000, SubtotalExcludingTax: 2000, TotalExcludingTax: 2000, Total: 2000, AmountDue: 2000,
			Lines: []moneyLine{{Amount: 2000, Discountable: true}}}, moneyOf(inv), "the third renewal is at full price")
		assert.EqualValues(t, 2000, inv.AmountPaid)
	}
	assert.Empty(t, b.subscription(sub.ID).Discounts, "the discount ended")

	evs := b.events(&stripe.EventListParams{Type: stripe.String("customer.discount.*")})
	require.Len(t, evs, 2)
	assert.Equal(t, "customer.discount.created", string(evs[0].Type))
	assert.Equal(t, frozen0, evs[0].Created)
	assert.Equal(t, "customer.discount.deleted", string(evs[1].Type))
	assert.Equal(t, renewal(3), evs[1].Created, "it ends in the clock's time")
	for _, ev := range evs {
		assert.Equal(t, di.ID, ev.Data.Object["id"])
		assert.Equal(t, sub.ID, ev.Data.Object["subscription"])
		assert.Equal(t, map[string]any{"type": "coupon", "coupon": c.ID}, ev.Data.Object["source"])
	}
	ended := false
	for _, ev := range b.events(&stripe.EventListParams{Type: stripe.String("customer.subscription.updated")}) {
		if prev, ok := ev.Data.PreviousAttributes["discounts"]; ok && ev.Created == renewal(3) {
			assert.Equal(t, []any{di.ID}, prev)
			ended = true
		}
	}
	assert.True(t, ended, "customer.subscription.updated announces the discount's end")
}

// TestTaxRatesOnInvoices: an inclusive rate on one item and an exclusive
// default rate on the rest tax each line on what its discounts left, per
// line and rounded half away from zero, and renewals are taxed alike.
func TestTaxRatesOnInvoices(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	vat := b.taxRate("VAT", 20, true)
	sales, err := b.sc.V1TaxRates.Create(ctx, &stripe.TaxRateCreateParams{DisplayName: stripe.String("Sales tax"),
		Percentage: stripe.Float64(8.25), Inclusive: stripe.Bool(false), Jurisdiction: stripe.String("CA - SF"),
		Country: stripe.String("US"), State: stripe.String("CA"), TaxType: stripe.String("sales_tax"),
		Description: stripe.String("San Francisco"), Metadata: map[string]string{"zone": "sf"}})
	require.NoError(t, err)
	assert.Equal(t, "tax_rate", sales.Object)
	assert.InDelta(t, 8.25, sales.Percentage, 0)
	assert.False(t, sales.Inclusive)
	assert.True(t, sales.Active)
	assert.Equal(t, "CA - SF", sales.Jurisdiction)
	assert.Equal(t, "US", sales.Country)
	assert.Equal(t, "CA", sales.State)
	assert.Equal(t, stripe.TaxRateTaxTypeSalesTax, sales.TaxType)
	assert.Equal(t, 8.25, rawJSON(t, sales.LastResponse)["percentage"])
	assert.True(t, vat.Inclusive)

	seats := b.price("Seats", 1000, stripe.PriceRecurringIntervalMonth)
	support := b.price("Support", 1999, stripe.PriceRecurringIntervalMonth)
	cust := b.customer(clock.ID)
	sub, err := b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(cust.ID),
		Items: []*stripe.SubscriptionCreateItemParams{
			{Price: stripe.String(seats.ID), Quantity: stripe.Int64(1), TaxRates: stripe.StringSlice([]string{vat.ID})},
			{Price: stripe.String(support.ID), Quantity: stripe.Int64(1)}},
		DefaultTaxRates: stripe.StringSlice([]string{sales.ID})})
	require.NoError(t, err)
	require.Len(t, sub.DefaultTaxRates, 1)
	assert.Equal(t, sales.ID, sub.DefaultTaxRates[0].ID)
	require.Len(t, sub.Items.Data[0].TaxRates, 1)
	assert.Equal(t, vat.ID, sub.Items.Data[0].TaxRates[0].ID)
	assert.Empty(t, sub.Items.Data[1].TaxRates)

	// 20% inclusive of 1000 is 1000 × 20/120 = 166.67 → 167, leaving 833;
	// 8.25% of 1999 is 164.92 → 165.
	vatLine := taxLine{Rate: vat.ID, Amount: 167, Taxable: 833, Inclusive: true, TaxabilityReason: "not_available",
		TaxRateDetailType: "tax_rate_details"}
	salesLine := taxLine{Rate: sales.ID, Amount: 165, Taxable: 1999, TaxabilityReason: "not_available",
		TaxRateDetailType: "tax_rate_details"}
	want := discounted{Subtotal: 2999, SubtotalExcludingTax: 2832, TotalExcludingTax: 2832, Total: 3164, AmountDue: 3164,
		Taxes: []taxLine{vatLine, salesLine},
		Lines: []moneyLine{{Amount: 1000, Discountable: true, Taxes: []taxLine{vatLine}},
			{Amount: 1999, Discountable: true, Taxes: []taxLine{salesLine}}}}
	first := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, want, moneyOf(first))
	assert.EqualValues(t, 3164, first.AmountPaid)
	require.Len(t, first.DefaultTaxRates, 1)
	assert.Equal(t, sales.ID, first.DefaultTaxRates[0].ID)

	b.advance(clock.ID, time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Unix()+2*hour)
	renewal := b.latestInvoice(sub.ID)
	assert.NotEqual(t, first.ID, renewal.ID)
	assert.Equal(t, want, moneyOf(renewal), "the renewal is taxed alike")

	// Tax follows the discount: 10% exclusive of 2000 less 25% is 150.
	ten := b.taxRate("GST", 10, false)
	c := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("forever")})
	pro := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	other := b.customer(clock.ID)
	discountedSub := b.subscribe(other.ID, pro.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.DefaultTaxRates = stripe.StringSlice([]string{ten.ID})
		p.Discounts = []*stripe.SubscriptionCreateDiscountParams{{Coupon: stripe.String(c.ID)}}
	})
	di := discountedSub.Discounts[0].ID
	gst := taxLine{Rate: ten.ID, Amount: 150, Taxable: 1500, TaxabilityReason: "not_available", TaxRateDetailType: "tax_rate_details"}
	assert.Equal(t, discounted{Subtotal: 2000, SubtotalExcludingTax: 2000, TotalExcludingTax: 1500, Total: 1650, AmountDue: 1650,
		Discounts: []string{di}, DiscountAmounts: map[string]int64{di: 500}, Taxes: []taxLine{gst},
		Lines: []moneyLine{{Amount: 2000, Discountable: true, Off: map[string]int64{di: 500}, Taxes: []taxLine{gst}}}},
		moneyOf(b.invoice(discountedSub.LatestInvoice.ID)))

	// A rate's label changes; its percentage never does.
	upd, err := b.sc.V1TaxRates.Update(ctx, sales.ID, &stripe.TaxRateUpdateParams{DisplayName: stripe.String("SF sales tax"),
		Active: stripe.Bool(false)})
	require.NoError(t, err)
	assert.Equal(t, "SF sales tax", upd.DisplayName)
	assert.False(t, upd.Active)
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/tax_rates/" + sales.ID, Body: "percentage=5", Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Message: "Received unknown parameter: percentage",
		Param: "percentage"}, r.apiError(t, http.StatusBadRequest))
	// An inactive rate cannot be newly applied, but still taxes what has it.
	_, err = b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(other.ID),
		Items:           []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(pro.ID)}},
		DefaultTaxRates: stripe.StringSlice([]string{sales.ID})})
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "default_tax_rates[0]", se.Param)
	assert.Equal(t, "The tax rate "+sales.ID+" is inactive and cannot be applied to new objects.", se.Msg)
	b.advance(clock.ID, time.Unix(frozen0, 0).UTC().AddDate(0, 2, 0).Unix()+2*hour)
	assert.Equal(t, want, moneyOf(b.latestInvoice(sub.ID)), "the deactivated rate still taxes the subscription")

	var active, inclusive []string
	for r, err := range b.sc.V1TaxRates.List(ctx, &stripe.TaxRateListParams{Active: stripe.Bool(true)}).All(ctx) {
		require.NoError(t, err)
		active = append(active, r.ID)
	}
	assert.Equal(t, []string{ten.ID, vat.ID}, active)
	for r, err := range b.sc.V1TaxRates.List(ctx, &stripe.TaxRateListParams{Inclusive: stripe.Bool(true)}).All(ctx) {
		require.NoError(t, err)
		inclusive = append(inclusive, r.ID)
	}
	assert.Equal(t, []string{vat.ID}, inclusive)

	var types []string
	for _, ev := range b.events(&stripe.EventListParams{Type: stripe.String("tax_rate.*")}) {
		types = append(types, string(ev.Type))
	}
	assert.Equal(t, []string{"tax_rate.created", "tax_rate.created", "tax_rate.created", "tax_rate.updated"}, types)

	// Stripe Tax is not emulated: automatic_tax[enabled]=true is refused.
	_, err = b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(other.ID),
		Items:        []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(pro.ID)}},
		AutomaticTax: &stripe.SubscriptionCreateAutomaticTaxParams{Enabled: stripe.Bool(true)}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "automatic_tax[enabled]", se.Param)
	assert.Contains(t, se.Msg, "billclock does not emulate Stripe Tax")
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		AutomaticTax: &stripe.SubscriptionUpdateAutomaticTaxParams{Enabled: stripe.Bool(false)}})
	require.NoError(t, err, "automatic_tax[enabled]=false is what billclock does anyway")

	// Tax rates of items change on update; default_tax_rates= removes them.
	updated, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Items: []*stripe.SubscriptionUpdateItemParams{{ID: stripe.String(sub.Items.Data[1].ID), TaxRates: stripe.StringSlice([]string{ten.ID})}}})
	require.NoError(t, err)
	require.Len(t, updated.Items.Data[1].TaxRates, 1)
	assert.Equal(t, ten.ID, updated.Items.Data[1].TaxRates[0].ID)
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Body: "default_tax_rates=", Key: testKey})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, []any{}, r.object(t)["default_tax_rates"])
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID,
		Body: "default_tax_rates[0]=" + ten.ID + "&default_tax_rates[1]=" + ten.ID, Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Message: "The tax rate " + ten.ID + " is passed more than once.",
		Param: "default_tax_rates[1]"}, r.apiError(t, http.StatusBadRequest))
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Body: "default_tax_rates[0]=", Key: testKey})
	assert.Equal(t, "default_tax_rates[0]", r.apiError(t, http.StatusBadRequest).Param)

	// The subscription item routes take tax rates too.
	si, err := b.sc.V1SubscriptionItems.Create(ctx, &stripe.SubscriptionItemCreateParams{Subscription: stripe.String(sub.ID),
		Price: stripe.String(pro.ID), TaxRates: stripe.StringSlice([]string{vat.ID}), ProrationBehavior: stripe.String("none")})
	require.NoError(t, err)
	require.Len(t, si.TaxRates, 1)
	assert.Equal(t, vat.ID, si.TaxRates[0].ID)
	si, err = b.sc.V1SubscriptionItems.Update(ctx, si.ID, &stripe.SubscriptionItemUpdateParams{TaxRates: stripe.StringSlice([]string{ten.ID})})
	require.NoError(t, err)
	require.Len(t, si.TaxRates, 1)
	assert.Equal(t, ten.ID, si.TaxRates[0].ID)
	_, err = b.sc.V1SubscriptionItems.Update(ctx, si.ID, &stripe.SubscriptionItemUpdateParams{TaxRates: stripe.StringSlice([]string{"txr_nope"})})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "tax_rates[0]", se.Param)
	assert.Equal(t, "No such tax rate: 'txr_nope'", se.Msg)
}

// TestPromotionCodeRestrictions: a promotion code is redeemed for its
// coupon only within its restrictions: a minimum amount, first-time
// customers, one customer, a number of redemptions, an expiry judged in
// the customer's time, and while active.
func TestPromotionCodeRestrictions(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	c := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(10), Duration: stripe.String("forever")})
	price := b.price("Seats", 2000, stripe.PriceRecurringIntervalMonth)

	welcome, err := b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{Code: stripe.String("WELCOME"),
		Promotion:      &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)},
		MaxRedemptions: stripe.Int64(2), Restrictions: &stripe.PromotionCodeCreateRestrictionsParams{
			FirstTimeTransaction: stripe.Bool(true), MinimumAmount: stripe.Int64(5000), MinimumAmountCurrency: stripe.String("usd")},
		Metadata: map[string]string{"channel": "email"}})
	require.NoError(t, err)
	assert.Equal(t, "promotion_code", welcome.Object)
	assert.Equal(t, "WELCOME", welcome.Code)
	assert.True(t, welcome.Active)
	assert.EqualValues(t, 2, welcome.MaxRedemptions)
	assert.Equal(t, c.ID, welcome.Promotion.Coupon.ID)
	assert.Equal(t, stripe.PromotionCodePromotionType("coupon"), welcome.Promotion.Type)
	assert.True(t, welcome.Restrictions.FirstTimeTransaction)
	assert.EqualValues(t, 5000, welcome.Restrictions.MinimumAmount)
	assert.Equal(t, stripe.Currency("usd"), welcome.Restrictions.MinimumAmountCurrency)
	assert.Nil(t, welcome.Customer)

	subscribe := func(customer string, qty int64, promo string) (*stripe.Subscription, error) {
		return b.sc.V1Subscriptions.Create(ctx, &stripe.SubscriptionCreateParams{Customer: stripe.String(customer),
			Items:     []*stripe.SubscriptionCreateItemParams{{Price: stripe.String(price.ID), Quantity: stripe.Int64(qty)}},
			Discounts: []*stripe.SubscriptionCreateDiscountParams{{PromotionCode: stripe.String(promo)}}})
	}
	alice := b.customer(clock.ID)
	_, err = subscribe(alice.ID, 2, welcome.ID)
	se := stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "discounts[0][promotion_code]", se.Param)
	assert.Equal(t, "This promotion code cannot be redeemed because the amount (4000 usd) is below its minimum amount (5000 usd).", se.Msg)
	sub, err := subscribe(alice.ID, 3, welcome.ID)
	require.NoError(t, err, "3 × 2000 meets the minimum")
	require.Len(t, sub.Discounts, 1)
	inv := b.invoice(sub.LatestInvoice.ID)
	assert.EqualValues(t, 5400, inv.Total)
	di := sub.Discounts[0].ID
	assert.Equal(t, map[string]int64{di: 600}, moneyOf(inv).DiscountAmounts)

	// alice has paid an invoice now: the code is for first-time customers.
	_, err = subscribe(alice.ID, 3, welcome.ID)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This promotion code cannot be redeemed because the associated customer has prior transactions.", se.Msg)
	bob := b.customer(clock.ID)
	_, err = subscribe(bob.ID, 3, welcome.ID)
	require.NoError(t, err)
	carol := b.customer(clock.ID)
	_, err = subscribe(carol.ID, 3, welcome.ID)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This promotion code cannot be redeemed because it has been redeemed the maximum number of times (2).", se.Msg)
	got, err := b.sc.V1PromotionCodes.Retrieve(ctx, welcome.ID, &stripe.PromotionCodeRetrieveParams{
		Expand: stripe.StringSlice([]string{"promotion.coupon"})})
	require.NoError(t, err)
	assert.EqualValues(t, 2, got.TimesRedeemed)
	assert.EqualValues(t, 2, got.Promotion.Coupon.TimesRedeemed, "the expanded coupon counts the redemptions")
	assert.InDelta(t, 10, got.Promotion.Coupon.PercentOff, 0)

	// A code for one customer only.
	mine, err := b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{Code: stripe.String("carol-only"),
		Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)},
		Customer:  stripe.String(carol.ID)})
	require.NoError(t, err)
	assert.Equal(t, carol.ID, mine.Customer.ID)
	dave := b.customer(clock.ID)
	_, err = subscribe(dave.ID, 1, mine.ID)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This promotion code cannot be redeemed because it is restricted to another customer ("+carol.ID+").", se.Msg)

	// Inactive, then active again.
	off, err := b.sc.V1PromotionCodes.Update(ctx, mine.ID, &stripe.PromotionCodeUpdateParams{Active: stripe.Bool(false)})
	require.NoError(t, err)
	assert.False(t, off.Active)
	_, err = subscribe(carol.ID, 1, mine.ID)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "This promotion code cannot be redeemed because it is inactive ("+mine.ID+").", se.Msg)
	_, err = b.sc.V1PromotionCodes.Update(ctx, mine.ID, &stripe.PromotionCodeUpdateParams{Active: stripe.Bool(true)})
	require.NoError(t, err)
	carolSub, err := subscribe(carol.ID, 1, mine.ID)
	require.NoError(t, err)
	assert.Equal(t, mine.ID, b.subscriptionWithDiscounts(carolSub.ID).Discounts[0].PromotionCode.ID)

	// The expiry is judged in the redeeming customer's time: a clock ahead
	// of the wall clock is past a code that the wall clock has not reached.
	ahead := time.Now().Add(10 * 24 * time.Hour).Unix()
	future := b.clockAt(ahead)
	expires := time.Now().Add(5 * 24 * time.Hour).Unix()
	soon, err := b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{Code: stripe.String("SOON"),
		Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)},
		ExpiresAt: stripe.Int64(expires)})
	require.NoError(t, err)
	assert.Equal(t, expires, soon.ExpiresAt)
	_, err = subscribe(b.customer(future.ID).ID, 1, soon.ID)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Contains(t, se.Msg, "This promotion code cannot be redeemed because it expired at")
	_, err = subscribe(dave.ID, 1, soon.ID)
	require.NoError(t, err, "dave's clock is in 2024, before the expiry")

	// Codes are unique among active ones, ignoring case.
	_, err = b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{Code: stripe.String("welcome"),
		Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "An active promotion code with `code: welcome` already exists.", se.Msg)
	assert.Equal(t, stripe.ErrorCode("resource_already_exists"), se.Code)
	_, err = b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{Code: stripe.String("no spaces"),
		Promotion: &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "code", se.Param)

	// Listing by code ignores case; by coupon, customer and active too.
	codes := func(p *stripe.PromotionCodeListParams) []string {
		var out []string
		for pc, err := range b.sc.V1PromotionCodes.List(ctx, p).All(ctx) {
			require.NoError(t, err)
			out = append(out, pc.Code)
		}
		return out
	}
	assert.Equal(t, []string{"WELCOME"}, codes(&stripe.PromotionCodeListParams{Code: stripe.String("welcome")}))
	assert.Equal(t, []string{"SOON", "carol-only", "WELCOME"}, codes(&stripe.PromotionCodeListParams{Coupon: stripe.String(c.ID)}))
	assert.Equal(t, []string{"carol-only"}, codes(&stripe.PromotionCodeListParams{Customer: stripe.String(carol.ID)}))
	_, err = b.sc.V1PromotionCodes.Update(ctx, soon.ID, &stripe.PromotionCodeUpdateParams{Active: stripe.Bool(false)})
	require.NoError(t, err)
	assert.Equal(t, []string{"carol-only", "WELCOME"}, codes(&stripe.PromotionCodeListParams{Active: stripe.Bool(true)}))

	// On a subscription update, a code with a minimum amount is refused.
	big, err := b.sc.V1PromotionCodes.Create(ctx, &stripe.PromotionCodeCreateParams{
		Promotion:    &stripe.PromotionCodeCreatePromotionParams{Type: stripe.String("coupon"), Coupon: stripe.String(c.ID)},
		Restrictions: &stripe.PromotionCodeCreateRestrictionsParams{MinimumAmount: stripe.Int64(100), MinimumAmountCurrency: stripe.String("usd")}})
	require.NoError(t, err)
	assert.Regexp(t, `^[A-Z0-9]+$`, big.Code, "a generated code")
	_, err = b.sc.V1Subscriptions.Update(ctx, carolSub.ID, &stripe.SubscriptionUpdateParams{
		Discounts: []*stripe.SubscriptionUpdateDiscountParams{{PromotionCode: stripe.String(big.ID)}}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "discounts[0][promotion_code]", se.Param)
	assert.Equal(t, "This promotion code cannot be redeemed on a subcription update because it uses the `minimum_amount` restriction.", se.Msg)

	// The Stripe CLI's fixtures still send the coupon of API versions
	// before clover, at the top level.
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/promotion_codes", Body: "coupon=" + c.ID, Key: testKey})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Equal(t, map[string]any{"type": "coupon", "coupon": c.ID}, r.object(t)["promotion"])
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/promotion_codes", Body: "code=NOCOUPON", Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_missing", Message: "Missing required param: promotion.",
		Param: "promotion"}, r.apiError(t, http.StatusBadRequest))
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/promotion_codes",
		Body: "promotion[type]=coupon&promotion[coupon]=NOPE", Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "resource_missing", Message: "No such coupon: 'NOPE'",
		Param: "promotion[coupon]"}, r.apiError(t, http.StatusNotFound))

	var types []string
	for _, ev := range b.events(&stripe.EventListParams{Type: stripe.String("promotion_code.*")}) {
		types = append(types, string(ev.Type))
	}
	assert.Equal(t, []string{"promotion_code.created", "promotion_code.created", "promotion_code.updated", "promotion_code.updated",
		"promotion_code.created", "promotion_code.updated", "promotion_code.created", "promotion_code.created"}, types)
}

// subscriptionWithDiscounts retrieves a subscription with its discounts
// expanded.
func (b *billingEnv) subscriptionWithDiscounts(id string) *stripe.Subscription {
	b.t.Helper()
	s, err := b.sc.V1Subscriptions.Retrieve(b.t.Context(), id, &stripe.SubscriptionRetrieveParams{
		Expand: stripe.StringSlice([]string{"discounts"})})
	require.NoError(b.t, err)
	return s
}

// TestCustomerDiscountEvents: a customer's discount, given with the coupon
// parameter older API versions (and the Stripe CLI's fixtures) send,
// discounts the customer's subscriptions that have none of their own, and
// every change is announced as Stripe does: customer.discount.created,
// .updated and .deleted.
func TestCustomerDiscountEvents(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	twenty := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(20), Duration: stripe.String("forever")})
	thirty := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(30), Duration: stripe.String("forever")})

	p := &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID), PaymentMethod: stripe.String("pm_card_visa")}
	p.AddExtra("coupon", twenty.ID)
	cust, err := b.sc.V1Customers.Create(ctx, p)
	require.NoError(t, err)
	require.NotNil(t, cust.Discount)
	first := cust.Discount
	assert.Equal(t, twenty.ID, first.Source.Coupon.ID)
	assert.Equal(t, cust.ID, first.Customer.ID)
	assert.Equal(t, frozen0, first.Start, "the customer's time")
	assert.Empty(t, first.Subscription)

	up := &stripe.CustomerUpdateParams{}
	up.AddExtra("coupon", thirty.ID)
	cust, err = b.sc.V1Customers.Update(ctx, cust.ID, up)
	require.NoError(t, err)
	second := cust.Discount
	require.NotNil(t, second)
	assert.NotEqual(t, first.ID, second.ID)
	assert.Equal(t, thirty.ID, second.Source.Coupon.ID)

	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	sub := b.subscribe(cust.ID, price.ID, 1, nil)
	assert.Empty(t, sub.Discounts, "the subscription has none of its own")
	inv := b.invoice(sub.LatestInvoice.ID)
	assert.Equal(t, discounted{Subtotal: 2000, SubtotalExcludingTax: 2000, TotalExcludingTax: 1400, Total: 1400, AmountDue: 1400,
		Discounts: []string{second.ID}, DiscountAmounts: map[string]int64{second.ID: 600},
		Lines: []moneyLine{{Amount: 2000, Discountable: true, Off: map[string]int64{second.ID: 600}}}}, moneyOf(inv))

	gone, err := b.sc.V1Customers.DeleteDiscount(ctx, cust.ID, nil)
	require.NoError(t, err)
	raw := rawJSON(t, gone.LastResponse)
	assert.Equal(t, second.ID, raw["id"])
	assert.Equal(t, "discount", raw["object"])
	assert.Equal(t, true, raw["deleted"])
	assert.Nil(t, b.customerGet(cust.ID).Discount)
	_, err = b.sc.V1Customers.DeleteDiscount(ctx, cust.ID, nil)
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No active discount for customer: '"+cust.ID+"'", se.Msg)
	assert.Equal(t, stripe.ErrorCodeResourceMissing, se.Code)

	b.advance(clock.ID, time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Unix()+2*hour)
	assert.EqualValues(t, 2000, b.latestInvoice(sub.ID).Total, "the renewal is at full price")

	// The Stripe CLI's customer.discount.deleted: coupon sent empty.
	up = &stripe.CustomerUpdateParams{}
	up.AddExtra("coupon", twenty.ID)
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, up)
	require.NoError(t, err)
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/customers/" + cust.ID, Body: "coupon=", Key: testKey})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	assert.Nil(t, r.object(t)["discount"])

	var got []string
	var discounts []string
	for _, ev := range b.events(nil) {
		switch ev.Type {
		case "customer.created", "customer.updated", "customer.discount.created", "customer.discount.updated", "customer.discount.deleted":
			got = append(got, string(ev.Type))
			if ev.Data.Object["object"] == "discount" {
				discounts = append(discounts, ev.Data.Object["id"].(string))
			}
		}
	}
	assert.Equal(t, []string{
		"customer.discount.created", "customer.created", // create with a coupon
		"customer.discount.updated", "customer.updated", // another coupon
		"customer.discount.deleted", "customer.updated", // DELETE .../discount
		"customer.discount.created", "customer.updated", // a coupon again
		"customer.discount.deleted", "customer.updated", // coupon=
	}, got)
	require.Len(t, discounts, 5)
	assert.Equal(t, []string{first.ID, second.ID, second.ID}, discounts[:3])
	created := b.events(&stripe.EventListParams{Type: stripe.String("customer.created")})
	require.Len(t, created, 1)
	assert.Equal(t, first.ID, created[0].Data.Object["discount"].(map[string]any)["id"], "customer.created shows the discount")
	updated := b.events(&stripe.EventListParams{Type: stripe.String("customer.discount.updated")})
	require.Len(t, updated, 1)
	assert.Equal(t, second.ID, updated[0].Data.Object["id"])
	assert.Equal(t, first.ID, updated[0].Data.PreviousAttributes["id"], "previous_attributes hold the replaced discount")

	// Both parameters at once are refused; so is an unknown coupon.
	up = &stripe.CustomerUpdateParams{}
	up.AddExtra("coupon", twenty.ID)
	up.AddExtra("promotion_code", "promo_x")
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, up)
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "You may only specify one of these parameters: coupon, promotion_code.", se.Msg)
	up = &stripe.CustomerUpdateParams{}
	up.AddExtra("coupon", "NOPE")
	_, err = b.sc.V1Customers.Update(ctx, cust.ID, up)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "coupon", se.Param)
	assert.Equal(t, "No such coupon: 'NOPE'", se.Msg)
}

// TestSubscriptionDiscounts: a subscription's discounts stack in order
// and take the place of the customer's; a once discount ends after the
// invoice it discounts; DELETE /v1/subscriptions/{id}/discount removes
// them; an update's discounts replace them, reusing one by its id.
func TestSubscriptionDiscounts(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	ten := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(10), Duration: stripe.String("forever")})
	fiveOff := b.coupon(&stripe.CouponCreateParams{AmountOff: stripe.Int64(500), Currency: stripe.String("usd"), Duration: stripe.String("once")})
	other := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(50), Duration: stripe.String("forever")})
	cp := &stripe.CustomerCreateParams{TestClock: stripe.String(clock.ID), PaymentMethod: stripe.String("pm_card_visa")}
	cp.AddExtra("coupon", other.ID)
	cust, err := b.sc.V1Customers.Create(ctx, cp)
	require.NoError(t, err)

	sub := b.subscribe(cust.ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.Discounts = []*stripe.SubscriptionCreateDiscountParams{{Coupon: stripe.String(ten.ID)}, {Coupon: stripe.String(fiveOff.ID)}}
	})
	first := b.invoice(sub.LatestInvoice.ID)
	require.Len(t, first.Discounts, 2)
	tenDi, fiveDi := first.Discounts[0].ID, first.Discounts[1].ID
	// 10% of 2000 is 200; 500 off what is left (1800): 1300. The
	// customer's 50% does not apply.
	assert.Equal(t, discounted{Subtotal: 2000, SubtotalExcludingTax: 2000, TotalExcludingTax: 1300, Total: 1300, AmountDue: 1300,
		Discounts: []string{tenDi, fiveDi}, DiscountAmounts: map[string]int64{tenDi: 200, fiveDi: 500},
		Lines: []moneyLine{{Amount: 2000, Discountable: true, Off: map[string]int64{tenDi: 200, fiveDi: 500}}}}, moneyOf(first))
	// The once discount was used up by the first invoice, before the
	// create answered.
	require.Len(t, sub.Discounts, 1)
	assert.Equal(t, tenDi, sub.Discounts[0].ID)
	now := b.subscriptionWithDiscounts(sub.ID)
	require.Len(t, now.Discounts, 1)
	assert.Equal(t, ten.ID, now.Discounts[0].Source.Coupon.ID)

	b.advance(clock.ID, time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Unix()+2*hour)
	assert.EqualValues(t, 1800, b.latestInvoice(sub.ID).Total, "10% off the renewal")

	// An update's discounts replace the subscription's: the 10% kept by
	// its id, the customer's coupon added.
	upd, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Discounts: []*stripe.SubscriptionUpdateDiscountParams{{Discount: stripe.String(tenDi)}, {Coupon: stripe.String(other.ID)}}})
	require.NoError(t, err)
	require.Len(t, upd.Discounts, 2)
	assert.Equal(t, tenDi, upd.Discounts[0].ID)
	_, err = b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{
		Discounts: []*stripe.SubscriptionUpdateDiscountParams{{Discount: stripe.String("di_nope")}}})
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "discounts[0][discount]", se.Param)
	assert.Equal(t, "No such discount: 'di_nope'", se.Msg)
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID,
		Body: "discounts[0][coupon]=" + ten.ID + "&discounts[0][promotion_code]=promo_x", Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Param: "discounts[0]",
		Message: "You must pass exactly one of coupon, promotion_code or discount in discounts[0]."}, r.apiError(t, http.StatusBadRequest))
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID, Body: "discounts[0][amount]=5", Key: testKey})
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_unknown", Param: "discounts[0][amount]",
		Message: "Received unknown parameter: discounts[0][amount]"}, r.apiError(t, http.StatusBadRequest))
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions/" + sub.ID,
		Body: "items[0][id]=" + sub.Items.Data[0].ID + "&items[0][discounts][0][coupon]=" + ten.ID, Key: testKey})
	ae := r.apiError(t, http.StatusBadRequest)
	assert.Equal(t, "items[0][discounts]", ae.Param)
	assert.Equal(t, "billclock does not support items[0][discounts] on subscription items: put them on the subscription instead.", ae.Message)

	removed, err := b.sc.V1Subscriptions.DeleteDiscount(ctx, sub.ID, nil)
	require.NoError(t, err)
	raw := rawJSON(t, removed.LastResponse)
	assert.Equal(t, tenDi, raw["id"])
	assert.Equal(t, true, raw["deleted"])
	assert.Equal(t, sub.ID, raw["subscription"])
	assert.Empty(t, b.subscription(sub.ID).Discounts)
	_, err = b.sc.V1Subscriptions.DeleteDiscount(ctx, sub.ID, nil)
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "No active discount for subscription: '"+sub.ID+"'", se.Msg)

	// Without discounts of its own, the subscription takes the customer's.
	b.advance(clock.ID, time.Unix(frozen0, 0).UTC().AddDate(0, 2, 0).Unix()+2*hour)
	assert.EqualValues(t, 1000, b.latestInvoice(sub.ID).Total, "the customer's 50%")

	var deleted []string
	for _, ev := range b.events(&stripe.EventListParams{Type: stripe.String("customer.discount.deleted")}) {
		deleted = append(deleted, ev.Data.Object["id"].(string))
	}
	assert.True(t, slices.Contains(deleted, fiveDi), "the once discount's end is announced")
	assert.True(t, slices.Contains(deleted, tenDi))
}

// TestDiscountParamsAreStrict: the discounts and tax rate parameters are
// read as Stripe's spec types them, and refused otherwise.
func TestDiscountParamsAreStrict(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	cust := b.customer("")
	price := b.price("Pro", 2000, stripe.PriceRecurringIntervalMonth)
	base := url.Values{"customer": {cust.ID}, "items[0][price]": {price.ID}}
	for _, tc := range []struct {
		extra url.Values
		want  apiError
	}{
		{url.Values{"discounts": {"x"}}, apiError{Type: "invalid_request_error", Message: "Invalid array", Param: "discounts"}},
		{url.Values{"discounts[0]": {"x"}}, apiError{Type: "invalid_request_error", Message: "Invalid discounts[0]: must be a hash.",
			Param: "discounts[0]"}},
		{url.Values{"items[0][tax_rates][0]": {"txr_nope"}}, apiError{Type: "invalid_request_error", Code: "resource_missing",
			Message: "No such tax rate: 'txr_nope'", Param: "items[0][tax_rates][0]"}},
		{url.Values{"items[0][tax_rates][0]": {""}}, apiError{Type: "invalid_request_error", Param: "items[0][tax_rates][0]",
			Message: "You passed an empty string for 'items[0][tax_rates][0]'. We assume empty values are an attempt to unset a " +
				"parameter; however 'items[0][tax_rates][0]' cannot be unset. You should remove 'items[0][tax_rates][0]' from your " +
				"request or supply a non-empty value."}},
		{url.Values{"automatic_tax[liability][type]": {"self"}}, apiError{Type: "invalid_request_error", Code: "parameter_missing",
			Message: "Missing required param: automatic_tax[enabled].", Param: "automatic_tax[enabled]"}},
	} {
		body := url.Values{}
		for k, v := range base {
			body[k] = v
		}
		for k, v := range tc.extra {
			body[k] = v
		}
		r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/subscriptions", Body: body.Encode(), Key: testKey})
		status := http.StatusBadRequest
		if tc.want.Code == "resource_missing" {
			status = http.StatusNotFound
		}
		assert.Equal(t, tc.want, r.apiError(t, status), "%v", tc.extra)
	}
	subs := b.subscriptionIDs(&stripe.SubscriptionListParams{Customer: stripe.String(cust.ID)})
	assert.Empty(t, subs, "nothing refused was kept")
}

// TestProrationsKeepTheirDiscount: a seat change made under a percentage
// discount fixes the discount on its prorations when they are made: the
// pending invoice items show it in net_amount, and the renewal's lines in
// discount_amounts, beside the renewal's own discount.
func TestProrationsKeepTheirDiscount(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	ctx := t.Context()
	clock := b.clockAt(frozen0)
	price := b.price("Seats", 2000, stripe.PriceRecurringIntervalMonth)
	c := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("forever")})
	sub := b.subscribe(b.customer(clock.ID).ID, price.ID, 1, func(p *stripe.SubscriptionCreateParams) {
		p.Discounts = []*stripe.SubscriptionCreateDiscountParams{{Coupon: stripe.String(c.ID)}}
	})
	di := sub.Discounts[0].ID
	// Halfway through the 30-day period, one seat more.
	half := time.Unix(frozen0, 0).UTC().AddDate(0, 0, 15).Unix()
	b.advance(clock.ID, half)
	_, err := b.sc.V1Subscriptions.Update(ctx, sub.ID, &stripe.SubscriptionUpdateParams{Items: []*stripe.SubscriptionUpdateItemParams{
		{ID: stripe.String(sub.Items.Data[0].ID), Quantity: stripe.Int64(2)}}})
	require.NoError(t, err)
	type item struct {
		Amount, Net  int64
		Discountable bool
	}
	var items []item
	for _, ii := range reversed(b.pendingItems(sub.Customer.ID)) {
		items = append(items, item{ii.Amount, ii.NetAmount, ii.Discountable})
	}
	assert.Equal(t, []item{{-1000, -750, false}, {2000, 1500, false}}, items, "the credit and the debit, each 25% off")

	renewal := time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Unix()
	b.advance(clock.ID, renewal+2*hour)
	inv := b.latestInvoice(sub.ID)
	// The period's 4000 less 25%, the credit's −1000 less −250 and the
	// debit's 2000 less 500: 3000 − 750 + 1500.
	got := moneyOf(inv)
	assert.EqualValues(t, 3750, got.Total)
	assert.Equal(t, map[string]int64{di: 1000 - 250 + 500}, got.DiscountAmounts)
	assert.ElementsMatch(t, []moneyLine{
		{Amount: 4000, Discountable: true, Off: map[string]int64{di: 1000}},
		{Amount: -1000, Off: map[string]int64{di: -250}},
		{Amount: 2000, Off: map[string]int64{di: 500}},
	}, got.Lines)
	assert.EqualValues(t, 3750, inv.AmountPaid)
}
