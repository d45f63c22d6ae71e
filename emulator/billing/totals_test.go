package billing

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAllocate(t *testing.T) {
	cases := []struct {
		name    string
		total   int64
		weights []int64
		want    []int64
	}{
		{"even", 300, []int64{100, 100, 100}, []int64{100, 100, 100}},
		// 1000 over 1000, 2500, 999: exact shares 222.27, 555.68, 222.05;
		// the one unit left goes to the largest fraction, the second.
		{"largest remainder", 1000, []int64{1000, 2500, 999}, []int64{222, 556, 222}},
		// Thirds: two units left over go to the first two (a tie).
		{"ties go to earlier lines", 2, []int64{1, 1, 1}, []int64{1, 1, 0}},
		{"one unit, three lines", 1, []int64{5, 5, 5}, []int64{1, 0, 0}},
		{"zero weight gets nothing", 10, []int64{0, 3, 7}, []int64{0, 3, 7}},
		{"all of it", 4499, []int64{1000, 2500, 999}, []int64{1000, 2500, 999}},
		{"nothing", 0, []int64{5, 5}, []int64{0, 0}},
		{"no weights", 10, []int64{0, 0}, []int64{0, 0}},
		{"huge weights", MaxAmount, []int64{math.MaxInt64 / 2, math.MaxInt64 / 2}, []int64{50_000_000, 49_999_999}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := allocate(tc.total, tc.weights)
			assert.Equal(t, tc.want, got)
		})
	}
}

// However it is split, an amount off is never more or less than it
// should be.
func FuzzAllocateSumsExactly(f *testing.F) {
	f.Add(int64(1000), int64(1000), int64(2500), int64(999))
	f.Add(int64(1), int64(1), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, total, a, b, c int64) {
		if total < 0 || a < 0 || b < 0 || c < 0 || a > math.MaxInt64/4 || b > math.MaxInt64/4 || c > math.MaxInt64/4 {
			return
		}
		w := []int64{a, b, c}
		total = min(total, a+b+c)
		got := allocate(total, w)
		var sum int64
		for i, g := range got {
			if g < 0 || g > w[i] {
				t.Fatalf("part %d of %d over %v: %v", i, total, w, got)
			}
			sum += g
		}
		if a+b+c > 0 && sum != total {
			t.Fatalf("%d over %v: %v sums to %d", total, w, got, sum)
		}
	})
}

func TestLineTaxes(t *testing.T) {
	vat := &TaxRate{ID: "txr_vat", Percentage: 20 * PercentUnit, Inclusive: true}
	vat5 := &TaxRate{ID: "txr_vat5", Percentage: 5 * PercentUnit, Inclusive: true}
	ca := &TaxRate{ID: "txr_ca", Percentage: 72_500}
	local := &TaxRate{ID: "txr_local", Percentage: 1 * PercentUnit}
	cases := []struct {
		name  string
		base  int64
		rates []*TaxRate
		want  []TaxAmount
	}{
		{"none", 1000, nil, nil},
		// 1000 − 1000 / 1.2 = 166.67
		{"inclusive", 1000, []*TaxRate{vat}, []TaxAmount{{TaxRate: "txr_vat", Amount: 167, Inclusive: true, TaxableAmount: 833}}},
		// 1999 × 7.25% = 144.9275
		{"exclusive", 1999, []*TaxRate{ca}, []TaxAmount{{TaxRate: "txr_ca", Amount: 145, TaxableAmount: 1999}}},
		// 6 × 20/120 = 1 exactly.
		{"inclusive exact", 6, []*TaxRate{vat}, []TaxAmount{{TaxRate: "txr_vat", Amount: 1, Inclusive: true, TaxableAmount: 5}}},
		// 3 × 20/120 = 0.5: the tax rounds up (the amount without it
		// would round to 3 and leave a tax of 0).
		{"inclusive half", 3, []*TaxRate{vat}, []TaxAmount{{TaxRate: "txr_vat", Amount: 1, Inclusive: true, TaxableAmount: 2}}},
		// Two inclusive rates share the carve-out: 1250 × 20/125 = 200,
		// 1250 × 5/125 = 50.
		{"two inclusive", 1250, []*TaxRate{vat, vat5}, []TaxAmount{
			{TaxRate: "txr_vat", Amount: 200, Inclusive: true, TaxableAmount: 1000},
			{TaxRate: "txr_vat5", Amount: 50, Inclusive: true, TaxableAmount: 1000}}},
		// An exclusive rate beside an inclusive one taxes the amount
		// without the inclusive tax: 1200 → 200 included, 1% of 1000.
		{"mixed", 1200, []*TaxRate{local, vat}, []TaxAmount{
			{TaxRate: "txr_local", Amount: 10, TaxableAmount: 1000},
			{TaxRate: "txr_vat", Amount: 200, Inclusive: true, TaxableAmount: 1000}}},
		// A credit is taxed back, rounding away from zero: −144.9275.
		{"credit", -1999, []*TaxRate{ca}, []TaxAmount{{TaxRate: "txr_ca", Amount: -145, TaxableAmount: -1999}}},
		{"credit inclusive half", -3, []*TaxRate{vat}, []TaxAmount{{TaxRate: "txr_vat", Amount: -1, Inclusive: true, TaxableAmount: -2}}},
		{"zero", 0, []*TaxRate{vat, ca}, []TaxAmount{
			{TaxRate: "txr_vat", Inclusive: true}, {TaxRate: "txr_ca"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := lineTaxes(tc.base, tc.rates)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	_, err := lineTaxes(math.MaxInt64, []*TaxRate{{ID: "big", Percentage: 2 * Hundred}})
	requireAmountError(t, err, "200%% of MaxInt64")
}

// priceFixture prices inv with prices price_<product> → prod_<product>
// and the given tax rates.
func priceFixture(t *testing.T, inv *Invoice, rates ...*TaxRate) InvoiceTotals {
	t.Helper()
	productOf := func(price string) (string, error) {
		if price == "" {
			return "", nil
		}
		return "prod_" + price[len("price_"):], nil
	}
	rateOf := func(id string) (*TaxRate, error) {
		for _, r := range rates {
			if r.ID == id {
				return r, nil
			}
		}
		return nil, NotFoundError("tax_rate", id, "")
	}
	require.NoError(t, priceInvoice(inv, productOf, rateOf))
	totals, err := inv.Totals()
	require.NoError(t, err)
	assert.Equal(t, totals.Total, inv.Total(), "Total agrees with Totals")
	return totals
}

func percentOff(id string, p Percent) Discount {
	return Discount{ID: id, Coupon: Coupon{ID: "c_" + id, PercentOff: p, Duration: DurationForever}}
}

func amountOff(id string, a int64, currency string) Discount {
	return Discount{ID: id, Coupon: Coupon{ID: "c_" + id, AmountOff: a, Currency: currency, Duration: DurationForever}}
}

func TestPriceInvoiceDiscountThenTax(t *testing.T) {
	inv := &Invoice{Currency: "usd", DefaultTaxRates: []string{"txr_ny"},
		Discounts: []Discount{percentOff("di_10", 10*PercentUnit)},
		Lines:     []InvoiceLine{{Amount: 4999, Discountable: true}}}
	totals := priceFixture(t, inv, &TaxRate{ID: "txr_ny", Percentage: 88_750})
	// 10% of 4999 is 499.9; 8.875% of the 4499 left is 399.28625.
	assert.Equal(t, []DiscountAmount{{Discount: "di_10", Amount: 500}}, inv.Lines[0].DiscountAmounts)
	assert.Equal(t, []TaxAmount{{TaxRate: "txr_ny", Amount: 399, TaxableAmount: 4499}}, inv.Lines[0].Taxes)
	assert.Equal(t, InvoiceTotals{Subtotal: 4999, SubtotalExcludingTax: 4999, TotalExcludingTax: 4499, Total: 4898,
		Discounts: []DiscountAmount{{Discount: "di_10", Amount: 500}},
		Taxes:     []TaxAmount{{TaxRate: "txr_ny", Amount: 399, TaxableAmount: 4499}}}, totals)
}

// A line's own discounts come first, then the invoice's in order, each on
// what the previous left; lines that are not discountable keep only their
// own.
func TestPriceInvoiceStacking(t *testing.T) {
	inv := &Invoice{Currency: "usd",
		Discounts: []Discount{amountOff("di_amount", 1000, "usd"), percentOff("di_pct", 10*PercentUnit)},
		Lines: []InvoiceLine{
			{Amount: 1000, Discountable: true, Discounts: []Discount{percentOff("di_item", 20*PercentUnit)}},
			{Amount: 3000, Discountable: true},
			{Amount: -200}, // a credit: not discountable
			{Amount: 700, Proration: true, ProrationDiscounts: []DiscountAmount{{Discount: "di_pct", Amount: 70}}},
		}}
	totals := priceFixture(t, inv)
	// Line 0: its own 20% (200) leaves 800. The 1000 off is spread over
	// 800 and 3000: 210.53 and 789.47, the unit left over to the larger
	// fraction, line 0. Then 10% of 589 (58.9) and of 2211 (221.1).
	assert.Equal(t, []DiscountAmount{{"di_item", 200}, {"di_amount", 211}, {"di_pct", 59}}, inv.Lines[0].DiscountAmounts)
	assert.Equal(t, []DiscountAmount{{"di_amount", 789}, {"di_pct", 221}}, inv.Lines[1].DiscountAmounts)
	assert.Empty(t, inv.Lines[2].DiscountAmounts)
	assert.Equal(t, []DiscountAmount{{"di_pct", 70}}, inv.Lines[3].DiscountAmounts)
	assert.Equal(t, InvoiceTotals{
		// Before the invoice's discounts: 800 + 3000 − 200 + 700 (the
		// proration's amount fixed at its making is its own: 630).
		Subtotal: 4230, SubtotalExcludingTax: 4230,
		TotalExcludingTax: 530 + 1990 - 200 + 630, Total: 2950,
		Discounts: []DiscountAmount{{"di_amount", 1000}, {"di_pct", 59 + 221 + 70}, {"di_item", 200}},
	}, totals)
}

func TestPriceInvoiceAmountOffCappedAndRestricted(t *testing.T) {
	restricted := amountOff("di_a_only", 5000, "usd")
	restricted.Coupon.AppliesToProducts = []string{"prod_a"}
	inv := &Invoice{Currency: "usd",
		Discounts: []Discount{restricted, amountOff("di_eur", 100, "eur"), percentOff("di_half", 50*PercentUnit)},
		Lines: []InvoiceLine{
			{Amount: 1200, Price: "price_a", Discountable: true},
			{Amount: 801, Price: "price_b", Discountable: true},
		}}
	totals := priceFixture(t, inv)
	// The 5000 off is capped at line a's 1200 and never touches b; the
	// euro coupon applies to nothing; half of b's 801 is 400.5.
	assert.Equal(t, []DiscountAmount{{"di_a_only", 1200}}, inv.Lines[0].DiscountAmounts)
	assert.Equal(t, []DiscountAmount{{"di_half", 401}}, inv.Lines[1].DiscountAmounts)
	assert.EqualValues(t, 400, totals.Total)
	assert.Equal(t, []DiscountAmount{{"di_a_only", 1200}, {"di_eur", 0}, {"di_half", 401}}, totals.Discounts)
}

func TestPriceInvoiceInclusiveTaxOnDiscountedLine(t *testing.T) {
	inv := &Invoice{Currency: "eur", Discounts: []Discount{percentOff("di_25", 25*PercentUnit)},
		Lines: []InvoiceLine{{Amount: 1200, Discountable: true, TaxRates: []string{"txr_vat"}}}}
	totals := priceFixture(t, inv, &TaxRate{ID: "txr_vat", Percentage: 20 * PercentUnit, Inclusive: true})
	// 25% off leaves 900, which includes 900 × 20/120 = 150 of VAT.
	assert.Equal(t, InvoiceTotals{Subtotal: 1200, SubtotalExcludingTax: 1050, TotalExcludingTax: 750, Total: 900,
		Discounts: []DiscountAmount{{"di_25", 300}},
		Taxes:     []TaxAmount{{TaxRate: "txr_vat", Amount: 150, Inclusive: true, TaxableAmount: 750}}}, totals)
	// Pricing again gives the same, not twice the discount.
	again := priceFixture(t, inv, &TaxRate{ID: "txr_vat", Percentage: 20 * PercentUnit, Inclusive: true})
	assert.Equal(t, totals, again)
}

func TestPriceInvoiceLineRatesBeatDefaults(t *testing.T) {
	inv := &Invoice{Currency: "usd", DefaultTaxRates: []string{"txr_a"},
		Lines: []InvoiceLine{{Amount: 1000}, {Amount: 1000, TaxRates: []string{"txr_b"}}}}
	totals := priceFixture(t, inv, &TaxRate{ID: "txr_a", Percentage: 10 * PercentUnit},
		&TaxRate{ID: "txr_b", Percentage: 5 * PercentUnit})
	assert.Equal(t, []TaxAmount{{TaxRate: "txr_a", Amount: 100, TaxableAmount: 1000},
		{TaxRate: "txr_b", Amount: 50, TaxableAmount: 1000}}, totals.Taxes)
	assert.EqualValues(t, 2150, totals.Total)
}

func TestPriceInvoiceMissingTaxRate(t *testing.T) {
	inv := &Invoice{Currency: "usd", Lines: []InvoiceLine{{Amount: 1000, TaxRates: []string{"txr_gone"}}}}
	err := priceInvoice(inv, nil, func(id string) (*TaxRate, error) { return nil, NotFoundError("tax_rate", id, "") })
	var be *Error
	require.ErrorAs(t, err, &be)
	assert.Equal(t, NotFound, be.Kind)
}

// Sums that do not fit fail; they never wrap.
func TestPriceInvoiceOverflow(t *testing.T) {
	inv := &Invoice{Currency: "usd", DefaultTaxRates: []string{"txr_all"},
		Lines: []InvoiceLine{{Amount: math.MaxInt64 / 2}, {Amount: math.MaxInt64 / 2}}}
	err := priceInvoice(inv, nil, func(string) (*TaxRate, error) { return &TaxRate{ID: "txr_all", Percentage: Hundred}, nil })
	requireAmountError(t, err)
	_, err = (&Invoice{Lines: []InvoiceLine{{Amount: math.MaxInt64}, {Amount: 1}}}).Totals()
	requireAmountError(t, err)
	_, err = (&InvoiceLine{Amount: math.MinInt64 + 1, DiscountAmounts: []DiscountAmount{{Amount: 2}}}).checkedNet()
	requireAmountError(t, err)
}
