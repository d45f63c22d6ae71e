package emulator_test

// Coupons and tax rates on invoices and invoice items made by hand, driven
// with stripe-go: the amounts the invoice shows, to the cent, as it is
// made, changed, finalized and paid; and a pending item's own terms
// carried onto the renewal that takes it.

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v86"

	"github.com/billclock/billclock/emulator"
)

// TestCouponAndTaxRateOnManualInvoice: a draft made with discounts and
// default_tax_rates discounts and taxes the items put on it, the draft's
// change of rate prices it again, and it is paid for what it shows.
func TestCouponAndTaxRateOnManualInvoice(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	cust := b.customer("")
	quarter := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(25), Duration: stripe.String("forever")})
	gst := b.taxRate("GST", 10, false)
	vat := b.taxRate("VAT", 20, true)

	inv, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		Discounts:       []*stripe.InvoiceCreateDiscountParams{{Coupon: stripe.String(quarter.ID)}},
		DefaultTaxRates: stripe.StringSlice([]string{gst.ID})})
	require.NoError(t, err)
	require.Len(t, inv.Discounts, 1)
	di := inv.Discounts[0].ID
	require.Len(t, inv.DefaultTaxRates, 1)
	assert.Equal(t, gst.ID, inv.DefaultTaxRates[0].ID)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Invoice: stripe.String(inv.ID), Amount: stripe.Int64(2000),
		Currency: stripe.String("usd"), Description: stripe.String("Consulting")})
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Invoice: stripe.String(inv.ID), Amount: stripe.Int64(999),
		Currency: stripe.String("usd"), Description: stripe.String("Travel")})

	// 25% of 2000 is 500, leaving 1500, taxed 10%: 150. 25% of 999 is
	// 249.75 → 250, leaving 749, taxed 10%: 74.9 → 75.
	gstOn := func(amount, taxable int64) taxLine {
		return taxLine{Rate: gst.ID, Amount: amount, Taxable: taxable, TaxabilityReason: "not_available",
			TaxRateDetailType: "tax_rate_details"}
	}
	want := discounted{Subtotal: 2999, SubtotalExcludingTax: 2999, TotalExcludingTax: 2249, Total: 2474, AmountDue: 2474,
		Discounts: []string{di}, DiscountAmounts: map[string]int64{di: 750}, Taxes: []taxLine{gstOn(225, 2249)},
		Lines: []moneyLine{
			{Amount: 2000, Discountable: true, Off: map[string]int64{di: 500}, Taxes: []taxLine{gstOn(150, 1500)}},
			{Amount: 999, Discountable: true, Off: map[string]int64{di: 250}, Taxes: []taxLine{gstOn(75, 749)}}}}
	assert.Equal(t, want, moneyOf(b.invoice(inv.ID)))

	// The invoice shows the discount it redeemed, and the coupon counts it.
	expanded, err := b.sc.V1Invoices.Retrieve(ctx, inv.ID, &stripe.InvoiceRetrieveParams{
		Expand: stripe.StringSlice([]string{"discounts"})})
	require.NoError(t, err)
	require.Len(t, expanded.Discounts, 1)
	require.NotNil(t, expanded.Discounts[0].Source)
	require.NotNil(t, expanded.Discounts[0].Source.Coupon)
	assert.Equal(t, quarter.ID, expanded.Discounts[0].Source.Coupon.ID)
	assert.Equal(t, inv.ID, expanded.Discounts[0].Invoice)
	c, err := b.sc.V1Coupons.Retrieve(ctx, quarter.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.TimesRedeemed)

	// An inclusive rate instead: 1500 × 20/120 = 250 of 1500, and
	// 749 × 20/120 = 124.83 → 125 of 749; nothing is added to the total.
	inv, err = b.sc.V1Invoices.Update(ctx, inv.ID, &stripe.InvoiceUpdateParams{
		DefaultTaxRates: stripe.StringSlice([]string{vat.ID})})
	require.NoError(t, err)
	vatOn := func(amount, taxable int64) taxLine {
		return taxLine{Rate: vat.ID, Amount: amount, Taxable: taxable, Inclusive: true, TaxabilityReason: "not_available",
			TaxRateDetailType: "tax_rate_details"}
	}
	want = discounted{Subtotal: 2999, SubtotalExcludingTax: 2624, TotalExcludingTax: 1874, Total: 2249, AmountDue: 2249,
		Discounts: []string{di}, DiscountAmounts: map[string]int64{di: 750}, Taxes: []taxLine{vatOn(375, 1874)},
		Lines: []moneyLine{
			{Amount: 2000, Discountable: true, Off: map[string]int64{di: 500}, Taxes: []taxLine{vatOn(250, 1250)}},
			{Amount: 999, Discountable: true, Off: map[string]int64{di: 250}, Taxes: []taxLine{vatOn(125, 624)}}}}
	assert.Equal(t, want, moneyOf(inv))
	c, err = b.sc.V1Coupons.Retrieve(ctx, quarter.ID, nil)
	require.NoError(t, err)
	assert.EqualValues(t, 1, c.TimesRedeemed, "changing the rates redeems nothing again")

	// Finalized and paid for what it shows.
	inv, err = b.sc.V1Invoices.FinalizeInvoice(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, want, moneyOf(inv))
	inv, err = b.sc.V1Invoices.Pay(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, stripe.InvoiceStatusPaid, inv.Status)
	assert.EqualValues(t, 2249, inv.AmountPaid)

	// Refusals name the parameter, as for a subscription's.
	_, err = b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		Discounts: []*stripe.InvoiceCreateDiscountParams{{Coupon: stripe.String("NOPE")}}})
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "discounts[0][coupon]", se.Param)
	assert.Equal(t, "No such coupon: 'NOPE'", se.Msg)
	_, err = b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		DefaultTaxRates: stripe.StringSlice([]string{vat.ID, vat.ID})})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "default_tax_rates[1]", se.Param)
	assert.Equal(t, "The tax rate "+vat.ID+" is passed more than once.", se.Msg)
	_, err = b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		AutomaticTax: &stripe.InvoiceCreateAutomaticTaxParams{Enabled: stripe.Bool(true)}})
	se = stripeError(t, err, http.StatusBadRequest)
	assert.Equal(t, "automatic_tax[enabled]", se.Param)
	assert.Contains(t, se.Msg, "billclock does not emulate Stripe Tax")
}

// TestCouponAndTaxRateOnInvoiceItem: an invoice item's own discounts and
// tax rates price its line before, and instead of, the invoice's: pending,
// swept onto a draft, added as a line, changed and cleared on the draft.
func TestCouponAndTaxRateOnInvoiceItem(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	cust := b.customer("")
	five := b.coupon(&stripe.CouponCreateParams{AmountOff: stripe.Int64(500), Currency: stripe.String("usd")})
	half := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(50)})
	gst := b.taxRate("GST", 10, false)
	vat := b.taxRate("VAT", 20, true)

	setup := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(3000), Currency: stripe.String("usd"),
		Description: stripe.String("Setup"),
		Discounts:   []*stripe.InvoiceItemCreateDiscountParams{{Coupon: stripe.String(five.ID)}},
		TaxRates:    stripe.StringSlice([]string{gst.ID})})
	require.Len(t, setup.Discounts, 1)
	di := setup.Discounts[0].ID
	require.Len(t, setup.TaxRates, 1)
	assert.Equal(t, gst.ID, setup.TaxRates[0].ID)
	assert.EqualValues(t, 3000, setup.Amount)
	assert.EqualValues(t, 2500, setup.NetAmount, "its amount less its own discount")
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Amount: stripe.Int64(1000), Currency: stripe.String("usd"),
		Description: stripe.String("Support")})

	// The draft's default rate (VAT) taxes only the line without rates of
	// its own: 1000 × 20/120 = 166.67 → 167. The setup line is 3000 less
	// its 500, taxed 10%: 250.
	inv, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		PendingInvoiceItemsBehavior: stripe.String("include"), DefaultTaxRates: stripe.StringSlice([]string{vat.ID})})
	require.NoError(t, err)
	taxOn := func(r *stripe.TaxRate, amount, taxable int64) taxLine {
		return taxLine{Rate: r.ID, Amount: amount, Taxable: taxable, Inclusive: r.Inclusive, TaxabilityReason: "not_available",
			TaxRateDetailType: "tax_rate_details"}
	}
	setupLine := moneyLine{Amount: 3000, Discountable: true, Off: map[string]int64{di: 500}, Taxes: []taxLine{taxOn(gst, 250, 2500)}}
	supportLine := moneyLine{Amount: 1000, Discountable: true, Taxes: []taxLine{taxOn(vat, 167, 833)}}
	assert.Equal(t, discounted{Subtotal: 3500, SubtotalExcludingTax: 3333, TotalExcludingTax: 3333, Total: 3750, AmountDue: 3750,
		DiscountAmounts: map[string]int64{di: 500}, Taxes: []taxLine{taxOn(gst, 250, 2500), taxOn(vat, 167, 833)},
		Lines: []moneyLine{setupLine, supportLine}}, moneyOf(inv))
	require.Len(t, inv.Lines.Data[0].Discounts, 1)
	assert.Equal(t, di, inv.Lines.Data[0].Discounts[0].ID, "the line shows the item's discount")

	// A line added with terms of its own: 800 less 50%, taxed 10%: 40.
	inv, err = b.sc.V1Invoices.AddLines(ctx, inv.ID, &stripe.InvoiceAddLinesParams{Lines: []*stripe.InvoiceAddLinesLineParams{{
		Amount: stripe.Int64(800), Description: stripe.String("Training"),
		Discounts: []*stripe.InvoiceAddLinesLineDiscountParams{{Coupon: stripe.String(half.ID)}},
		TaxRates:  stripe.StringSlice([]string{gst.ID})}}})
	require.NoError(t, err)
	require.Len(t, inv.Lines.Data, 3)
	require.Len(t, inv.Lines.Data[2].Discounts, 1)
	dh := inv.Lines.Data[2].Discounts[0].ID
	trainingLine := moneyLine{Amount: 800, Discountable: true, Off: map[string]int64{dh: 400}, Taxes: []taxLine{taxOn(gst, 40, 400)}}
	assert.Equal(t, discounted{Subtotal: 3900, SubtotalExcludingTax: 3733, TotalExcludingTax: 3733, Total: 4190, AmountDue: 4190,
		DiscountAmounts: map[string]int64{di: 500, dh: 400}, Taxes: []taxLine{taxOn(gst, 290, 2900), taxOn(vat, 167, 833)},
		Lines: []moneyLine{setupLine, supportLine, trainingLine}}, moneyOf(inv))

	// The setup item loses its discount on the draft, and its line
	// follows: 3000 taxed 10%: 300.
	upd := &stripe.InvoiceItemUpdateParams{}
	upd.AddUnsetField(stripe.InvoiceItemUpdateParamsUnsetFieldDiscounts)
	setup, err = b.sc.V1InvoiceItems.Update(ctx, setup.ID, upd)
	require.NoError(t, err)
	assert.Empty(t, setup.Discounts)
	assert.EqualValues(t, 3000, setup.NetAmount)
	setupLine = moneyLine{Amount: 3000, Discountable: true, Taxes: []taxLine{taxOn(gst, 300, 3000)}}
	want := discounted{Subtotal: 4400, SubtotalExcludingTax: 4233, TotalExcludingTax: 4233, Total: 4740, AmountDue: 4740,
		DiscountAmounts: map[string]int64{dh: 400}, Taxes: []taxLine{taxOn(gst, 340, 3400), taxOn(vat, 167, 833)},
		Lines: []moneyLine{setupLine, supportLine, trainingLine}}
	assert.Equal(t, want, moneyOf(b.invoice(inv.ID)))

	inv, err = b.sc.V1Invoices.FinalizeInvoice(ctx, inv.ID, nil)
	require.NoError(t, err)
	inv, err = b.sc.V1Invoices.Pay(ctx, inv.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, want, moneyOf(inv))
	assert.EqualValues(t, 4740, inv.AmountPaid)
	for _, cp := range []*stripe.Coupon{five, half} {
		got, err := b.sc.V1Coupons.Retrieve(ctx, cp.ID, nil)
		require.NoError(t, err)
		assert.EqualValues(t, 1, got.TimesRedeemed, cp.ID)
	}

	// Refusals name the parameter, nested ones whole.
	_, err = b.sc.V1InvoiceItems.Create(ctx, &stripe.InvoiceItemCreateParams{Customer: stripe.String(cust.ID),
		Amount: stripe.Int64(100), Currency: stripe.String("usd"), TaxRates: stripe.StringSlice([]string{"txr_nope"})})
	se := stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "tax_rates[0]", se.Param)
	assert.Equal(t, "No such tax rate: 'txr_nope'", se.Msg)
	draft, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	_, err = b.sc.V1Invoices.AddLines(ctx, draft.ID, &stripe.InvoiceAddLinesParams{Lines: []*stripe.InvoiceAddLinesLineParams{{
		Amount:    stripe.Int64(100),
		Discounts: []*stripe.InvoiceAddLinesLineDiscountParams{{Coupon: stripe.String("NOPE")}}}}})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "lines[0][discounts][0][coupon]", se.Param)
	assert.Equal(t, "No such coupon: 'NOPE'", se.Msg)
	_, err = b.sc.V1Invoices.AddLines(ctx, draft.ID, &stripe.InvoiceAddLinesParams{Lines: []*stripe.InvoiceAddLinesLineParams{{
		Amount: stripe.Int64(100), TaxRates: stripe.StringSlice([]string{"txr_nope"})}}})
	se = stripeError(t, err, http.StatusNotFound)
	assert.Equal(t, "lines[0][tax_rates][0]", se.Param)
	assert.Equal(t, "No such tax rate: 'txr_nope'", se.Msg)
	// As for a subscription's, an element of a list cannot be unset, and
	// automatic_tax needs enabled.
	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/invoiceitems", Key: testKey,
		Body: "customer=" + cust.ID + "&amount=100&currency=usd&tax_rates[0]="})
	assert.Equal(t, apiError{Type: "invalid_request_error", Param: "tax_rates[0]",
		Message: "You passed an empty string for 'tax_rates[0]'. We assume empty values are an attempt to unset a parameter; " +
			"however 'tax_rates[0]' cannot be unset. You should remove 'tax_rates[0]' from your request or supply a non-empty value."},
		r.apiError(t, http.StatusBadRequest))
	r = b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/invoices", Key: testKey,
		Body: "customer=" + cust.ID + "&automatic_tax[liability][type]=self"})
	assert.Equal(t, apiError{Type: "invalid_request_error", Code: "parameter_missing", Param: "automatic_tax[enabled]",
		Message: "Missing required param: automatic_tax[enabled]."}, r.apiError(t, http.StatusBadRequest))
}

// TestInvoiceItemTermsOnRenewal: an item left pending for a subscription
// keeps its coupon and tax rate on the renewal invoice that takes it, and
// invoice.upcoming shows that invoice beforehand.
func TestInvoiceItemTermsOnRenewal(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{})
	clock := b.clockAt(frozen0)
	tenth := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(10), Duration: stripe.String("forever")})
	gst := b.taxRate("GST", 10, false)
	cust := b.customer(clock.ID)
	sub := b.subscribe(cust.ID, b.price("Seats", 2000, stripe.PriceRecurringIntervalMonth).ID, 1, nil)
	extra := b.item(cust.ID, &stripe.InvoiceItemCreateParams{Subscription: stripe.String(sub.ID), Amount: stripe.Int64(1005),
		Currency:  stripe.String("usd"),
		Discounts: []*stripe.InvoiceItemCreateDiscountParams{{Coupon: stripe.String(tenth.ID)}},
		TaxRates:  stripe.StringSlice([]string{gst.ID})})
	require.Len(t, extra.Discounts, 1)
	di := extra.Discounts[0].ID

	// The pending item's line comes first, as prorations' do. 10% of 1005
	// is 100.5 → 101, leaving 904, taxed 10%: 90.4 → 90.
	gstLine := taxLine{Rate: gst.ID, Amount: 90, Taxable: 904, TaxabilityReason: "not_available", TaxRateDetailType: "tax_rate_details"}
	want := discounted{Subtotal: 2904, SubtotalExcludingTax: 2904, TotalExcludingTax: 2904, Total: 2994, AmountDue: 2994,
		DiscountAmounts: map[string]int64{di: 101}, Taxes: []taxLine{gstLine},
		Lines: []moneyLine{{Amount: 1005, Discountable: true, Off: map[string]int64{di: 101}, Taxes: []taxLine{gstLine}},
			{Amount: 2000, Discountable: true}}}
	renewal := time.Unix(frozen0, 0).UTC().AddDate(0, 1, 0).Unix()
	b.advance(clock.ID, renewal+2*hour)
	inv := b.latestInvoice(sub.ID)
	assert.Equal(t, stripe.InvoiceBillingReasonSubscriptionCycle, inv.BillingReason)
	assert.Equal(t, want, moneyOf(inv))
	assert.EqualValues(t, 2994, inv.AmountPaid)

	upcoming := b.events(&stripe.EventListParams{Type: stripe.String("invoice.upcoming")})
	require.Len(t, upcoming, 1)
	var shown stripe.Invoice
	require.NoError(t, shown.UnmarshalJSON(upcoming[0].Data.Raw))
	assert.Equal(t, want, moneyOf(&shown), "invoice.upcoming showed the renewal to come")
}

// TestManualInvoiceInheritsCustomerDiscount: as Stripe's spec says of
// POST /v1/invoices discounts, an invoice made without them takes its
// customer's discount, and one made with discounts= takes none. A once
// discount is used up when the invoice it took something off is
// finalized. discounts[][discount] reuses the customer's discount.
func TestManualInvoiceInheritsCustomerDiscount(t *testing.T) {
	t.Parallel()
	b := startBilling(t, emulator.Config{NoSync: true})
	ctx := t.Context()
	fifth := b.coupon(&stripe.CouponCreateParams{PercentOff: stripe.Float64(20)})
	p := &stripe.CustomerCreateParams{PaymentMethod: stripe.String("pm_card_visa")}
	p.AddExtra("coupon", fifth.ID)
	cust, err := b.sc.V1Customers.Create(ctx, p)
	require.NoError(t, err)
	require.NotNil(t, cust.Discount)
	di := cust.Discount.ID

	inherits, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Invoice: stripe.String(inherits.ID), Amount: stripe.Int64(1000),
		Currency: stripe.String("usd")})
	want := discounted{Subtotal: 1000, SubtotalExcludingTax: 1000, TotalExcludingTax: 800, Total: 800, AmountDue: 800,
		Discounts: []string{di}, DiscountAmounts: map[string]int64{di: 200},
		Lines: []moneyLine{{Amount: 1000, Discountable: true, Off: map[string]int64{di: 200}}}}
	assert.Equal(t, want, moneyOf(b.invoice(inherits.ID)))

	r := b.raw(t, rawRequest{Method: http.MethodPost, Path: "/v1/invoices", Key: testKey,
		Body: "customer=" + cust.ID + "&discounts="})
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Body)
	none := r.object(t)["id"].(string)
	b.item(cust.ID, &stripe.InvoiceItemCreateParams{Invoice: stripe.String(none), Amount: stripe.Int64(1000),
		Currency: stripe.String("usd")})
	assert.Equal(t, discounted{Subtotal: 1000, SubtotalExcludingTax: 1000, TotalExcludingTax: 1000, Total: 1000, AmountDue: 1000,
		Lines: []moneyLine{{Amount: 1000, Discountable: true}}}, moneyOf(b.invoice(none)))

	reused, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID),
		Discounts: []*stripe.InvoiceCreateDiscountParams{{Discount: stripe.String(di)}}})
	require.NoError(t, err)
	require.Len(t, reused.Discounts, 1)
	assert.Equal(t, di, reused.Discounts[0].ID)

	// Finalizing the invoice it took 200 off uses the once discount up.
	mark := len(b.events(nil))
	inv, err := b.sc.V1Invoices.FinalizeInvoice(ctx, inherits.ID, nil)
	require.NoError(t, err)
	assert.Equal(t, want, moneyOf(inv))
	assert.Equal(t, []string{"customer.discount.deleted", "customer.updated", "invoice.finalized", "payment_intent.created"},
		b.typesSince(mark))
	assert.Nil(t, b.customerGet(cust.ID).Discount)
	later, err := b.sc.V1Invoices.Create(ctx, &stripe.InvoiceCreateParams{Customer: stripe.String(cust.ID)})
	require.NoError(t, err)
	assert.Empty(t, later.Discounts, "nothing left to inherit")
}
