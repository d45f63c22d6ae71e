package billing

import (
	"math"
	"math/big"
	"slices"
	"sort"
)

// This file prices invoices: what each line comes to once discounted and
// taxed (PriceInvoice), the invoice's totals derived from its lines
// (Totals), and how a new invoice takes its discounts and tax rates from
// its subscription and customer (priceNewInvoice).
//
// A line's discounts apply in this order: the amounts fixed when a
// proration was made, then the line's own discounts (an invoice item's),
// then, on discountable lines, the invoice's discounts (its subscription's,
// or else its customer's) in their order. Each discount works on what the
// previous ones left of the line and never takes a line below zero:
//   - a percentage off takes that percentage of what is left of each line
//     it applies to, rounded half away from zero line by line;
//   - an amount off is capped at what is left of the lines it applies to,
//     and spread across them in proportion to what is left of each by the
//     largest remainder method: each line gets the whole part of its exact
//     share, and the units left over go one each to the lines with the
//     largest fractional parts (the earlier line first on a tie), so that
//     the shares always sum to the amount.
//
// Stripe documents neither how it spreads an amount off across lines nor
// how several discounts stack; both are billclock's choices.
//
// Taxes follow discounts: each line is taxed on what its discounts left
// of it (taxes.go).

// InvoiceTotals are an invoice's sums, derived from its lines.
type InvoiceTotals struct {
	// Subtotal is the lines' amounts less their own discounts: before the
	// invoice's discounts and exclusive taxes.
	Subtotal int64
	// SubtotalExcludingTax is Subtotal without the inclusive taxes.
	SubtotalExcludingTax int64
	// TotalExcludingTax is after every discount, without any tax.
	TotalExcludingTax int64
	// Total is after every discount, with the exclusive taxes: what
	// Invoice.Total gives.
	Total int64
	// Discounts is each discount's amount over all lines: the invoice's
	// discounts first, in their order (even those that took nothing),
	// then the lines' own in the order first met.
	Discounts []DiscountAmount
	// Taxes is each tax rate's amount and taxable amount over all lines,
	// in the order first met.
	Taxes []TaxAmount
}

// Net is what the line adds to its invoice's total: its amount less its
// discounts, plus its exclusive taxes.
func (l *InvoiceLine) Net() int64 {
	n := l.Amount
	for _, d := range l.DiscountAmounts {
		n -= d.Amount
	}
	for _, t := range l.Taxes {
		if !t.Inclusive {
			n += t.Amount
		}
	}
	return n
}

// checkedNet is Net, or an Invalid error if it does not fit in an int64.
func (l *InvoiceLine) checkedNet() (int64, error) {
	n := checked{v: l.Amount}
	for _, d := range l.DiscountAmounts {
		n.sub(d.Amount)
	}
	for _, t := range l.Taxes {
		if !t.Inclusive {
			n.add(t.Amount)
		}
	}
	return n.v, n.err
}

// Totals derives the invoice's totals from its lines, or fails, rather
// than wrap, if a sum does not fit in an int64.
func (inv *Invoice) Totals() (InvoiceTotals, error) {
	var t InvoiceTotals
	discountAt := map[string]int{}
	for _, d := range inv.Discounts {
		discountAt[d.ID] = len(t.Discounts)
		t.Discounts = append(t.Discounts, DiscountAmount{Discount: d.ID})
	}
	taxAt := map[string]int{}
	var sub, subEx, tot, totEx checked
	var err error
	for _, l := range inv.Lines {
		var all, own, incl, excl checked
		for _, da := range l.DiscountAmounts {
			all.add(da.Amount)
			if l.ownDiscount(da.Discount) {
				own.add(da.Amount)
			}
			i, ok := discountAt[da.Discount]
			if !ok {
				i = len(t.Discounts)
				discountAt[da.Discount] = i
				t.Discounts = append(t.Discounts, DiscountAmount{Discount: da.Discount})
			}
			if t.Discounts[i].Amount, err = addAmount(t.Discounts[i].Amount, da.Amount); err != nil {
				return InvoiceTotals{}, err
			}
		}
		for _, tx := range l.Taxes {
			if tx.Inclusive {
				incl.add(tx.Amount)
			} else {
				excl.add(tx.Amount)
			}
			i, ok := taxAt[tx.TaxRate]
			if !ok {
				i = len(t.Taxes)
				taxAt[tx.TaxRate] = i
				t.Taxes = append(t.Taxes, TaxAmount{TaxRate: tx.TaxRate, Inclusive: tx.Inclusive})
			}
			a := checked{v: t.Taxes[i].Amount}
			a.add(tx.Amount)
			b := checked{v: t.Taxes[i].TaxableAmount}
			b.add(tx.TaxableAmount)
			if err := firstErr(a.err, b.err); err != nil {
				return InvoiceTotals{}, err
			}
			t.Taxes[i].Amount, t.Taxes[i].TaxableAmount = a.v, b.v
		}
		if err := firstErr(all.err, own.err, incl.err, excl.err); err != nil {
			return InvoiceTotals{}, err
		}
		sub.add(l.Amount)
		sub.sub(own.v)
		subEx.add(l.Amount)
		subEx.sub(own.v)
		subEx.sub(incl.v)
		totEx.add(l.Amount)
		totEx.sub(all.v)
		totEx.sub(incl.v)
		tot.add(l.Amount)
		tot.sub(all.v)
		tot.add(excl.v)
	}
	if err := firstErr(sub.err, subEx.err, tot.err, totEx.err); err != nil {
		return InvoiceTotals{}, err
	}
	t.Subtotal, t.SubtotalExcludingTax, t.Total, t.TotalExcludingTax = sub.v, subEx.v, tot.v, totEx.v
	return t, nil
}

// ownDiscount reports whether the discount id is the line's own (fixed on
// a proration or set on the line) rather than the invoice's.
func (l *InvoiceLine) ownDiscount(id string) bool {
	return slices.ContainsFunc(l.ProrationDiscounts, func(d DiscountAmount) bool { return d.Discount == id }) ||
		slices.ContainsFunc(l.Discounts, func(d Discount) bool { return d.ID == id })
}

// PriceInvoice computes inv's discount amounts and taxes from its lines,
// its discounts and its tax rates, replacing any computed before. It
// changes nothing else and stores nothing, so a preview can use it. It
// fails if a tax rate or a price is missing, or if an amount would not
// fit in an int64.
func (e *Engine) PriceInvoice(inv *Invoice) error {
	productOf := func(price string) (string, error) {
		if price == "" {
			return "", nil
		}
		p, err := e.L.Price(price)
		if err != nil {
			return "", err
		}
		return p.Product, nil
	}
	rates := map[string]*TaxRate{}
	rateOf := func(id string) (*TaxRate, error) {
		if r, ok := rates[id]; ok {
			return r, nil
		}
		l, err := e.couponTax()
		if err != nil {
			return nil, err
		}
		r, err := l.TaxRate(id)
		if err != nil {
			return nil, err
		}
		rates[id] = r
		return r, nil
	}
	return priceInvoice(inv, productOf, rateOf)
}

// priceInvoice is PriceInvoice over lookups of a price's product and of
// a tax rate.
func priceInvoice(inv *Invoice, productOf func(price string) (string, error), rateOf func(id string) (*TaxRate, error)) error {
	lines := inv.Lines
	products := make([]string, len(lines))
	if restricted(inv) {
		for i := range lines {
			p, err := productOf(lines[i].Price)
			if err != nil {
				return err
			}
			products[i] = p
		}
	}
	applies := func(c *Coupon, i int) bool {
		return c.AppliesTo(products[i]) && (c.AmountOff == 0 || c.Currency == inv.Currency)
	}
	left := make([]int64, len(lines))
	for i := range lines {
		l := &lines[i]
		l.DiscountAmounts, l.Taxes = nil, nil
		rest := checked{v: l.Amount}
		for _, fixed := range l.ProrationDiscounts {
			l.DiscountAmounts = append(l.DiscountAmounts, fixed)
			rest.sub(fixed.Amount)
		}
		if rest.err != nil {
			return rest.err
		}
		for _, d := range l.Discounts {
			if !applies(&d.Coupon, i) {
				continue
			}
			amounts, err := spread(&d.Coupon, []int64{rest.v})
			if err != nil {
				return err
			}
			l.DiscountAmounts = append(l.DiscountAmounts, DiscountAmount{Discount: d.ID, Amount: amounts[0]})
			rest.v -= amounts[0] // at most rest.v, which is positive
		}
		left[i] = rest.v
	}
	for _, d := range inv.Discounts {
		var on []int
		var weights []int64
		for i := range lines {
			if lines[i].Discountable && left[i] > 0 && applies(&d.Coupon, i) {
				on = append(on, i)
				weights = append(weights, left[i])
			}
		}
		amounts, err := spread(&d.Coupon, weights)
		if err != nil {
			return err
		}
		for k, i := range on {
			lines[i].DiscountAmounts = append(lines[i].DiscountAmounts, DiscountAmount{Discount: d.ID, Amount: amounts[k]})
			left[i] -= amounts[k]
		}
	}
	for i := range lines {
		ids := lines[i].TaxRates
		if len(ids) == 0 {
			ids = inv.DefaultTaxRates
		}
		var rs []*TaxRate
		for _, id := range ids {
			r, err := rateOf(id)
			if err != nil {
				return err
			}
			rs = append(rs, r)
		}
		taxes, err := lineTaxes(left[i], rs)
		if err != nil {
			return err
		}
		lines[i].Taxes = taxes
	}
	_, err := inv.Totals()
	return err
}

// restricted reports whether any of inv's discounts applies only to some
// products, which needs its lines' products.
func restricted(inv *Invoice) bool {
	for _, d := range inv.Discounts {
		if len(d.Coupon.AppliesToProducts) > 0 {
			return true
		}
	}
	for _, l := range inv.Lines {
		for _, d := range l.Discounts {
			if len(d.Coupon.AppliesToProducts) > 0 {
				return true
			}
		}
	}
	return false
}

// spread is what coupon c takes off lines of which left[k] is left: a
// percentage of each, or its amount spread in proportion (see the top of
// this file). Nothing is taken off a line with nothing left.
func spread(c *Coupon, left []int64) ([]int64, error) {
	out := make([]int64, len(left))
	if c.PercentOff != 0 {
		for k, l := range left {
			if l <= 0 {
				continue
			}
			a, err := c.PercentOff.Of(l)
			if err != nil {
				return nil, err
			}
			out[k] = min(a, l)
		}
		return out, nil
	}
	var sum checked
	weights := make([]int64, len(left))
	for k, l := range left {
		weights[k] = max(l, 0)
		sum.add(weights[k])
	}
	if sum.err != nil {
		return nil, sum.err
	}
	return allocate(min(c.AmountOff, sum.v), weights), nil
}

// allocate splits total (≥ 0) across weights (≥ 0) in proportion, by the
// largest remainder method: each gets the whole part of total × w / Σw,
// and the units left over go one each to the largest fractional parts,
// the earlier first on a tie. The parts sum to total when Σw > 0; with
// Σw = 0 every part is 0.
func allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	sum := new(big.Int)
	for _, w := range weights {
		sum.Add(sum, big.NewInt(w))
	}
	if sum.Sign() == 0 || total <= 0 {
		return out
	}
	rems := make([]*big.Int, len(weights))
	given := int64(0)
	for i, w := range weights {
		q, r := new(big.Int).QuoRem(new(big.Int).Mul(big.NewInt(total), big.NewInt(w)), sum, new(big.Int))
		out[i], rems[i] = q.Int64(), r // q ≤ total
		given += out[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].Cmp(rems[order[b]]) > 0 })
	// Fewer units are left over than there are weights.
	for k := int64(0); k < total-given; k++ {
		out[order[k]]++
	}
	return out
}

// checked is a running sum that fails, rather than wrap, once it does not
// fit in an int64.
type checked struct {
	v   int64
	err error
}

func (c *checked) add(x int64) {
	if c.err == nil {
		c.v, c.err = addAmount(c.v, x)
	}
}

func (c *checked) sub(x int64) {
	if c.err != nil {
		return
	}
	if x == math.MinInt64 {
		c.err = errAmountTooLarge()
		return
	}
	c.v, c.err = addAmount(c.v, -x)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// priceNewInvoice settles the discounts and taxes of inv, just built with
// its lines for sub (nil: none) and cust at now, and prices it. The lines
// billing sub's items are discountable and take the items' tax rates; inv
// takes the discounts that apply at now (sub's active ones, or else the
// customer's) and sub's default tax rates. A once discount that took
// something off is then used up: removed from sub (which the caller
// saves) or cust, and announced.
func (e *Engine) priceNewInvoice(inv *Invoice, sub *Subscription, cust *Customer, now int64) error {
	for i := range inv.Lines {
		l := &inv.Lines[i]
		if sub == nil || l.SubscriptionItem == "" || l.InvoiceItem != "" {
			continue
		}
		l.Discountable = true
		if it := sub.Item(l.SubscriptionItem); it != nil {
			l.TaxRates = slices.Clone(it.TaxRates)
		}
	}
	inv.Discounts = ownerDiscounts(sub, cust, now)
	if sub != nil {
		inv.DefaultTaxRates = slices.Clone(sub.DefaultTaxRates)
	}
	if err := e.PriceInvoice(inv); err != nil {
		return err
	}
	if len(inv.Discounts) == 0 {
		return nil
	}
	t, err := inv.Totals()
	if err != nil {
		return err
	}
	used := map[string]int64{}
	for _, d := range t.Discounts {
		used[d.Discount] = d.Amount
	}
	return e.useUpOnce(inv, used, sub, cust, now)
}

// carryItemTerms gives a line made from the invoice item ii the item's
// discounts and tax rates.
func carryItemTerms(l *InvoiceLine, ii *InvoiceItem) {
	l.Discountable = ii.Discountable
	l.Discounts = slices.Clone(ii.Discounts)
	l.ProrationDiscounts = slices.Clone(ii.ProrationDiscounts)
	l.TaxRates = slices.Clone(ii.TaxRates)
}

// prorationTerms gives ii, a proration just made for an item of sub at
// at, the item's tax rates (from sub, or from before for an item the
// change removed) and fixes its discount amounts: each percentage off of
// the discounts that apply at at (sub's, or else its customer's) and to
// the item's product, taken in order from what the previous ones left, on
// credits and debits alike. Amounts off are not prorated, nor are once
// discounts, which are for the next invoice: billclock's choices, Stripe
// documents neither.
func (e *Engine) prorationTerms(ii *InvoiceItem, sub, before *Subscription, at int64) error {
	it := sub.Item(ii.SubscriptionItem)
	if it == nil && before != nil {
		it = before.Item(ii.SubscriptionItem)
	}
	if it != nil {
		ii.TaxRates = slices.Clone(it.TaxRates)
	}
	discounts := ownerDiscounts(sub, nil, at)
	if len(discounts) == 0 {
		cust, err := e.L.Customer(sub.Customer)
		if err != nil {
			return ignoreNotFound(err)
		}
		discounts = ownerDiscounts(nil, cust, at)
	}
	product := ""
	for _, d := range discounts {
		if len(d.Coupon.AppliesToProducts) > 0 {
			p, err := e.L.Price(ii.Price)
			if err != nil {
				return err
			}
			product = p.Product
			break
		}
	}
	left := ii.Amount
	for _, d := range discounts {
		c := &d.Coupon
		if c.PercentOff == 0 || c.Duration == DurationOnce || !c.AppliesTo(product) {
			continue
		}
		a, err := c.PercentOff.Of(left)
		if err != nil {
			return err
		}
		ii.ProrationDiscounts = append(ii.ProrationDiscounts, DiscountAmount{Discount: d.ID, Amount: a})
		left -= a
	}
	return nil
}
